package io.fleetvote.load;

import io.fleetvote.sandbox.capacity.InstanceTypes;

/**
 * Loads sized from what instances can serve, never from how fast the host is: each request of the demo app costs
 * {@code workMs} of CPU plus its handling, an instance has its type's vCPUs, so one instance serves
 * {@code vcpus * 1000 / (workMs * }{@value #HANDLING}{@code )} requests a second at 100 % of its capacity. A scenario
 * that asks for 70 % of two instances behaves the same on a slow 2-core machine and a fast one.
 *
 * @param vcpus  the capacity of one instance (its type's vCPUs)
 * @param workMs the CPU milliseconds one request costs
 */
public record Capacity(double vcpus, int workMs) {

  /**
   * What a request costs beyond its work, as a factor: the HTTP server's handling and the JVM's own threads, all
   * within the instance's quota. Measured: 11.5-12.2 ms of the cgroup's CPU per request of 10 ms of work at 15
   * requests/s on a t3.micro (quarter-core quota, 20 ms period).
   */
  public static final double HANDLING = 1.2;

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
    return vcpus * 1000 / (workMs * HANDLING);
  }

  /** Requests per second that keep {@code instances} instances at {@code share} of their capacity (at least 1). */
  public int rate(int instances, double share) {
    return (int) Math.max(1, Math.round(instances * perInstance() * share));
  }
}
