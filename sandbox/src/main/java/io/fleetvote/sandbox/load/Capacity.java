package io.fleetvote.sandbox.load;

import io.fleetvote.sandbox.capacity.InstanceTypes;

/**
 * Loads sized from what instances can serve, never from how fast the host is: each request of the demo app costs
 * {@code workMs} of CPU, an instance has its type's vCPUs, so one instance serves {@code vcpus * 1000 / workMs}
 * requests a second at 100 % of its capacity. A scenario that asks for 70 % of two instances behaves the same on a
 * slow 2-core machine and a fast one.
 *
 * @param vcpus  the capacity of one instance (its type's vCPUs)
 * @param workMs the CPU milliseconds one request costs
 */
public record Capacity(double vcpus, int workMs) {

  public Capacity {
    if (!(vcpus > 0) || workMs <= 0) {
      throw new IllegalArgumentException("capacity needs vcpus > 0 and workMs > 0, got " + vcpus + ", " + workMs);
    }
  }

  /** The capacity of an instance of {@code instanceType}, as the sandbox offers it. */
  public static Capacity of(String instanceType, int workMs) {
    return new Capacity(InstanceTypes.find(instanceType).orElseThrow(() -> new IllegalArgumentException(
        "the sandbox offers no instance type " + instanceType + " (it offers " + InstanceTypes.names() + ")"))
        .vcpus(), workMs);
  }

  /** Requests per second one instance serves at 100 % of its capacity. */
  public double perInstance() {
    return vcpus * 1000 / workMs;
  }

  /** Requests per second that keep {@code instances} instances at {@code share} of their capacity (at least 1). */
  public int rate(int instances, double share) {
    return (int) Math.max(1, Math.round(instances * perInstance() * share));
  }
}
