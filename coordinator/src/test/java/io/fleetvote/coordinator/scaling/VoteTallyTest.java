package io.fleetvote.coordinator.scaling;

import io.fleetvote.common.msg.Vote;
import io.fleetvote.common.msg.VoteKind;
import io.fleetvote.common.time.ManualClock;
import io.fleetvote.coordinator.fleet.FleetInstance;
import io.fleetvote.coordinator.scaling.Decision.Outcome;
import io.fleetvote.coordinator.scaling.Decision.Rule;
import io.fleetvote.coordinator.scaling.VoteTally.Admission;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class VoteTallyTest {

  private static final Instant T0 = Instant.parse("2026-11-25T12:00:00Z");
  private final ManualClock clock = new ManualClock(T0);
  private final List<FleetInstance> instances = new ArrayList<>();
  private final Set<String> leaving = new HashSet<>();
  private final Set<String> unhealthy = new HashSet<>();
  private final Set<String> drained = new HashSet<>();
  private int launchesInFlight;
  private long lastResizeAt;

  @Test
  void twoVotersAt51PercentBothMustVoteGrowAt50OneIsEnough() {
    VoteTally tally = tally(group().put("decisionThreshold", 0.51));
    String a = running("i-0000000000000000a", 0);
    String b = running("i-0000000000000000b", 0);
    clock.advanceMillis(1_000_000);
    vote(tally, a, VoteKind.GROW, 80);
    vote(tally, b, VoteKind.NONE, 50);
    assertThat(decide(tally)).isEmpty();
    vote(tally, b, VoteKind.GROW, 75);
    assertThat(decide(tally)).hasValueSatisfying(d -> {
      assertThat(d.outcome()).isEqualTo(Outcome.GROW);
      assertThat(d.rule()).isEqualTo(Rule.VOTES);
      assertThat(d.change()).isEqualTo(1);
      assertThat(d.counts().growShare()).isEqualTo(1.0);
    });

    VoteTally half = tally(group().put("decisionThreshold", 0.50));
    vote(half, a, VoteKind.GROW, 80);
    vote(half, b, VoteKind.NONE, 50);
    assertThat(decide(half)).hasValueSatisfying(d -> assertThat(d.outcome()).isEqualTo(Outcome.GROW));
  }

  @Test
  void expiredVotesNoLongerCount() {
    VoteTally tally = tally(group());
    String a = running("i-0000000000000000a", 0);
    clock.advanceMillis(1_000_000);
    vote(tally, a, VoteKind.GROW, 90);
    clock.advanceMillis(2_999);
    assertThat(decide(tally)).isPresent();
    clock.advanceMillis(1);
    assertThat(decide(tally)).isEmpty();
    assertThat(tally.liveVote(a)).isEmpty();
  }

  @Test
  void warmingInstancesNeitherVoteNorCount() {
    VoteTally tally = tally(group().put("minVoters", 2));
    String a = running("i-0000000000000000a", 0);
    String b = running("i-0000000000000000b", 0);
    clock.advanceMillis(1_000_000);
    vote(tally, a, VoteKind.GROW, 90);
    tally.record(vote(b, VoteKind.GROW, 90, false), Optional.of("web"));
    assertThat(decide(tally)).hasValueSatisfying(d -> {
      assertThat(d.outcome()).isEqualTo(Outcome.HOLD);
      assertThat(d.rule()).isEqualTo(Rule.WARMUP);
      assertThat(d.counts().eligible()).isEqualTo(1);
      assertThat(d.counts().warming()).isEqualTo(1);
    });
    vote(tally, b, VoteKind.GROW, 90);
    assertThat(decide(tally)).hasValueSatisfying(d -> assertThat(d.outcome()).isEqualTo(Outcome.GROW));
  }

  @Test
  void tooFewEligibleVotersIsAQuorumHold() {
    VoteTally tally = tally(group().put("minVoters", 3));
    String a = running("i-0000000000000000a", 0);
    running("i-0000000000000000b", 0);
    clock.advanceMillis(1_000_000);
    vote(tally, a, VoteKind.GROW, 90);
    assertThat(decide(tally)).hasValueSatisfying(d -> {
      assertThat(d.rule()).isEqualTo(Rule.QUORUM);
      assertThat(d.counts().silent()).isEqualTo(1);
    });
  }

  @Test
  void calmTimeHoldsUntilItHasPassed() {
    VoteTally tally = tally(group().put("calmTimeMs", 5000));
    String a = running("i-0000000000000000a", 0);
    clock.advanceMillis(1_000_000);
    lastResizeAt = clock.millis() - 1000;
    vote(tally, a, VoteKind.GROW, 90);
    assertThat(decide(tally)).hasValueSatisfying(d -> {
      assertThat(d.rule()).isEqualTo(Rule.CALM);
      assertThat(d.reason()).contains("4000 ms left");
    });
    clock.advanceMillis(4000);
    vote(tally, a, VoteKind.GROW, 90);
    assertThat(decide(tally)).hasValueSatisfying(d -> assertThat(d.rule()).isEqualTo(Rule.VOTES));
  }

  @Test
  void boundsHoldAtMaxAndAtMinAndCapTheStep() {
    VoteTally tally = tally(group().put("min", 1).put("max", 3).put("resizeUpBy", 5));
    String a = running("i-0000000000000000a", 0);
    String b = running("i-0000000000000000b", 0);
    clock.advanceMillis(1_000_000);
    vote(tally, a, VoteKind.GROW, 90);
    vote(tally, b, VoteKind.GROW, 90);
    assertThat(decide(tally)).hasValueSatisfying(d -> assertThat(d.change()).as("capped by max").isEqualTo(1));
    String c = running("i-0000000000000000c", 0);
    vote(tally, c, VoteKind.GROW, 90);
    assertThat(decide(tally)).hasValueSatisfying(d -> assertThat(d.rule()).isEqualTo(Rule.BOUNDS));

    VoteTally atMin = tally(group().put("min", 3).put("max", 5));
    for (String id : List.of(a, b, c)) {
      vote(atMin, id, VoteKind.SHRINK, 1);
    }
    assertThat(decide(atMin)).hasValueSatisfying(d -> {
      assertThat(d.outcome()).isEqualTo(Outcome.HOLD);
      assertThat(d.rule()).isEqualTo(Rule.BOUNDS);
      assertThat(d.reason()).contains("at min (3)");
    });
  }

  @Test
  void launchedInstancesThatHaveNotVotedArePendingCapacityUntilTheirBootTimeout() {
    VoteTally tally = tally(group().put("bootTimeoutMs", 60_000));
    String a = running("i-0000000000000000a", 0);
    clock.advanceMillis(1_000_000);
    running("i-0000000000000000b", clock.millis() - 10_000);
    vote(tally, a, VoteKind.GROW, 90);
    assertThat(decide(tally)).hasValueSatisfying(d -> {
      assertThat(d.rule()).isEqualTo(Rule.PENDING);
      assertThat(d.pending()).isEqualTo(1);
    });
    clock.advanceMillis(50_000);
    vote(tally, a, VoteKind.GROW, 90);
    assertThat(decide(tally)).as("boot timed out").hasValueSatisfying(d -> assertThat(d.rule()).isEqualTo(Rule.VOTES));

    launchesInFlight = 1;
    assertThat(decide(tally)).hasValueSatisfying(d -> {
      assertThat(d.rule()).isEqualTo(Rule.PENDING);
      assertThat(d.size()).isEqualTo(3);
    });
  }

  @Test
  void aWarmVoteEndsPendingEvenBeforeTheBootTimeout() {
    VoteTally tally = tally(group());
    clock.advanceMillis(1_000_000);
    String a = running("i-0000000000000000a", clock.millis() - 5_000);
    vote(tally, a, VoteKind.GROW, 90);
    assertThat(decide(tally)).hasValueSatisfying(d -> {
      assertThat(d.rule()).isEqualTo(Rule.VOTES);
      assertThat(d.pending()).isZero();
    });
  }

  @Test
  void shrinkPicksTheLeastBusyAndNeverAProtectedInstance() {
    VoteTally tally = tally(group().put("min", 1).put("resizeDownBy", 1));
    String busy = running("i-0000000000000000a", 0);
    String idle = running("i-0000000000000000b", 0);
    String idleButProtected = running("i-0000000000000000c", 0);
    clock.advanceMillis(1_000_000);
    vote(tally, busy, VoteKind.SHRINK, 20);
    vote(tally, idle, VoteKind.SHRINK, 5);
    tally.record(new Vote(idleButProtected, "demo", "web", VoteKind.SHRINK, 1, true, true, 0, clock.millis(), 3000),
        Optional.of("web"));
    assertThat(decide(tally)).hasValueSatisfying(d -> {
      assertThat(d.outcome()).isEqualTo(Outcome.SHRINK);
      assertThat(d.victims()).containsExactly(idle);
      assertThat(d.change()).isEqualTo(-1);
    });
    leaving.add(idle);
    leaving.add(busy);
    assertThat(decide(tally)).hasValueSatisfying(d -> assertThat(d.rule()).as("only the protected one is left, "
        + "but min is 1").isEqualTo(Rule.BOUNDS));
  }

  @Test
  void whenEveryCandidateProtectsItselfTheShrinkIsHeld() {
    VoteTally tally = tally(group().put("min", 0));
    String a = running("i-0000000000000000a", 0);
    clock.advanceMillis(1_000_000);
    tally.record(new Vote(a, "demo", "web", VoteKind.SHRINK, 1, true, true, 0, clock.millis(), 3000), Optional.of("web"));
    assertThat(decide(tally)).hasValueSatisfying(d -> assertThat(d.rule()).isEqualTo(Rule.PROTECTED));
  }

  @Test
  void boundsActWithoutVotes() {
    VoteTally tally = tally(group().put("min", 2).put("max", 3));
    assertThat(decide(tally)).hasValueSatisfying(d -> {
      assertThat(d.outcome()).isEqualTo(Outcome.GROW);
      assertThat(d.rule()).isEqualTo(Rule.BELOW_MIN);
      assertThat(d.change()).isEqualTo(2);
    });
    launchesInFlight = 2;
    assertThat(decide(tally)).as("launches in flight count").isEmpty();
    launchesInFlight = 0;
    String voter = running("i-0000000000000000a", 0);
    String quiet = running("i-0000000000000000b", 0);
    running("i-0000000000000000c", 0);
    running("i-0000000000000000d", 0);
    clock.advanceMillis(1_000_000);
    vote(tally, voter, VoteKind.NONE, 50);
    assertThat(decide(tally)).hasValueSatisfying(d -> {
      assertThat(d.rule()).isEqualTo(Rule.ABOVE_MAX);
      assertThat(d.victims()).hasSize(1).doesNotContain(voter);
      assertThat(d.victims().get(0)).isNotEqualTo(voter);
      assertThat(List.of(quiet, "i-0000000000000000c", "i-0000000000000000d")).contains(d.victims().get(0));
    });
  }

  @Test
  void growWinsWhenBothThresholdsAreReached() {
    VoteTally tally = tally(group().put("decisionThreshold", 0.3).put("shrinkThreshold", 0.3));
    String a = running("i-0000000000000000a", 0);
    String b = running("i-0000000000000000b", 0);
    String c = running("i-0000000000000000c", 0);
    clock.advanceMillis(1_000_000);
    vote(tally, a, VoteKind.GROW, 90);
    vote(tally, b, VoteKind.SHRINK, 5);
    vote(tally, c, VoteKind.NONE, 40);
    assertThat(decide(tally)).hasValueSatisfying(d -> assertThat(d.outcome()).isEqualTo(Outcome.GROW));
  }

  @Test
  void forgedVotesAreRefusedWithTheirReason() {
    VoteTally tally = tally(group());
    String a = running("i-0000000000000000a", 0);
    clock.advanceMillis(1_000_000);
    assertThat(tally.record(vote(a, VoteKind.GROW, 90, true), Optional.empty())).isEqualTo(Admission.UNKNOWN_INSTANCE);
    assertThat(tally.record(vote(a, VoteKind.GROW, 90, true), Optional.of("api"))).isEqualTo(Admission.WRONG_GROUP);
    assertThat(tally.record(new Vote(a, "demo", "api", VoteKind.GROW, 90, true, false, 0, clock.millis(), 3000),
        Optional.of("web"))).isEqualTo(Admission.WRONG_GROUP);
    assertThat(tally.record(new Vote(a, "demo", "web", VoteKind.GROW, 90, true, false, 0, clock.millis() + 60_000,
        3000), Optional.of("web"))).isEqualTo(Admission.FROM_THE_FUTURE);
    assertThat(tally.record(vote(a, VoteKind.NONE, 50, true), Optional.of("web"))).isEqualTo(Admission.ACCEPTED);
    assertThat(tally.record(new Vote(a, "demo", "web", VoteKind.GROW, 90, true, false, 0, clock.millis() - 1, 3000),
        Optional.of("web"))).isEqualTo(Admission.STALE);
    assertThat(decide(tally)).as("none of the refused votes counted").isEmpty();
  }

  @Test
  void aScaleInTakesAnUnhealthyInstanceFirstThenOneWithoutALiveVoteThenTheLeastBusy() {
    VoteTally tally = tally(group().put("min", 1));
    String busy = running("i-0000000000000000a", 0);
    String idle = running("i-0000000000000000b", 0);
    String sick = running("i-0000000000000000c", 0);
    String silent = running("i-0000000000000000d", 0);
    clock.advanceMillis(1_000_000);
    vote(tally, busy, VoteKind.SHRINK, 9);
    vote(tally, idle, VoteKind.SHRINK, 1);
    vote(tally, sick, VoteKind.SHRINK, 5);
    assertThat(decide(tally)).hasValueSatisfying(d -> assertThat(d.victims()).containsExactly(silent));
    unhealthy.add(sick);
    assertThat(decide(tally)).hasValueSatisfying(d -> {
      assertThat(d.victims()).as("unhealthy before silent and least busy").containsExactly(sick);
      assertThat(d.reason()).contains("unhealthy first");
    });
    unhealthy.clear();
    instances.removeIf(i -> i.instanceId().equals(silent));
    assertThat(decide(tally)).hasValueSatisfying(d -> {
      assertThat(d.victims()).containsExactly(idle);
      assertThat(d.reason()).contains("the least busy");
    });
  }

  @Test
  void aDrainedInstanceNoLongerCountsTowardsTheMinimumAndNeverVotes() {
    VoteTally tally = tally(group().put("min", 2).put("shrinkThreshold", 0.5));
    String a = running("i-0000000000000000a", 0);
    String b = running("i-0000000000000000b", 0);
    clock.advanceMillis(1_000_000);
    vote(tally, a, VoteKind.NONE, 50);
    vote(tally, b, VoteKind.SHRINK, 0);
    assertThat(decide(tally)).as("at min, b's shrink vote cannot act")
        .hasValueSatisfying(d -> assertThat(d.rule()).isEqualTo(Rule.BOUNDS));
    drained.add(b);
    assertThat(decide(tally)).hasValueSatisfying(d -> {
      assertThat(d.outcome()).isEqualTo(Outcome.GROW);
      assertThat(d.rule()).isEqualTo(Rule.BELOW_MIN);
      assertThat(d.size()).isEqualTo(1);
      assertThat(d.counts().shrink()).as("the drained instance's vote is not counted").isZero();
    });
    assertThat(tally.victimsFor(new GroupFleet(instances, 0, leaving, 0, unhealthy, drained), 2))
        .as("a drained instance is never a scale-in victim").containsExactly(a);
  }

  @Test
  void calmTimeAlsoCountsFromWhenALaunchedInstanceCameIntoService() {
    VoteTally tally = tally(group().put("calmTimeMs", 6000).put("max", 5).put("decisionThreshold", 0.5));
    String a = running("i-0000000000000000a", 0);
    clock.advanceMillis(1_000_000);
    String fresh = running("i-0000000000000000b", clock.millis());
    lastResizeAt = clock.millis();
    clock.advanceMillis(9000);
    vote(tally, fresh, VoteKind.NONE, 20);
    vote(tally, a, VoteKind.GROW, 95);
    clock.advanceMillis(1000);
    assertThat(decide(tally)).as("the resize is 10 s old, but b took its share only 1 s ago").hasValueSatisfying(d -> {
      assertThat(d.rule()).isEqualTo(Rule.CALM);
      assertThat(d.reason()).contains("5000 ms left of 6000 ms; " + fresh + " came into service 1000 ms ago");
    });
    clock.advanceMillis(5000);
    vote(tally, fresh, VoteKind.GROW, 70);
    vote(tally, a, VoteKind.GROW, 95);
    assertThat(decide(tally)).hasValueSatisfying(d -> assertThat(d.outcome()).isEqualTo(Outcome.GROW));
  }

  @Test
  void launchesUnderWayNeverMakeTheGroupEndAnInstanceThatRuns() {
    VoteTally tally = tally(group().put("min", 1).put("max", 2));
    String a = running("i-0000000000000000a", 0);
    running("i-0000000000000000b", 0);
    clock.advanceMillis(1_000_000);
    vote(tally, a, VoteKind.NONE, 50);
    launchesInFlight = 1;
    assertThat(decide(tally)).as("2 running + 1 launching above max 2: nothing ends").isEmpty();
    running("i-0000000000000000c", clock.millis());
    launchesInFlight = 0;
    assertThat(decide(tally)).hasValueSatisfying(d -> {
      assertThat(d.rule()).isEqualTo(Rule.ABOVE_MAX);
      assertThat(d.victims()).as("not the booting one").doesNotContain("i-0000000000000000c").hasSize(1);
    });
  }

  @Test
  void decisionsSurviveTheRoundTripThroughJson() {
    VoteTally tally = tally(group().put("min", 2));
    Decision decision = decide(tally).orElseThrow();
    assertThat(Decision.fromJson(decision.toJson())).isEqualTo(decision);
    assertThat(decision.toJson().getString("rule")).isEqualTo("below-min");
  }

  private VoteTally tally(JsonObject group) {
    return new VoteTally(new GroupConfig(group), clock, 5000);
  }

  private static JsonObject group() {
    return new JsonObject().put("name", "web").put("imageId", "ami-0123456789abcdef0").put("min", 1).put("max", 10)
        .put("calmTimeMs", 0);
  }

  private String running(String id, long launchedAtMillis) {
    instances.add(new FleetInstance(id, "web", "running", Instant.ofEpochMilli(launchedAtMillis), null, "127.0.0.1"));
    return id;
  }

  private void vote(VoteTally tally, String id, VoteKind kind, double load) {
    assertThat(tally.record(vote(id, kind, load, true), Optional.of("web"))).isEqualTo(Admission.ACCEPTED);
  }

  private Vote vote(String id, VoteKind kind, double load, boolean warm) {
    return new Vote(id, "demo", "web", kind, load, warm, false, 0, clock.millis(), 3000);
  }

  private Optional<Decision> decide(VoteTally tally) {
    return tally.decide(new GroupFleet(instances, launchesInFlight, leaving, lastResizeAt, unhealthy, drained));
  }
}
