package io.fleetvote.coordinator.fleet;

import java.util.Map;

/**
 * One CreateVolume call the leader orders. The client token makes it idempotent: the same order sent again, by this
 * leader or its successor, creates nothing new.
 *
 * @param group       the group whose instance will hold it (tag {@code fleetvote:group})
 * @param zone        the availability zone of that instance
 * @param sizeGiB     its size
 * @param volumeType  e.g. {@code gp3}
 * @param clientToken the idempotency token, at most 64 printable ASCII characters
 * @param tags        tags besides deployment and group, which the fleet adds
 */
public record VolumeOrder(String group, String zone, int sizeGiB, String volumeType, String clientToken,
                          Map<String, String> tags) {

  public VolumeOrder {
    tags = Map.copyOf(tags);
  }
}
