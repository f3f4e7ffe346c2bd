package io.fleetvote.common.imds;

import java.util.Map;

/**
 * Who this instance is, as its instance-metadata service says: the same on EC2 and in the sandbox.
 *
 * @param instanceId       {@code i-...}
 * @param imageId          {@code ami-...}
 * @param instanceType     e.g. {@code t3.micro}
 * @param privateIp        the address the instance's services bind to and advertise
 * @param availabilityZone e.g. {@code us-east-1a}
 * @param region           e.g. {@code us-east-1}
 * @param tags             the instance's tags (empty when tags in metadata are off)
 * @param userData         the decoded user-data, empty when there is none
 */
public record InstanceIdentity(String instanceId, String imageId, String instanceType, String privateIp,
                               String availabilityZone, String region, Map<String, String> tags, String userData) {

  public InstanceIdentity {
    tags = Map.copyOf(tags);
  }
}
