package io.fleetvote.coordinator.scaling;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ClientTokenTest {

  @Test
  void theSameEntryOfANewLedgerGetsANewTokenAndALongGroupNameIsCutToEc2sLimit() {
    String first = DecisionRecorder.token("web", "e00000001-00000002", 1_764_000_000_000L);
    String again = DecisionRecorder.token("web", "e00000001-00000002", 1_764_000_600_000L);
    assertThat(first).startsWith("fv-e00000001-00000002-").endsWith("-web");
    assertThat(again).as("entry e1-2 of a later cluster").isNotEqualTo(first);
    assertThat(DecisionRecorder.token("w".repeat(40), "e00000001-00000002", 1_764_000_000_000L)).hasSize(64);
  }
}
