package io.fleetvote.coordinator.gateway;

import io.fleetvote.coordinator.fleet.Fleet;
import io.fleetvote.coordinator.fleet.FleetInstance;
import io.fleetvote.coordinator.scaling.GroupConfig;
import io.vertx.core.Future;

import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Who an instance is, as the cloud says: its group from the deployment's DescribeInstances, its roles from that
 * group's entry in the groups file. One describe serves every attestation within {@code freshMillis} (a fleet of
 * agents reconnecting at once after a coordinator went costs a handful of EC2 calls, not one each); an instance the
 * last list does not hold (just launched) makes the next lookup describe again, at most once per
 * {@code freshMillis / 5}. Use from one context.
 */
final class FleetBindings {

  private final Fleet fleet;
  private final String deployment;
  private final Map<String, GroupConfig> groups = new HashMap<>();
  private final Clock clock;
  private final long freshMillis;
  private Map<String, FleetInstance> instances = Map.of();
  private long describedAt = Long.MIN_VALUE / 2;
  private Future<Map<String, FleetInstance>> describing;

  FleetBindings(Fleet fleet, String deployment, List<GroupConfig> groups, Clock clock, long freshMillis) {
    this.fleet = fleet;
    this.deployment = deployment;
    groups.forEach(g -> this.groups.put(g.name(), g));
    this.clock = clock;
    this.freshMillis = freshMillis;
  }

  /** The instance as the cloud lists it, alive or not; empty when it does not list it in the deployment. */
  Future<Optional<FleetInstance>> instance(String instanceId) {
    long age = clock.millis() - describedAt;
    if (age < freshMillis && (instances.containsKey(instanceId) || age < freshMillis / 5)) {
      return Future.succeededFuture(Optional.ofNullable(instances.get(instanceId)));
    }
    return describe().map(list -> Optional.ofNullable(list.get(instanceId)));
  }

  /** The binding of a live instance of a group the groups file names; empty otherwise. */
  Optional<AgentPolicy.Binding> binding(FleetInstance instance) {
    return Optional.ofNullable(groups.get(instance.group())).filter(g -> instance.alive())
        .map(g -> new AgentPolicy.Binding(instance.instanceId(), deployment, g.name(), g.agentRoles()));
  }

  private Future<Map<String, FleetInstance>> describe() {
    if (describing == null) {
      describing = fleet.describe().map(list -> {
        Map<String, FleetInstance> byId = new HashMap<>();
        list.forEach(i -> byId.put(i.instanceId(), i));
        instances = byId;
        describedAt = clock.millis();
        return (Map<String, FleetInstance>) byId;
      }).onComplete(done -> describing = null);
    }
    return describing;
  }
}
