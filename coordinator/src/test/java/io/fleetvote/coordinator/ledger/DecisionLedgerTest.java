package io.fleetvote.coordinator.ledger;

import io.fleetvote.common.cluster.ClusterBootstrap;
import io.fleetvote.coordinator.leader.CoordinatorQuorum;
import io.fleetvote.coordinator.ledger.LedgerEntry.Action;
import io.fleetvote.coordinator.ledger.LedgerEntry.Status;
import io.fleetvote.coordinator.scaling.Decision;
import io.fleetvote.coordinator.scaling.Decision.Counts;
import io.fleetvote.coordinator.scaling.Decision.Outcome;
import io.fleetvote.coordinator.scaling.Decision.Rule;
import io.fleetvote.testkit.Await;
import io.fleetvote.testkit.LocalCluster;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/** The ledger on a real (single-member) Hazelcast cluster: queries, unfinished orders, restore from the journal. */
class DecisionLedgerTest {

  private static final Counts COUNTS = new Counts(2, 0, 0, 0, 0, 2, 1.0, 0);

  @TempDir
  Path dir;
  private Vertx vertx;

  @AfterEach
  void close() {
    if (vertx != null) {
      vertx.close().await();
    }
  }

  @Test
  void entriesAreQueriedNewestFirstAndTheUnfinishedOnesAreFound() {
    DecisionLedger ledger = start(dir.resolve("ledger.jsonl"));
    LedgerEntry grow = entry(1, 1, "web", Outcome.GROW, 1000, Status.DONE);
    LedgerEntry hold = entry(1, 2, "web", Outcome.HOLD, 2000, null);
    LedgerEntry launching = entry(2, 1, "api", Outcome.GROW, 3000, Status.RETRYING);
    onContext(() -> ledger.put(grow).compose(x -> ledger.put(hold)).compose(x -> ledger.put(launching)));

    assertThat(ledger.query(null, null, 10)).extracting(LedgerEntry::id)
        .containsExactly(launching.id(), hold.id(), grow.id());
    assertThat(ledger.query("web", "hold", 10)).extracting(LedgerEntry::id).containsExactly(hold.id());
    assertThat(ledger.unfinished()).extracting(LedgerEntry::id).containsExactly(launching.id());
    assertThat(ledger.lastResizeAt("web")).isEqualTo(1000);
    assertThat(ledger.lastResizeAt("shop")).isZero();
    // Ids are handed out after those written, and never twice: two components leading in one epoch share the ledger.
    assertThat(ledger.nextId(1)).isEqualTo(LedgerEntry.id(1, 3));
    assertThat(ledger.nextId(1)).isEqualTo(LedgerEntry.id(1, 4));
    assertThat(ledger.nextId(3)).isEqualTo(LedgerEntry.id(3, 1));
    assertThat(ledger.highestEpoch()).isEqualTo(2);
  }

  @Test
  void aClusterThatLostEverythingGetsTheJournalBack() {
    Path journal = dir.resolve("ledger.jsonl");
    DecisionLedger first = start(journal);
    LedgerEntry grow = entry(4, 7, "web", Outcome.GROW, 1000, Status.ORDERED);
    onContext(() -> first.put(grow).compose(x -> first.put(grow.withAction(grow.action()
        .done(List.of("i-0000000000000000a"), 1500, 4)))));
    Await.until("the journal to have both lines", Duration.ofSeconds(10), () -> lines(journal) == 2);
    vertx.close().await();

    DecisionLedger second = start(journal);
    assertThat(second.query(null, null, 10)).singleElement().satisfies(e -> {
      assertThat(e.id()).isEqualTo(grow.id());
      assertThat(e.action().status()).isEqualTo(Status.DONE);
      assertThat(e.action().instances()).containsExactly("i-0000000000000000a");
    });
  }

  private DecisionLedger start(Path journal) {
    vertx = LocalCluster.join(LocalCluster.single("ledger"), new CoordinatorQuorum(1)::configure);
    DecisionLedger ledger = onContext(() -> {
      DecisionLedger created = new DecisionLedger(vertx, ClusterBootstrap.hazelcast(vertx), journal, 2000, 100);
      return created.start().map(created);
    });
    ledger.loaded().await();
    return ledger;
  }

  private <T> T onContext(Supplier<Future<T>> work) {
    Promise<T> done = Promise.promise();
    vertx.runOnContext(x -> work.get().onComplete(done));
    return done.future().await();
  }

  private static long lines(Path file) {
    try {
      return Files.readAllLines(file).stream().filter(l -> !l.isBlank()).count();
    } catch (IOException e) {
      return 0;
    }
  }

  private static LedgerEntry entry(long epoch, long seq, String group, Outcome outcome, long at, Status status) {
    int change = outcome == Outcome.GROW ? 1 : 0;
    Decision decision = new Decision(group, at, outcome, outcome == Outcome.HOLD ? Rule.CALM : Rule.VOTES, COUNTS, 2,
        0, change, List.of(), "because");
    Action action = status == null ? null
        : new Action("launch", "fv-" + group + "-" + LedgerEntry.id(epoch, seq), 1, List.of(), status, List.of(), 0, 0,
            null);
    return new LedgerEntry(LedgerEntry.id(epoch, seq), epoch, at, at, 1, "autoscaler", decision, action);
  }
}
