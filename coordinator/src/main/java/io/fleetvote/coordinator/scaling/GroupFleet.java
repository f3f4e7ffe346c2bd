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
 */
public record GroupFleet(List<FleetInstance> instances, int launchesInFlight, Set<String> leaving, long lastResizeAt) {

  public GroupFleet {
    instances = List.copyOf(instances);
    leaving = Set.copyOf(leaving);
  }
}
