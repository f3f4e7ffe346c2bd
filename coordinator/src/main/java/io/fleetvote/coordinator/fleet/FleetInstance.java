package io.fleetvote.coordinator.fleet;

import java.time.Instant;
import java.util.Map;

/**
 * One instance of the deployment as the cloud describes it.
 *
 * @param instanceId  {@code i-...}
 * @param group       the value of its {@code fleetvote:group} tag
 * @param state       EC2's state name: pending, running, shutting-down, terminated, stopping, stopped
 * @param launchTime  when it was launched
 * @param clientToken the ClientToken of the RunInstances call that launched it (null when none)
 * @param privateIp   its private address (null while EC2 has not assigned one)
 * @param zone        its availability zone (null when not known)
 * @param tags        its tags besides deployment and group (e.g. {@code fleetvote:db-slot})
 */
public record FleetInstance(String instanceId, String group, String state, Instant launchTime, String clientToken,
                            String privateIp, String zone, Map<String, String> tags) {

  public FleetInstance {
    tags = Map.copyOf(tags);
  }

  public FleetInstance(String instanceId, String group, String state, Instant launchTime, String clientToken,
                       String privateIp) {
    this(instanceId, group, state, launchTime, clientToken, privateIp, null, Map.of());
  }

  /** Pending or running: an instance that is, or will be, capacity. */
  public boolean alive() {
    return state.equals("pending") || state.equals("running");
  }
}
