package io.fleetvote.common.link;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class SilenceTest {

  @Test
  void aJudgeOnTimeCountsTheWholeSilence() {
    Silence silence = new Silence(250);
    long heard = 1000;
    long mark = silence.mark();
    for (long now = 1000; now <= 4000; now += 250) {
      silence.checked(now);
    }
    assertThat(silence.since(4000, heard, mark)).isEqualTo(3000);
    assertThat(silence.stalledMillis()).isZero();
  }

  @Test
  void theTimeTheJudgeWasHeldUpDoesNotCountAgainstThePeer() {
    Silence silence = new Silence(250);
    silence.checked(1000);
    long heard = 1100;
    long mark = silence.mark();
    silence.checked(1250);
    // A 5 s pause (GC, a frozen process): the next check comes 5,250 ms after the last one.
    silence.checked(6500);
    assertThat(silence.stalledMillis()).isEqualTo(5000);
    assertThat(silence.since(6500, heard, mark)).isEqualTo(400);
    // A peer heard after the pause is judged from then alone.
    long later = silence.mark();
    silence.checked(6750);
    assertThat(silence.since(6750, 6600, later)).isEqualTo(150);
  }

  @Test
  void aJudgeLateAtEveryCheckStillFindsAGonePeerWithinItsOwnChecks() {
    Silence silence = new Silence(250);
    long heard = 0;
    long mark = silence.mark();
    silence.checked(0);
    long now = 0;
    int checks = 0;
    // Each check 750 ms late: a period of the peer's silence still counts per check.
    while (silence.since(now, heard, mark) <= 3000) {
      now += 1000;
      silence.checked(now);
      checks++;
    }
    assertThat(checks).isEqualTo(13);
    assertThat(now).isEqualTo(13_000);
  }

  @Test
  void aPeriodMustBePositive() {
    assertThatThrownBy(() -> new Silence(0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("positive");
  }
}
