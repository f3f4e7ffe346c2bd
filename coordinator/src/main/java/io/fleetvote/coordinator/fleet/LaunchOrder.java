package io.fleetvote.coordinator.fleet;

import java.util.Map;

/**
 * One RunInstances call the leader orders. The client token names the decision that ordered it
 * ({@code fv-<group>-e<epoch>-d<decision>}): the same order sent again, by this leader or its successor, launches
 * nothing new.
 *
 * @param group        the group the instances join (tag {@code fleetvote:group})
 * @param imageId      the AMI
 * @param instanceType e.g. {@code t3.micro}
 * @param count        how many instances (MinCount = MaxCount = count)
 * @param clientToken  the idempotency token, at most 64 printable ASCII characters
 * @param userData     the user-data, not yet base64-encoded (null for none)
 * @param role         the agent roles of the instances, comma-separated (tag {@code fleetvote:role}), e.g. {@code app}
 * @param tags         tags besides deployment, group and role, which the fleet adds
 * @param zone         the availability zone to launch in (null: EC2 chooses), e.g. where a data volume is
 */
public record LaunchOrder(String group, String imageId, String instanceType, int count, String clientToken,
                          String userData, String role, Map<String, String> tags, String zone) {

  public LaunchOrder {
    tags = Map.copyOf(tags);
  }

  /** An order EC2 places (no zone). */
  public LaunchOrder(String group, String imageId, String instanceType, int count, String clientToken,
                     String userData, String role, Map<String, String> tags) {
    this(group, imageId, instanceType, count, clientToken, userData, role, tags, null);
  }
}
