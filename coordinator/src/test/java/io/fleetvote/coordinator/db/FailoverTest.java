package io.fleetvote.coordinator.db;

import io.fleetvote.common.msg.MessageException;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A failover's journal and its anti-flap window (its loss arithmetic: GtidsTest). */
class FailoverTest {

  @Test
  void theJournalGrowsStepByStepAndRoundTrips() {
    Failover failover = Failover.start(Failover.Kind.AUTOMATIC, 7, 1000, 1, "i-0000000000000db01",
        "i-0000000000000db02", "0-1-42", "master i-0000000000000db01 is dead")
        .step(1100, "fenced", "stopped through EC2", 7).inPhase(Failover.Phase.PROMOTING);
    assertThat(failover.id()).isEqualTo("f7-1000");
    assertThat(failover.toSlot()).isEqualTo(2);
    assertThat(failover.steps()).extracting(Failover.Step::name).containsExactly("detected", "fenced");
    Failover done = failover.promoted("0-1-40");
    assertThat(done.phase()).isEqualTo(Failover.Phase.DONE);
    assertThat(done.lost()).isEqualTo(2);
    assertThat(Failover.fromJson(done.toJson())).isEqualTo(done);
    assertThatThrownBy(() -> Failover.fromJson(done.toJson().put("oldMasterGtid", "0-1-1; DROP")))
        .isInstanceOf(MessageException.class).hasMessageContaining("oldMasterGtid");
    assertThatThrownBy(() -> Failover.fromJson(done.toJson().put("phase", "sideways")))
        .isInstanceOf(MessageException.class).hasMessageContaining("phase");
    assertThatThrownBy(() -> Failover.fromJson(done.toJson().put("steps", "none")))
        .isInstanceOf(MessageException.class).hasMessageContaining("steps");
  }

  @Test
  void aSecondAutomaticFailoverWaitsWithinTheWindowUntilAcknowledged() {
    Failover done = Failover.start(Failover.Kind.AUTOMATIC, 1, 10_000, 1, "i-0000000000000db01",
        "i-0000000000000db02", "", "dead").promoted("");
    assertThat(done.holdsOff(10_000 + 3_599_999, 3_600_000)).isTrue();
    assertThat(done.holdsOff(10_000 + 3_600_000, 3_600_000)).isFalse();
    assertThat(done.acknowledged("ops").holdsOff(10_001, 3_600_000)).isFalse();
    assertThat(done.inPhase(Failover.Phase.FENCING).holdsOff(10_001, 3_600_000)).as("under way: not a window")
        .isFalse();
    Failover switchover = Failover.start(Failover.Kind.SWITCHOVER, 1, 10_000, 1, "i-0000000000000db01",
        "i-0000000000000db02", "", "asked").promoted("");
    assertThat(switchover.holdsOff(10_001, 3_600_000)).as("a switchover is an operator's own act").isFalse();
    assertThat(switchover.steps().get(0).name()).as("its first step").isEqualTo("requested");
    assertThat(Failover.fromJson(switchover.inPhase(Failover.Phase.ABORTED).toJson()).phase())
        .isEqualTo(Failover.Phase.ABORTED);
  }
}
