package io.fleetvote.coordinator.scaling;

import io.fleetvote.common.msg.LeadershipState;
import io.fleetvote.common.msg.ScalingState;
import io.fleetvote.common.msg.Vote;
import io.fleetvote.common.msg.VoteKind;
import io.fleetvote.common.time.ManualClock;
import io.fleetvote.coordinator.fleet.FleetInstance;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class GroupStatesTest {

  private static final Instant T0 = Instant.parse("2026-11-25T12:00:00Z");
  private final ManualClock clock = new ManualClock(T0);

  @Test
  void aGroupShowsItsAliveMembersVotesHealthAndCalmTimeLeft() {
    GroupConfig web = new GroupConfig(new JsonObject().put("name", "web").put("imageId", "ami-0123456789abcdef0")
        .put("min", 1).put("max", 4).put("calmTimeMs", 60_000));
    VoteTally tally = new VoteTally(web, clock, 5000);
    HealthTracker health = new HealthTracker(3000, clock.millis());
    FleetInstance a = FleetViewTest.instance("i-0000000000000000a", "web", "running", clock.millis());
    FleetInstance b = FleetViewTest.instance("i-0000000000000000b", "web", "running", clock.millis());
    FleetInstance gone = FleetViewTest.instance("i-0000000000000000c", "web", "terminated", clock.millis());
    clock.advanceMillis(10_000);
    tally.record(new Vote(a.instanceId(), "demo", "web", VoteKind.GROW, 72.5, true, true, 0, clock.millis(), 3000),
        Optional.of("web"));
    tally.record(new Vote(b.instanceId(), "demo", "web", VoteKind.NONE, 30, true, false, 0, clock.millis(), 3000),
        Optional.of("web"));
    clock.advanceMillis(2000);
    long resizedAt = clock.millis() - 20_000;
    GroupControl control = GroupControl.NONE.withDrained(b.instanceId(), true, "ana", clock.millis());

    ScalingState.GroupState state = GroupStates.of(tally, List.of(b, a, gone), 1, resizedAt, control, health,
        clock.millis());

    assertThat(state.size()).isEqualTo(2);
    assertThat(state.instances()).containsExactly(a.instanceId(), b.instanceId());
    assertThat(state.launchesInFlight()).isEqualTo(1);
    assertThat(state.calmLeftMs()).isEqualTo(40_000);
    assertThat(state.votes()).isEqualTo(new ScalingState.Votes(1, 0, 1, 0));
    assertThat(state.drained()).containsExactly(b.instanceId());
    ScalingState.Member first = state.members().stream().filter(m -> m.instanceId().equals(a.instanceId()))
        .findFirst().orElseThrow();
    assertThat(first.vote()).isEqualTo("grow");
    assertThat(first.load()).isEqualTo(72.5);
    assertThat(first.protectedFromScaleIn()).isTrue();
    assertThat(first.drained()).isFalse();
    // No heartbeat was ever heard of it: the health says so, since the tracker started.
    assertThat(first.health()).contains("no heartbeat");
    assertThat(first.unhealthySince()).isNotNull();

    clock.advanceMillis(2000);
    ScalingState.GroupState later = GroupStates.of(tally, List.of(a, b), 0, resizedAt, GroupControl.NONE, health,
        clock.millis());
    assertThat(later.votes()).isEqualTo(new ScalingState.Votes(0, 0, 0, 2));
    assertThat(later.members()).allSatisfy(m -> assertThat(m.load()).isNull());

    // What crosses to the API and the dashboard reads back as it was sent.
    ScalingState sent = new ScalingState("127.0.0.1:9100", new LeadershipState(true, 3, true, "holds the lease",
        "127.0.0.1:9100", 3), List.of(state, later));
    assertThat(ScalingState.fromJson(sent.toJson().encode())).isEqualTo(sent);
    assertThat(sent.toJson().getJsonArray("groups").getJsonObject(0).getJsonArray("members").getJsonObject(0)
        .containsKey("protected")).isTrue();
  }
}
