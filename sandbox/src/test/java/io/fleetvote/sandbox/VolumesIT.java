package io.fleetvote.sandbox;

import io.fleetvote.common.imds.BlockDevices;
import io.fleetvote.common.imds.InstanceMetadataClient;
import io.fleetvote.testkit.Await;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.ec2.model.AttachVolumeResponse;
import software.amazon.awssdk.services.ec2.model.CreateVolumeResponse;
import software.amazon.awssdk.services.ec2.model.Ec2Exception;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.ResourceType;
import software.amazon.awssdk.services.ec2.model.Tag;
import software.amazon.awssdk.services.ec2.model.TagSpecification;
import software.amazon.awssdk.services.ec2.model.Volume;
import software.amazon.awssdk.services.ec2.model.VolumeAttachmentState;
import software.amazon.awssdk.services.ec2.model.VolumeState;
import software.amazon.awssdk.services.ec2.model.VolumeType;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * EBS volumes through the real AWS SDK v2, waiters included: a volume is a directory that outlives the instances it is
 * attached to, and reaches each the way EC2's does (its device in the instance metadata's block-device mapping,
 * resolved by {@link BlockDevices}, the agents' own code).
 */
class VolumesIT extends SandboxIT {

  private static final Vertx VERTX = Vertx.vertx();

  @AfterAll
  static void closeVertx() {
    VERTX.close().await();
  }

  @Test
  void aVolumeKeepsItsDataAcrossInstancesAndReachesEachAtItsDevice() throws Exception {
    CreateVolumeResponse created = ec2.createVolume(b -> b.availabilityZone("us-east-1a").size(20)
        .volumeType(VolumeType.GP3).tagSpecifications(volumeTags("fleetvote:deployment", "it", "fleetvote:role", "db")));
    String volumeId = created.volumeId();
    assertThat(created.state()).isEqualTo(VolumeState.CREATING);
    assertThat(created.size()).isEqualTo(20);
    assertThat(created.iops()).isEqualTo(3000);
    assertThat(created.throughput()).isEqualTo(125);
    assertThat(created.tags()).contains(Tag.builder().key("fleetvote:role").value("db").build());
    It.waiter(ec2).waitUntilVolumeAvailable(b -> b.volumeIds(volumeId));

    String first = runSleeper();
    AttachVolumeResponse attached = ec2.attachVolume(b -> b.volumeId(volumeId).instanceId(first).device("/dev/sdf"));
    assertThat(attached.state()).isEqualTo(VolumeAttachmentState.ATTACHING);
    // As on EC2, the volume is in-use from the start of the attachment: what is awaited is the attachment's state.
    It.waiter(ec2).waitUntilVolumeInUse(b -> b.volumeIds(volumeId));
    Volume inUse = attached(volumeId);
    assertThat(inUse.attachments()).singleElement().satisfies(a -> {
      assertThat(a.instanceId()).isEqualTo(first);
      assertThat(a.device()).isEqualTo("/dev/sdf");
      assertThat(a.state()).isEqualTo(VolumeAttachmentState.ATTACHED);
      assertThat(a.deleteOnTermination()).isFalse();
    });
    assertThat(ec2.describeVolumes(b -> b.filters(Filter.builder().name("attachment.instance-id").values(first).build(),
        Filter.builder().name("tag:fleetvote:role").values("d*").build())).volumes())
        .extracting(Volume::volumeId).containsExactly(volumeId);

    Path data = dataDir(first, "/dev/sdf");
    Files.writeString(data.resolve("page.txt"), "written on " + first);

    ec2.terminateInstances(b -> b.instanceIds(first));
    It.waiter(ec2).waitUntilInstanceTerminated(b -> b.instanceIds(first));
    It.waiter(ec2).waitUntilVolumeAvailable(b -> b.volumeIds(volumeId));
    assertThat(volume(volumeId).attachments()).as("a volume outlives its instance").isEmpty();

    String second = runSleeper();
    ec2.attachVolume(b -> b.volumeId(volumeId).instanceId(second).device("/dev/sdg"));
    attached(volumeId);
    assertThat(Files.readString(dataDir(second, "/dev/sdg").resolve("page.txt"))).isEqualTo("written on " + first);

    assertRefused(() -> ec2.deleteVolume(b -> b.volumeId(volumeId)), "VolumeInUse");
    ec2.detachVolume(b -> b.volumeId(volumeId).instanceId(second).force(true));
    It.waiter(ec2).waitUntilVolumeAvailable(b -> b.volumeIds(volumeId));
    assertThat(metadata(second).get("meta-data/block-device-mapping").await()).isEqualTo("ami\nroot");
    ec2.deleteVolume(b -> b.volumeId(volumeId));
    It.waiter(ec2).waitUntilVolumeDeleted(b -> b.volumeIds(volumeId));
    assertRefused(() -> ec2.describeVolumes(b -> b.volumeIds(volumeId)), "InvalidVolume.NotFound");
    Path volumeDir = stateDir.resolve("volumes").resolve(volumeId);
    Await.until("the deleted volume's directory to go", Duration.ofSeconds(10),
        () -> !Files.exists(volumeDir));
    ec2.terminateInstances(b -> b.instanceIds(second));
  }

