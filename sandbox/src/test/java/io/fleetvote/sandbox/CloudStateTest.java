package io.fleetvote.sandbox;

import io.fleetvote.common.time.ManualClock;
import io.fleetvote.sandbox.CloudState.LaunchRequest;
import io.fleetvote.sandbox.capacity.InstanceTypes;
import io.fleetvote.sandbox.capacity.InstanceTypes.InstanceType;
import io.fleetvote.sandbox.ec2.Ec2Exception;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** EC2's rules as the sandbox keeps them, without a process or a port in sight: a fixed clock, counted ports. */
class CloudStateTest {

  private static final InstanceType MICRO = InstanceTypes.find("t3.micro").orElseThrow();
  private static final InstanceType MEDIUM = InstanceTypes.find("t3.medium").orElseThrow();
  private final ManualClock clock = new ManualClock(Instant.parse("2026-12-01T00:00:00Z"));
  private final Faults faults = new Faults();
  private final AtomicInteger ports = new AtomicInteger(20_000);
  private final CloudState state = newState(faults);
  private final String app = ImageCatalog.imageId("fleetvote-app");

  @Test
  void aRepeatedClientTokenReturnsTheSameReservationAndOtherParametersAreAMismatch() {
    CloudState.Launch first = state.launch(request(MICRO, 2, "token-1", "fp-a"));
    assertThat(first.launched()).hasSize(2).allMatch(i -> i.state() == InstanceState.PENDING);
    assertThat(first.launched().get(0).ports()).isNotEqualTo(first.launched().get(1).ports());

    CloudState.Launch again = state.launch(request(MICRO, 2, "token-1", "fp-a"));
    assertThat(again.reservation()).isEqualTo(first.reservation());
    assertThat(again.launched()).isEmpty();
    assertThat(state.instances()).hasSize(2);
    assertRefused(() -> state.launch(request(MICRO, 1, "token-1", "fp-b")), "IdempotentParameterMismatch");
  }

  @Test
  void vcpusAndInstancesAreCapacityAndStoppedInstancesGiveTheirsBack() {
    List<Instance> four = state.launch(request(MICRO, 4, null, "fp")).launched();
    assertThat(state.committedVcpus()).isEqualTo(1.0);
    assertRefused(() -> state.launch(request(MICRO, 1, null, "fp")), "InsufficientInstanceCapacity");

    state.stop(List.of(four.get(0).id()), false);
    state.finished(four.get(0), InstanceState.STOPPED);
    assertThat(state.committedVcpus()).isEqualTo(0.75);
    assertRefused(() -> state.launch(request(MEDIUM, 1, null, "fp")), "InsufficientInstanceCapacity");
    assertThat(state.start(List.of(four.get(0).id())).moved()).containsExactly(four.get(0));
    assertThat(four.get(0).state()).isEqualTo(InstanceState.PENDING);
    assertThat(state.capacity().getDouble("committedVcpus")).isEqualTo(1.0);
  }

  @Test
  void aTypeLargerThanTheHostIsRefused() {
    InstanceType xlarge = InstanceTypes.find("t3.xlarge").orElseThrow();
    assertRefused(() -> state.launch(request(xlarge, 1, null, "fp")), "InsufficientInstanceCapacity");
  }

  @Test
  void transitionsMoveOnlyWhatEc2WouldAndRefuseTheRest() {
    Instance one = state.launch(request(MICRO, 1, null, "fp")).launched().get(0);
    CloudState.Moves terminating = state.terminate(List.of(one.id()));
    assertThat(terminating.moved()).containsExactly(one);
    assertThat(terminating.changes()).containsExactly(new CloudState.StateChange(one.id(), InstanceState.PENDING,
        InstanceState.SHUTTING_DOWN));
    assertThat(one.stateReason()).startsWith("User initiated (2026-12-01 00:00:00 GMT)");
    assertThat(state.terminate(List.of(one.id())).moved()).as("terminating twice moves nothing again").isEmpty();
    assertRefused(() -> state.stop(List.of(one.id()), true), "IncorrectInstanceState");
    assertRefused(() -> state.start(List.of(one.id())), "IncorrectInstanceState");
    assertRefused(() -> state.terminate(List.of("i-0123456789abcdef0")), "InvalidInstanceID.NotFound");

    state.finished(one, InstanceState.TERMINATED);
    clock.advanceMillis(60_000);
    assertThat(state.forgetExpired(clock.millis())).isFalse();
    clock.advanceMillis(1);
    assertThat(state.forgetExpired(clock.millis())).isTrue();
    assertThat(state.instances()).isEmpty();
  }

