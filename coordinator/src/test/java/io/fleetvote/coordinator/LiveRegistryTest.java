package io.fleetvote.coordinator;

import io.fleetvote.common.msg.AgentHeartbeat;
import io.fleetvote.common.msg.Role;
import io.fleetvote.common.time.ManualClock;
import io.fleetvote.coordinator.LiveRegistry.Entry;
import io.fleetvote.coordinator.LiveRegistry.Outcome;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class LiveRegistryTest {

  static final String A = "i-0000000000000000a";
  static final String B = "i-0000000000000000b";
  static final String C = "i-0000000000000000c";
  private static final long T0 = 1_700_000_000_000L;

  private final ManualClock clock = new ManualClock(Instant.ofEpochMilli(T0));
  private final LiveRegistry registry = new LiveRegistry("demo", 3000, 5000, clock);

  /** A heartbeat of deployment demo, group web. */
  static AgentHeartbeat beat(String instanceId, long sentAt) {
    return beat(instanceId, "demo", sentAt);
  }

  static AgentHeartbeat beat(String instanceId, String deployment, long sentAt) {
    return new AgentHeartbeat(instanceId, deployment, "web", Set.of(Role.APP), "127.0.0.1", 18080, 19110, 0,
        sentAt - 1000, sentAt, true, "", false);
  }

  @Test
  void instancesJoinOnTheirFirstHeartbeatAndAreListedById() {
    assertThat(registry.accept(beat(C, T0))).isEqualTo(Outcome.JOINED);
    assertThat(registry.accept(beat(A, T0))).isEqualTo(Outcome.JOINED);
    assertThat(registry.accept(beat(B, T0))).isEqualTo(Outcome.JOINED);
    assertThat(ids(registry.live())).containsExactly(A, B, C);
    assertThat(registry.live().get(0)).isEqualTo(new Entry(beat(A, T0), T0));
  }

  @Test
  void anEntryExpiresExpireAfterMillisAfterItsLastHeartbeatWasReceived() {
    registry.accept(beat(A, T0));
    clock.advanceMillis(2999);
    assertThat(ids(registry.live())).containsExactly(A);
    assertThat(registry.expire()).isEmpty();

    clock.advanceMillis(1);
    assertThat(registry.live()).isEmpty();
    assertThat(registry.expire()).containsExactly(A);
    assertThat(registry.expire()).isEmpty();
  }

  @Test
  void eachHeartbeatRenewsTheEntryAndReplacesWhatItSays() {
    registry.accept(beat(A, T0));
    clock.advanceMillis(2000);
    AgentHeartbeat moved = new AgentHeartbeat(A, "demo", "api", Set.of(Role.APP, Role.LB), "127.0.0.1", 18081,
        19111, 0, T0 - 1000, T0 + 2000, true, "", false);
    assertThat(registry.accept(moved)).isEqualTo(Outcome.RENEWED);
    clock.advanceMillis(2500);
    assertThat(registry.live()).containsExactly(new Entry(moved, T0 + 2000));
    assertThat(registry.millisSinceLastSeen(registry.live().get(0))).isEqualTo(2500);
    assertThat(registry.expire()).isEmpty();
  }

  @Test
  void onlyExpiredEntriesAreRemoved() {
    registry.accept(beat(A, T0));
    clock.advanceMillis(1000);
    registry.accept(beat(B, T0 + 1000));
    clock.advanceMillis(2000);
    assertThat(registry.expire()).containsExactly(A);
    assertThat(ids(registry.live())).containsExactly(B);
  }

  @Test
  void heartbeatsOfAnotherDeploymentAreRejected() {
    Outcome outcome = registry.accept(beat(A, "other", T0));
    assertThat(outcome).isEqualTo(Outcome.WRONG_DEPLOYMENT);
    assertThat(outcome.accepted()).isFalse();
    assertThat(outcome.reason()).isEqualTo("deployment");
    assertThat(registry.live()).isEmpty();
  }

  @Test
  void heartbeatsSentBeyondTheToleranceAheadOfTheCoordinatorsClockAreRejected() {
    Outcome outcome = registry.accept(beat(A, T0 + 5001));
    assertThat(outcome).isEqualTo(Outcome.FROM_THE_FUTURE);
    assertThat(outcome.reason()).isEqualTo("future");
    assertThat(registry.live()).isEmpty();
    assertThat(registry.accept(beat(A, T0 + 5000))).isEqualTo(Outcome.JOINED);
  }

  @Test
  void anOlderHeartbeatThanTheOneHeldIsStaleAndRenewsNothing() {
    registry.accept(beat(A, T0));
    clock.advanceMillis(2000);
    Outcome outcome = registry.accept(beat(A, T0 - 1));
    assertThat(outcome).isEqualTo(Outcome.STALE);
    assertThat(outcome.reason()).isEqualTo("stale");
    assertThat(registry.live()).containsExactly(new Entry(beat(A, T0), T0));
    assertThat(registry.accept(beat(A, T0))).as("the same heartbeat again").isEqualTo(Outcome.RENEWED);
  }

  @Test
  void aHeartbeatForAnExpiredEntryNotYetRemovedRejoinsWhateverItsSentAt() {
    registry.accept(beat(A, T0));
    clock.advanceMillis(3000);
    assertThat(registry.accept(beat(A, T0 - 10_000))).isEqualTo(Outcome.REJOINED);
    assertThat(registry.live()).containsExactly(new Entry(beat(A, T0 - 10_000), T0 + 3000));
    assertThat(registry.expire()).isEmpty();
  }

  @Test
  void acceptedOutcomesHaveNoReason() {
    for (Outcome outcome : List.of(Outcome.JOINED, Outcome.REJOINED, Outcome.RENEWED)) {
      assertThat(outcome.accepted()).isTrue();
      assertThat(outcome.reason()).isNull();
    }
  }

  private static List<String> ids(List<Entry> entries) {
    return entries.stream().map(e -> e.heartbeat().instanceId()).toList();
  }
}
