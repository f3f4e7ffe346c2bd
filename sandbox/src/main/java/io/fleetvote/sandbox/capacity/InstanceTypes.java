package io.fleetvote.sandbox.capacity;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.math.BigDecimal;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The instance types the sandbox offers, each with the CPU an instance of it may use. These are the sandbox's own
 * sizes, not EC2's (a real t3.micro has 2 vCPUs): chosen so that a whole demo fleet fits in two cores.
 */
public final class InstanceTypes {

  /** One instance type: its EC2-shaped name and its capacity in vCPUs (fractions of one of the host's cores). */
  public record InstanceType(String name, double vcpus) {

    public JsonObject toJson() {
      return new JsonObject().put("name", name).put("vcpus", vcpus);
    }
  }

  /** What RunInstances launches when it names no InstanceType. */
  public static final InstanceType DEFAULT = new InstanceType("t3.micro", 0.25);

  private static final List<InstanceType> ALL = List.of(
      new InstanceType("t3.nano", 0.125),
      DEFAULT,
      new InstanceType("t3.small", 0.5),
      new InstanceType("t3.medium", 1.0),
      new InstanceType("t3.large", 2.0),
      new InstanceType("t3.xlarge", 4.0));

  private InstanceTypes() {
  }

  /** Every type, smallest first. */
  public static List<InstanceType> all() {
    return ALL;
  }

  public static Optional<InstanceType> find(String name) {
    return ALL.stream().filter(type -> type.name().equals(name)).findFirst();
  }

  /** The names, smallest first, for error messages: {@code t3.nano, t3.micro, ...}. */
  public static String names() {
    return ALL.stream().map(InstanceType::name).collect(Collectors.joining(", "));
  }

  /** Each type with its capacity, for logs: {@code t3.nano 0.125, t3.micro 0.25, ...}. */
  public static String capacities() {
    return ALL.stream().map(type -> type.name() + " " + format(type.vcpus())).collect(Collectors.joining(", "));
  }

  public static JsonArray toJson() {
    return new JsonArray(ALL.stream().map(InstanceType::toJson).toList());
  }

  /** A vCPU amount the way people and command lines write it: {@code 0.25}, {@code 1}, {@code 0.125}. */
  public static String format(double vcpus) {
    return BigDecimal.valueOf(vcpus).stripTrailingZeros().toPlainString();
  }
}