  @Test
  void aVolumeStaysAttachedThroughAStopAndItsDataIsThereOnceTheInstanceStartsAgain() throws Exception {
    String volumeId = ec2.createVolume(b -> b.availabilityZone("us-east-1a").size(1)).volumeId();
    It.waiter(ec2).waitUntilVolumeAvailable(b -> b.volumeIds(volumeId));
    String id = runSleeper();
    ec2.attachVolume(b -> b.volumeId(volumeId).instanceId(id).device("/dev/sdf"));
    attached(volumeId);
    Files.writeString(dataDir(id, "/dev/sdf").resolve("page.txt"), "written before the stop");
    List<JsonObject> before = It.processes(admin, id);
    try {
      ec2.stopInstances(b -> b.instanceIds(id).force(true));
      It.waiter(ec2).waitUntilInstanceStopped(b -> b.instanceIds(id));
      before.forEach(p -> assertThat(It.alive(p)).as("process %s after the stop", p).isFalse());
      assertThat(attached(volumeId).attachments().get(0).instanceId()).isEqualTo(id);

      ec2.startInstances(b -> b.instanceIds(id));
      It.waiter(ec2).waitUntilInstanceRunning(b -> b.instanceIds(id));
      assertThat(Files.readString(dataDir(id, "/dev/sdf").resolve("page.txt"))).isEqualTo("written before the stop");
    } finally {
      It.kill(before);
      It.kill(It.processes(admin, id));
    }
    ec2.terminateInstances(b -> b.instanceIds(id));
  }

  @Test
  void misuseGetsEc2sErrorsAndDescribePagesAndFilters() {
    String instance = runSleeper();
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      int size = i + 1;
      ids.add(ec2.createVolume(b -> b.availabilityZone("us-east-1b").size(size)
          .tagSpecifications(volumeTags("batch", "paging"))).volumeId());
    }
    It.waiter(ec2).waitUntilVolumeAvailable(b -> b.volumeIds(ids));
    List<String> paged = ec2.describeVolumesPaginator(b -> b.maxResults(5)
            .filters(Filter.builder().name("tag:batch").values("paging").build()))
        .volumes().stream().map(Volume::volumeId).toList();
    assertThat(paged).containsExactlyElementsOf(ids);
    assertThat(ec2.describeVolumes(b -> b.filters(Filter.builder().name("size").values("3", "4").build(),
        Filter.builder().name("status").values("available").build())).volumes())
        .extracting(Volume::volumeId).containsExactly(ids.get(2), ids.get(3));

