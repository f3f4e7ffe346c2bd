package io.fleetvote.coordinator.ledger;

import io.fleetvote.common.msg.MessageException;
import io.fleetvote.coordinator.ledger.LedgerEntry.Action;
import io.fleetvote.coordinator.ledger.LedgerEntry.Status;
import io.fleetvote.coordinator.scaling.Decision;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LedgerPageTest {

  @Test
  void aPageReadsBackAndABadEntryIsNamedByItsIndex() {
    Decision grow = new Decision("web", 1000, Decision.Outcome.GROW, Decision.Rule.VOTES, Decision.Counts.NONE, 2, 0,
        1, List.of(), "2 of 2 voted grow");
    LedgerEntry entry = new LedgerEntry(LedgerEntry.id(1, 1), 1, 1000, 1000, 1, "autoscaler", grow,
        new Action("launch", "fv-e1", 1, List.of(), Status.DONE, List.of(), 0, 0, null));
    LedgerEntry hold = new LedgerEntry(LedgerEntry.id(1, 2), 1, 2000, 3000, 3, "autoscaler", new Decision("web", 2000,
        Decision.Outcome.HOLD, Decision.Rule.CALM, Decision.Counts.NONE, 3, 0, 0, List.of(), "calm"), null);
    LedgerPage page = new LedgerPage(List.of(hold, entry));
    assertThat(LedgerPage.fromJson(page.toJson().encode()).toJson()).isEqualTo(page.toJson());

    JsonObject bad = page.toJson();
    bad.getJsonArray("entries").getJsonObject(1).remove("decision");
    assertThatThrownBy(() -> LedgerPage.fromJson(bad)).isInstanceOfSatisfying(MessageException.class,
        e -> assertThat(e.field()).startsWith("entries[1]"));
  }
}
