package io.fleetvote.agent;

import io.fleetvote.agent.load.LoadSample;
import io.fleetvote.common.msg.MessageException;
import io.fleetvote.common.msg.VoteKind;
import io.fleetvote.common.time.ManualClock;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class VotePolicyTest {

  private static final Instant START = Instant.parse("2026-01-01T00:00:00Z");
  /** Grow above 70 % for 3 s, shrink below 30 % for 5 s, warm 10 s after the start. */
  private static final VotePolicy.Settings SETTINGS = new VotePolicy.Settings(70, Duration.ofSeconds(3), 30,
      Duration.ofSeconds(5), Duration.ofSeconds(10));

  private final ManualClock clock = new ManualClock(START);
  private final VotePolicy policy = new VotePolicy(SETTINGS, START, clock);

  @Test
  void growsOnceEverySampleForGrowAfterWasAboveGrowAbove() {
    warmUp();
    assertThat(votes(80, 80)).containsExactly(VoteKind.NONE, VoteKind.NONE);
    assertThat(next(80)).as("samples above covering t0 (the sample before) to t0 + 3 s").isEqualTo(VoteKind.GROW);
    assertThat(next(95)).isEqualTo(VoteKind.GROW);
  }

  @Test
  void shrinksOnceEverySampleForShrinkAfterWasBelowShrinkBelow() {
    warmUp();
    assertThat(votes(10, 10, 10, 10)).containsOnly(VoteKind.NONE);
    assertThat(next(10)).isEqualTo(VoteKind.SHRINK);
  }

  @Test
  void oneSampleOnTheOtherSideOfTheThresholdRestartsTheRun() {
    warmUp();
    votes(80, 80);
    assertThat(next(50)).isEqualTo(VoteKind.NONE);
    assertThat(votes(80, 80)).containsOnly(VoteKind.NONE);
    assertThat(next(80)).isEqualTo(VoteKind.GROW);
    assertThat(next(69)).as("a grow vote ends with the first sample that is not above").isEqualTo(VoteKind.NONE);
  }

  @Test
  void betweenTheThresholdsTheVoteIsNoneWhateverCameBefore() {
    warmUp();
    votes(90, 90, 90, 90);
    assertThat(votes(50, 50, 50, 50, 50, 50, 50, 50)).as("hysteresis band").containsOnly(VoteKind.NONE);
    votes(10, 10, 10, 10, 10, 10);
    assertThat(next(31)).isEqualTo(VoteKind.NONE);
  }

  @Test
  void aSampleExactlyAtAThresholdIsNotBeyondIt() {
    warmUp();
    assertThat(votes(70, 70, 70, 70, 70, 70)).as("at growAbove").containsOnly(VoteKind.NONE);
    assertThat(votes(30, 30, 30, 30, 30, 30, 30, 30)).as("at shrinkBelow").containsOnly(VoteKind.NONE);
    assertThat(votes(70.001, 70.001, 70.001)).containsExactly(VoteKind.NONE, VoteKind.NONE, VoteKind.GROW);
  }

  @Test
  void aRunLastsFromItsFirstSampleSoAWindowThatIsNotAMultipleOfThePeriodNeedsTheNextSample() {
    warmUp();
    VotePolicy halfSecond = new VotePolicy(new VotePolicy.Settings(70, Duration.ofMillis(2500), 30,
        Duration.ofSeconds(5), Duration.ZERO), START, clock);
    assertThat(halfSecond.record(sample(80)).vote()).isEqualTo(VoteKind.NONE);
    clock.advanceMillis(1000);
    halfSecond.record(sample(80));
    clock.advanceMillis(1000);
    assertThat(halfSecond.record(sample(80)).vote()).as("2 s of 2.5").isEqualTo(VoteKind.NONE);
    clock.advanceMillis(500);
    assertThat(halfSecond.record(sample(80)).vote()).as("exactly 2.5 s").isEqualTo(VoteKind.GROW);
  }

  @Test
  void aMissingSampleBreaksTheRun() {
    warmUp();
    votes(80, 80, 80);
    clock.advanceMillis(1000);
    VotePolicy.Decision missing = policy.record(LoadSample.missing(clock.instant(), "process 42 is not running"));
    assertThat(missing.vote()).isEqualTo(VoteKind.NONE);
    assertThat(missing.warm()).isTrue();
    assertThat(votes(80, 80, 80)).containsOnly(VoteKind.NONE);
    assertThat(next(80)).isEqualTo(VoteKind.GROW);
    clock.advanceMillis(1000);
    assertThat(policy.record(LoadSample.missing(clock.instant(), "pid file gone")).vote())
        .as("a grow vote ends with a missing sample").isEqualTo(VoteKind.NONE);
  }

  @Test
  void duringWarmUpTheInstanceIsNotWarmVotesNoneAndItsSamplesStartNoRun() {
    VotePolicy.Decision first = policy.record(sample(99));
    assertThat(first.warm()).isFalse();
    assertThat(first.vote()).isEqualTo(VoteKind.NONE);
    for (int second = 1; second < 10; second++) {
      clock.advanceMillis(1000);
      assertThat(policy.record(sample(99))).isEqualTo(new VotePolicy.Decision(VoteKind.NONE, false, sample(99)));
    }
    clock.advanceMillis(1000);
    VotePolicy.Decision warm = policy.record(sample(99));
    assertThat(warm.warm()).as("warm at exactly start + warmup").isTrue();
    assertThat(warm.vote()).as("the start-up burst does not count").isEqualTo(VoteKind.NONE);
    assertThat(votes(99, 99)).containsOnly(VoteKind.NONE);
    assertThat(next(99)).isEqualTo(VoteKind.GROW);
  }

  @Test
  void aSampleOlderThanThePreviousOneRestartsTheRuns() {
    warmUp();
    votes(80, 80, 80);
    Instant earlier = clock.instant().minusMillis(500);
    assertThat(policy.record(LoadSample.measured(80, Double.NaN, earlier)).vote()).isEqualTo(VoteKind.NONE);
    assertThat(next(80)).as("the run restarted at the out-of-order sample").isEqualTo(VoteKind.NONE);
  }

  @Test
  void zeroWindowsVoteOnASingleSample() {
    VotePolicy eager = new VotePolicy(new VotePolicy.Settings(70, Duration.ZERO, 30, Duration.ZERO, Duration.ZERO),
        START, clock);
    assertThat(eager.record(sample(71)).vote()).isEqualTo(VoteKind.GROW);
    assertThat(eager.record(sample(29)).vote()).isEqualTo(VoteKind.SHRINK);
    assertThat(eager.record(sample(50)).vote()).isEqualTo(VoteKind.NONE);
  }

  @Test
  void theShrinkThresholdMustBeBelowTheGrowThreshold() {
    assertThatThrownBy(() -> new VotePolicy.Settings(50, Duration.ZERO, 50, Duration.ZERO, Duration.ZERO))
        .isInstanceOfSatisfying(MessageException.class, e -> assertThat(e.field()).isEqualTo("shrinkBelow"))
        .hasMessage("shrinkBelow: 50.0 must be below growAbove (50.0): between the two the vote is none");
    assertThatThrownBy(() -> new VotePolicy.Settings(30, Duration.ZERO, 70, Duration.ZERO, Duration.ZERO))
        .isInstanceOf(MessageException.class);
  }

  /** Moves the clock to the end of the warm-up and takes one in-band sample there, as the sampler would. */
  private void warmUp() {
    clock.advance(SETTINGS.warmup());
    assertThat(policy.record(sample(50))).isEqualTo(new VotePolicy.Decision(VoteKind.NONE, true, sample(50)));
  }

  /** One second later, a sample of {@code load}; returns the vote. */
  private VoteKind next(double load) {
    clock.advanceMillis(1000);
    return policy.record(sample(load)).vote();
  }

  private List<VoteKind> votes(double... loads) {
    List<VoteKind> votes = new ArrayList<>();
    for (double load : loads) {
      votes.add(next(load));
    }
    return votes;
  }

  private LoadSample sample(double load) {
    return LoadSample.measured(load, Double.NaN, clock.instant());
  }
}
