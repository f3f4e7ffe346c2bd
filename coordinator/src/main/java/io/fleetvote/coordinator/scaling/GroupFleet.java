package io.fleetvote.coordinator.scaling;

import io.fleetvote.coordinator.fleet.FleetInstance;

import java.util.List;
import java.util.Set;

/**
 * What the leader knows of a group's instances at a tick, besides their votes.
 *
 * @param instances        the group's instances that are pending or running
 * @param launchesInFlight instances ordered by RunInstances calls that have not answered yet
 * @param leaving          instances being drained or terminated: no longer capacity, never chosen again
 * @param lastResizeAt     when the group last grew or shrank, epoch milliseconds (0: never)
 * @param unhealthy        instances failing their health now (app failing, agent silent): the first to go in a
 *                         scale-in
 * @param drained          instances an operator took out of rotation: not counted in the group until undrained
 */
public record GroupFleet(List<FleetInstance> instances, int launchesInFlight, Set<String> leaving, long lastResizeAt,
                         Set<String> unhealthy, Set<String> drained) {

  public GroupFleet {
    instances = List.copyOf(instances);
    leaving = Set.copyOf(leaving);
    unhealthy = Set.copyOf(unhealthy);
    drained = Set.copyOf(drained);
  }

  /** A group with no unhealthy and no drained instance. */
  public GroupFleet(List<FleetInstance> instances, int launchesInFlight, Set<String> leaving, long lastResizeAt) {
    this(instances, launchesInFlight, leaving, lastResizeAt, Set.of(), Set.of());
  }

  /** Counts in the group: alive, neither leaving nor drained. */
  public boolean counts(FleetInstance instance) {
    return instance.alive() && !leaving.contains(instance.instanceId()) && !drained.contains(instance.instanceId());
  }
}
