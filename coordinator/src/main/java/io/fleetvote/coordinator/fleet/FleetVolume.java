package io.fleetvote.coordinator.fleet;

import java.util.Map;

/**
 * One EBS volume of the deployment as the cloud describes it.
 *
 * @param volumeId   {@code vol-...}
 * @param state      EC2's state name: creating, available, in-use, deleting, deleted, error
 * @param zone       its availability zone (it attaches only to instances there)
 * @param sizeGiB    its size
 * @param instanceId the instance it is attached or attaching to (null when none)
 * @param attachment the attachment's state: attaching, attached, detaching (null when none)
 * @param device     the device it is attached as, e.g. {@code /dev/sdf} (null when none)
 * @param tags       its tags besides deployment (group, {@code fleetvote:db-slot}, ...)
 */
public record FleetVolume(String volumeId, String state, String zone, int sizeGiB, String instanceId,
                          String attachment, String device, Map<String, String> tags) {

  public FleetVolume {
    tags = Map.copyOf(tags);
  }

  /** Neither being deleted nor broken: a volume that holds, or will hold, data. */
  public boolean usable() {
    return state.equals("creating") || state.equals("available") || state.equals("in-use");
  }
}
