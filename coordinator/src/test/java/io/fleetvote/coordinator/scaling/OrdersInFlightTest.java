package io.fleetvote.coordinator.scaling;

import io.fleetvote.coordinator.ledger.LedgerEntry;
import io.fleetvote.coordinator.ledger.LedgerEntry.Action;
import io.fleetvote.coordinator.ledger.LedgerEntry.Status;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class OrdersInFlightTest {

  private final OrdersInFlight inFlight = new OrdersInFlight();

  @Test
  void aLaunchCountsUntilItFinishes() {
    LedgerEntry launch = entry(1, "launch", 2, List.of());
    inFlight.started(launch);
    assertThat(inFlight.launches("web")).isEqualTo(2);
    assertThat(inFlight.leaving()).isEmpty();
    inFlight.finished(launch);
    assertThat(inFlight.launches("web")).isZero();
  }

  @Test
  void aTerminationsVictimsLeaveUntilItFinishes() {
    LedgerEntry terminate = entry(2, "terminate", 1, List.of("i-0000000000000000a"));
    inFlight.started(terminate);
    assertThat(inFlight.launches("web")).isZero();
    assertThat(inFlight.isLeaving("i-0000000000000000a")).isTrue();
    assertThat(inFlight.replacing("web")).isFalse();
    inFlight.finished(terminate);
    assertThat(inFlight.leaving()).isEmpty();
  }

  @Test
  void aReplacementStopsCountingAsALaunchOnceLaunchedAndHoldsItsGroupUntilTheVictimIsGone() {
    LedgerEntry replace = entry(3, "replace", 1, List.of("i-0000000000000000a"));
    inFlight.started(replace);
    assertThat(inFlight.launches("web")).isEqualTo(1);
    assertThat(inFlight.replacing("web")).isTrue();
    assertThat(inFlight.isLeaving("i-0000000000000000a")).isTrue();

    inFlight.replacementLaunched(replace);
    inFlight.replacementLaunched(replace);
    assertThat(inFlight.launches("web")).isZero();
    assertThat(inFlight.replacing("web")).isTrue();

    inFlight.finished(replace);
    assertThat(inFlight.launches("web")).isZero();
    assertThat(inFlight.replacing("web")).isFalse();
    assertThat(inFlight.leaving()).isEmpty();
  }

  @Test
  void aReplacementWhoseLaunchFailedGivesItsLaunchBack() {
    LedgerEntry replace = entry(4, "replace", 1, List.of("i-0000000000000000a"));
    inFlight.started(replace);
    inFlight.finished(replace);
    assertThat(inFlight.launches("web")).isZero();
    assertThat(inFlight.replacing("web")).isFalse();
  }

  private static LedgerEntry entry(long seq, String kind, int count, List<String> instances) {
    Decision decision = new Decision("web", 1000, kind.equals("terminate") ? Decision.Outcome.SHRINK
        : kind.equals("replace") ? Decision.Outcome.REPLACE : Decision.Outcome.GROW, Decision.Rule.VOTES,
        Decision.Counts.NONE, 2, 0, kind.equals("terminate") ? -count : kind.equals("launch") ? count : 0, instances,
        "test");
    return new LedgerEntry(LedgerEntry.id(1, seq), 1, 1000, 1000, 1, "autoscaler", decision,
        new Action(kind, kind.equals("terminate") ? null : "fv-token", count, instances, Status.ORDERED, List.of(), 0,
            0, null));
  }
}
