package io.fleetvote.sandbox;

import io.fleetvote.common.time.ManualClock;
import io.fleetvote.sandbox.CloudState.LaunchRequest;
import io.fleetvote.sandbox.capacity.InstanceTypes;
import io.fleetvote.sandbox.ec2.Ec2Exception;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** EC2's rules over volumes as the sandbox keeps them: states, errors for every misuse, tokens, what is saved. */
class VolumesTest {

  private final ManualClock clock = new ManualClock(Instant.parse("2026-12-01T00:00:00Z"));
  private final AtomicInteger ports = new AtomicInteger(20_000);
  private final CloudState state = new CloudState(new SandboxOptions(0, Path.of("/nonexistent"), null, "us-east-1",
      8, 2.0, 60_000, Path.of("/nonexistent"), "java"), ImageCatalog.builtIn(), new Faults(), clock, 2,
      ports::incrementAndGet);
  private final Volumes volumes = state.volumes();

  @Test
  void aVolumeIsCreatingThenAvailableAndARepeatedTokenIsTheSameVolume() {
    Volume volume = volumes.create(request(20, "us-east-1a", "gp3", "token-1", "fp"));
    assertThat(volume.state()).isEqualTo(Volume.State.CREATING);
    assertThat(volume.id()).matches("vol-[0-9a-f]{17}");
    assertThat(volume.iops()).isEqualTo(3000);
    assertThat(volume.throughput()).isEqualTo(125);
    assertThat(volumes.create(request(20, "us-east-1a", "gp3", "token-1", "fp"))).isSameAs(volume);
    assertRefused(() -> volumes.create(request(30, "us-east-1a", "gp3", "token-1", "fp-other")),
        "IdempotentParameterMismatch");

    assertThat(volumes.settle(volume.id())).contains("created");
    assertThat(volume.state()).isEqualTo(Volume.State.AVAILABLE);
    assertThat(volumes.settle(volume.id())).as("nothing is passing any more").isEmpty();
    Volume gp2 = volumes.create(request(50, "us-east-1b", null, null, "fp"));
    assertThat(gp2.volumeType()).isEqualTo("gp2");
    assertThat(gp2.iops()).isEqualTo(150);
  }

  @Test
  void everyBadCreateIsRefusedWithEc2sCode() {
    assertRefused(() -> volumes.create(request(20, "us-east-1z", "gp3", null, "fp")), "InvalidParameterValue");
    assertRefused(() -> volumes.create(request(20, "us-east-1a", "floppy", null, "fp")), "InvalidParameterValue");
    assertRefused(() -> volumes.create(request(0, "us-east-1a", "gp3", null, "fp")), "InvalidParameterValue");
    assertRefused(() -> volumes.create(request(16_385, "us-east-1a", "gp3", null, "fp")), "InvalidParameterValue");
    assertRefused(() -> volumes.create(request(100, "us-east-1a", "st1", null, "fp")), "InvalidParameterValue");
    assertRefused(() -> volumes.create(request(20, "us-east-1a", "io1", null, "fp")), "MissingParameter");
    assertRefused(() -> volumes.create(new Volumes.CreateRequest(20, "us-east-1a", "gp2", 500, null, null, Map.of(),
        null, "fp")), "InvalidParameterCombination");
    assertRefused(() -> volumes.create(new Volumes.CreateRequest(20, "us-east-1a", "gp3", 100, null, null, Map.of(),
        null, "fp")), "InvalidParameterValue");
    assertRefused(() -> volumes.create(new Volumes.CreateRequest(20, "us-east-1a", "gp3", null, 5000, null, Map.of(),
        null, "fp")), "InvalidParameterValue");
    assertRefused(() -> volumes.create(new Volumes.CreateRequest(20, "us-east-1a", "gp3", null, null,
        "snap-0123456789abcdef0", Map.of(), null, "fp")), "InvalidSnapshot.NotFound");
    assertThat(volumes.all()).as("nothing made by a refused call").isEmpty();
  }