  @Test
  void aForcedStopCutsAStopUnderWayShortAndSurvivesARestart() {
    Instance one = state.launch(request(MICRO, 1, null, "fp")).launched().get(0);
    state.finished(one, InstanceState.RUNNING);
    assertThat(state.stop(List.of(one.id()), false).changes()).containsExactly(
        new CloudState.StateChange(one.id(), InstanceState.RUNNING, InstanceState.STOPPING));
    assertThat(state.stop(List.of(one.id()), false).moved()).as("stopping it again moves nothing").isEmpty();
    assertRefused(() -> state.start(List.of(one.id())), "IncorrectInstanceState");

    CloudState.Moves forced = state.stop(List.of(one.id()), true);
    assertThat(forced.moved()).as("forced, it is halted again, at once").containsExactly(one);
    assertThat(forced.changes()).containsExactly(
        new CloudState.StateChange(one.id(), InstanceState.STOPPING, InstanceState.STOPPING));
    assertThat(state.stop(List.of(one.id()), true).moved()).as("forced twice").isEmpty();
    CloudState restored = newState(new Faults());
    restored.restore(state.toJson());
    assertThat(restored.find(one.id()).orElseThrow().stopForced()).as("a restarted sandbox still kills").isTrue();

    state.finished(one, InstanceState.STOPPED);
    assertThat(one.stopForced()).isFalse();
    assertThat(state.stop(List.of(one.id()), true).changes()).containsExactly(
        new CloudState.StateChange(one.id(), InstanceState.STOPPED, InstanceState.STOPPED));
  }

  @Test
  void aStartedInstanceHasANewLaunchTimeAndStartingARunningOneMovesNothing() {
    Instance one = state.launch(request(MICRO, 1, null, "fp")).launched().get(0);
    state.finished(one, InstanceState.RUNNING);
    state.stop(List.of(one.id()), true);
    state.finished(one, InstanceState.STOPPED);
    clock.advanceMillis(5_000);

    assertThat(state.start(List.of(one.id())).changes()).containsExactly(
        new CloudState.StateChange(one.id(), InstanceState.STOPPED, InstanceState.PENDING));
    assertThat(one.launchTime()).as("as EC2 does at each start").isEqualTo(clock.instant());
    state.finished(one, InstanceState.RUNNING);
    CloudState.Moves again = state.start(List.of(one.id()));
    assertThat(again.moved()).isEmpty();
    assertThat(again.changes()).containsExactly(
        new CloudState.StateChange(one.id(), InstanceState.RUNNING, InstanceState.RUNNING));
  }

  @Test
  void tagsAreLimitedPerInstanceAndTheStateReadsBackAsSaved() {
    Instance one = state.launch(request(MICRO, 1, "token-2", "fp")).launched().get(0);
    Map<String, String> many = new HashMap<>();
    for (int i = 0; i <= 50; i++) {
      many.put("k" + i, "v");
    }
    assertRefused(() -> state.createTags(List.of(one.id()), List.of(), many), "TagLimitExceeded");
    state.createTags(List.of(one.id()), List.of(), Map.of("fleetvote:group", "web"));
    assertThat(one.tags()).containsEntry("fleetvote:group", "web");

    CloudState restored = newState(new Faults());
    restored.restore(state.toJson());
    assertThat(restored.toJson()).isEqualTo(state.toJson());
    assertThat(restored.launch(request(MICRO, 1, "token-2", "fp")).launched()).as("the token survives").isEmpty();
  }

  private CloudState newState(Faults faultsOfState) {
    return new CloudState(new SandboxOptions(0, Path.of("/nonexistent"), null, "us-east-1", 4, 1.0, 60_000,
        Path.of("/nonexistent"), "java"), ImageCatalog.builtIn(), faultsOfState, clock, 2, ports::incrementAndGet);
  }

  private LaunchRequest request(InstanceType type, int count, String token, String fingerprint) {
    return new LaunchRequest(app, count, count, type, null, Map.of(), null, null, null, List.of(), token, fingerprint);
  }

  private static void assertRefused(Runnable call, String code) {
    assertThatThrownBy(call::run).isInstanceOfSatisfying(Ec2Exception.class, e -> assertThat(e.code()).isEqualTo(code));
  }
}