    assertRefused(() -> ec2.createVolume(b -> b.size(8)), "MissingParameter");
    assertRefused(() -> ec2.createVolume(b -> b.availabilityZone("us-east-1a").size(0)), "InvalidParameterValue");
    assertRefused(() -> ec2.createVolume(b -> b.availabilityZone("us-east-1a").size(8).volumeType(VolumeType.IO1)),
        "MissingParameter");
    assertRefused(() -> ec2.attachVolume(b -> b.volumeId(ids.get(0)).instanceId(instance).device("/dev/sdf")),
        "InvalidVolume.ZoneMismatch");
    assertRefused(() -> ec2.detachVolume(b -> b.volumeId(ids.get(0))), "IncorrectState");
    assertRefused(() -> ec2.describeVolumes(b -> b.volumeIds("vol-0123456789abcdef0", ids.get(0))),
        "InvalidVolume.NotFound");
    String busy = ec2.createVolume(b -> b.availabilityZone("us-east-1a").size(1)).volumeId();
    It.waiter(ec2).waitUntilVolumeAvailable(b -> b.volumeIds(busy));
    ec2.attachVolume(b -> b.volumeId(busy).instanceId(instance).device("/dev/sdf"));
    assertRefused(() -> ec2.attachVolume(b -> b.volumeId(busy).instanceId(instance).device("/dev/sdh")), "VolumeInUse");
    String other = ec2.createVolume(b -> b.availabilityZone("us-east-1a").size(1)).volumeId();
    It.waiter(ec2).waitUntilVolumeAvailable(b -> b.volumeIds(other));
    assertRefused(() -> ec2.attachVolume(b -> b.volumeId(other).instanceId(instance).device("/dev/sdf")),
        "InvalidParameterValue");
    assertRefused(() -> ec2.attachVolume(b -> b.volumeId(other).instanceId("i-0123456789abcdef0").device("/dev/sdg")),
        "InvalidInstanceID.NotFound");

    ec2.createTags(b -> b.resources(other).tags(Tag.builder().key("note").value("</value>&").build()));
    assertThat(volume(other).tags()).contains(Tag.builder().key("note").value("</value>&").build());
    String token = "volume-token-1";
    String once = ec2.createVolume(b -> b.availabilityZone("us-east-1a").size(2).clientToken(token)).volumeId();
    assertThat(ec2.createVolume(b -> b.availabilityZone("us-east-1a").size(2).clientToken(token)).volumeId())
        .isEqualTo(once);
    assertRefused(() -> ec2.createVolume(b -> b.availabilityZone("us-east-1a").size(3).clientToken(token)),
        "IdempotentParameterMismatch");
    ec2.terminateInstances(b -> b.instanceIds(instance));
  }

  private static String runSleeper() {
    String id = ec2.runInstances(b -> b.imageId(SLEEPER).minCount(1).maxCount(1)
        .placement(p -> p.availabilityZone("us-east-1a"))).instances().get(0).instanceId();
    It.waiter(ec2).waitUntilInstanceRunning(b -> b.instanceIds(id));
    return id;
  }

  /** Where the instance finds the volume at {@code device}: through its metadata and its device directory. */
  private static Path dataDir(String instanceId, String device) {
    InstanceMetadataClient imds = metadata(instanceId);
    assertThat(BlockDevices.ebsDevices(imds).await()).contains(device);
    JsonObject view = admin.instance(instanceId);
    BlockDevices.Resolution resolved = BlockDevices.resolve(Path.of(view.getString("dir")).resolve("dev"), device,
        Path.of("/proc/mounts"));
    assertThat(resolved.path()).as(resolved.why()).isPresent();
    return resolved.path().get();
  }

  private static InstanceMetadataClient metadata(String instanceId) {
    return new InstanceMetadataClient(VERTX, URI.create(admin.instance(instanceId).getString("metadataEndpoint")));
  }

  private static Volume attached(String id) {
    return Await.until("volume " + id + " attached", Duration.ofSeconds(30), () -> volume(id),
        v -> v.attachments().size() == 1 && v.attachments().get(0).state() == VolumeAttachmentState.ATTACHED);
  }

  private static Volume volume(String id) {
    return ec2.describeVolumes(b -> b.volumeIds(id)).volumes().get(0);
  }

  private static TagSpecification volumeTags(String... keyValues) {
    Tag[] tags = new Tag[keyValues.length / 2];
    for (int i = 0; i < tags.length; i++) {
      tags[i] = Tag.builder().key(keyValues[2 * i]).value(keyValues[2 * i + 1]).build();
    }
    return TagSpecification.builder().resourceType(ResourceType.VOLUME).tags(tags).build();
  }

  private static void assertRefused(Runnable call, String code) {
    assertThatThrownBy(call::run).isInstanceOfSatisfying(Ec2Exception.class,
        e -> assertThat(e.awsErrorDetails().errorCode()).isEqualTo(code));
  }
}