  @Test
  void attachDetachAndDeleteGoThroughEc2sStatesAndRefuseEveryMisuse() {
    Instance running = runningInstance();
    Volume volume = available(20, "us-east-1a");
    assertRefused(() -> volumes.attach("vol-0123456789abcdef0", Optional.of(running), running.id(), "/dev/sdf"),
        "InvalidVolume.NotFound");
    assertRefused(() -> volumes.attach(volume.id(), Optional.empty(), "i-0123456789abcdef0", "/dev/sdf"),
        "InvalidInstanceID.NotFound");
    assertRefused(() -> volumes.attach(volume.id(), Optional.of(running), running.id(), "/dev/xvda"),
        "InvalidParameterValue");
    assertRefused(() -> volumes.attach(volume.id(), Optional.of(running), running.id(), "sdf; rm -rf /"),
        "InvalidParameterValue");
    Volume elsewhere = available(20, "us-east-1b");
    assertRefused(() -> volumes.attach(elsewhere.id(), Optional.of(running), running.id(), "/dev/sdf"),
        "InvalidVolume.ZoneMismatch");
    Volume creating = volumes.create(request(20, "us-east-1a", "gp3", null, "fp"));
    assertRefused(() -> volumes.attach(creating.id(), Optional.of(running), running.id(), "/dev/sdf"),
        "IncorrectState");
    assertRefused(() -> volumes.detach(volume.id(), null, null, false), "IncorrectState");

    volumes.attach(volume.id(), Optional.of(running), running.id(), "/dev/sdf");
    assertThat(volume.state()).isEqualTo(Volume.State.IN_USE);
    assertThat(volume.attachment().state()).isEqualTo(Volume.AttachState.ATTACHING);
    assertThat(volumes.attachedTo(running.id())).as("not attached until it settles").isEmpty();
    assertRefused(() -> volumes.attach(volume.id(), Optional.of(running), running.id(), "/dev/sdg"), "VolumeInUse");
    assertRefused(() -> volumes.delete(volume.id()), "VolumeInUse");
    assertThat(volumes.settle(volume.id())).contains("attached");
    assertThat(volumes.attachedTo(running.id())).containsExactly(volume);
    volumes.settle(creating.id());
    assertRefused(() -> volumes.attach(creating.id(), Optional.of(running), running.id(), "/dev/sdf"),
        "InvalidParameterValue");

    assertRefused(() -> volumes.detach(volume.id(), "i-0123456789abcdef0", null, false), "InvalidAttachment.NotFound");
    assertRefused(() -> volumes.detach(volume.id(), running.id(), "/dev/sdh", false), "InvalidAttachment.NotFound");
    volumes.detach(volume.id(), running.id(), "/dev/sdf", true);
    assertThat(volume.attachment().state()).isEqualTo(Volume.AttachState.DETACHING);
    assertThat(volumes.settle(volume.id())).contains("detached");
    assertThat(volume.state()).isEqualTo(Volume.State.AVAILABLE);
    assertThat(volume.attachment()).isNull();

    volumes.delete(volume.id());
    assertThat(volume.state()).isEqualTo(Volume.State.DELETING);
    assertRefused(() -> volumes.attach(volume.id(), Optional.of(running), running.id(), "/dev/sdf"),
        "IncorrectState");
    assertThat(volumes.settle(volume.id())).contains("deleted");
    assertThat(volumes.find(volume.id())).isEmpty();
    assertRefused(() -> volumes.delete(volume.id()), "InvalidVolume.NotFound");
  }

  @Test
  void aStoppedInstanceTakesAVolumeAPendingOneDoesNotAndATerminatedOneLetsItsVolumesGo() {
    Instance pending = state.launch(launch()).launched().get(0);
    Volume volume = available(20, "us-east-1a");
    assertRefused(() -> volumes.attach(volume.id(), Optional.of(pending), pending.id(), "/dev/sdf"),
        "IncorrectInstanceState");
    state.finished(pending, InstanceState.RUNNING);
    state.stop(List.of(pending.id()), false);
    state.finished(pending, InstanceState.STOPPED);
    volumes.attach(volume.id(), Optional.of(pending), pending.id(), "/dev/sdf");
    volumes.settle(volume.id());

    state.terminate(List.of(pending.id()));
    state.finished(pending, InstanceState.TERMINATED);
    assertThat(volume.state()).as("a volume outlives its instance").isEqualTo(Volume.State.AVAILABLE);
    assertThat(volume.attachment()).isNull();
    assertRefused(() -> volumes.attach(volume.id(), Optional.of(pending), pending.id(), "/dev/sdf"),
        "IncorrectInstanceState");
  }

  @Test
  void volumesTheirAttachmentsAndTokensSurviveARestart() {
    Instance running = runningInstance();
    Volume volume = available(20, "us-east-1a");
    volumes.tag(List.of(volume), Map.of("fleetvote:role", "db"));
    volumes.attach(volume.id(), Optional.of(running), running.id(), "/dev/sdf");
    Volume token = volumes.create(request(8, "us-east-1a", "gp3", "token-9", "fp"));

    CloudState restored = new CloudState(new SandboxOptions(0, Path.of("/nonexistent"), null, "us-east-1", 8, 2.0,
        60_000, Path.of("/nonexistent"), "java"), ImageCatalog.builtIn(), new Faults(), clock, 2,
        ports::incrementAndGet);
    restored.restore(state.toJson());
    Volume back = restored.volumes().find(volume.id()).orElseThrow();
    assertThat(back.tags()).containsEntry("fleetvote:role", "db");
    assertThat(back.attachment()).isEqualTo(volume.attachment());
    assertThat(back.state()).isEqualTo(Volume.State.IN_USE);
    assertThat(restored.volumes().create(request(8, "us-east-1a", "gp3", "token-9", "fp")).id())
        .isEqualTo(token.id());
    assertThat(restored.volumes().create(request(8, "us-east-1a", "gp3", null, "fp")).seq())
        .as("ids and order go on").isGreaterThan(token.seq());
  }

  private Instance runningInstance() {
    Instance instance = state.launch(launch()).launched().get(0);
    state.finished(instance, InstanceState.RUNNING);
    return instance;
  }

  private Volume available(int size, String zone) {
    Volume volume = volumes.create(request(size, zone, "gp3", null, "fp"));
    volumes.settle(volume.id());
    return volume;
  }

  private LaunchRequest launch() {
    return new LaunchRequest(ImageCatalog.imageId("fleetvote-app"), 1, 1, InstanceTypes.find("t3.micro").orElseThrow(),
        null, Map.of(), "us-east-1a", null, null, List.of(), null, "fp");
  }

  private static Volumes.CreateRequest request(int size, String zone, String type, String token, String fingerprint) {
    return new Volumes.CreateRequest(size, zone, type, null, null, null, Map.of(), token, fingerprint);
  }

  private static void assertRefused(Runnable call, String code) {
    assertThatThrownBy(call::run).isInstanceOfSatisfying(Ec2Exception.class, e -> assertThat(e.code()).isEqualTo(code));
  }
}
