package io.fleetvote.coordinator.scaling;

import io.fleetvote.common.cluster.ClusterBootstrap;
import io.fleetvote.coordinator.leader.CoordinatorQuorum;
import io.fleetvote.coordinator.ledger.DecisionLedger;
import io.fleetvote.coordinator.ledger.LedgerEntry;
import io.fleetvote.coordinator.scaling.Decision.Counts;
import io.fleetvote.coordinator.scaling.Decision.Outcome;
import io.fleetvote.coordinator.scaling.Decision.Rule;
import io.fleetvote.testkit.LocalCluster;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Holds coalesce in the ledger (a real one, on a single-member Hazelcast cluster): votes that flip back and forth,
 * as two agents that disagree make them, write one entry per group and rule, each with the latest decision.
 */
class DecisionRecorderTest {

  private static final long WINDOW = 5000;

  @TempDir
  Path dir;
  private Vertx vertx;
  private DecisionLedger ledger;
  private DecisionRecorder recorder;

  @BeforeEach
  void start() {
    vertx = LocalCluster.join(LocalCluster.single("recorder"), new CoordinatorQuorum(1)::configure);
    ledger = onContext(() -> {
      DecisionLedger created = new DecisionLedger(vertx, ClusterBootstrap.hazelcast(vertx),
          dir.resolve("ledger.jsonl"), 2000, 1000);
      return created.start().map(created);
    });
    ledger.loaded().await();
    recorder = new DecisionRecorder("c1", ledger, new OrdersInFlight(), null, new SimpleMeterRegistry(), 1000,
        group -> WINDOW);
  }

  @AfterEach
  void close() {
    if (vertx != null) {
      vertx.close().await();
    }
  }

  @Test
  void holdsThatFlipBackAndForthWriteOneEntryPerRuleWithTheLatestDecision() {
    for (int i = 0; i < 200; i++) {
      boolean grow = i % 2 == 0;
      // The calm time holds a grow, the votes fall short of a shrink: two rules, flipping every tick.
      Decision hold = new Decision("web", 1000 + i * 100L, Outcome.HOLD, grow ? Rule.CALM : Rule.VOTES,
          new Counts(grow ? 2 : 0, grow ? 0 : 1, grow ? 0 : 1, 0, 0, 2, grow ? 1.0 : 0, 0), 2, 0, 0, List.of(),
          (grow ? "grow held by the calm time" : "1 of 2 voted shrink") + " #" + i);
      onContext(() -> {
        recorder.record(hold, 1);
        return Future.succeededFuture();
      });
    }
    List<LedgerEntry> entries = ledger.query("web", null, 1000);
    assertThat(entries).hasSize(2);
    assertThat(entries).extracting(e -> e.decision().rule()).containsExactlyInAnyOrder(Rule.CALM, Rule.VOTES);
    assertThat(entries).allSatisfy(e -> assertThat(e.repeated()).isEqualTo(100));
    LedgerEntry votes = entries.stream().filter(e -> e.decision().rule() == Rule.VOTES).findFirst().orElseThrow();
    assertThat(votes.decision().reason()).isEqualTo("1 of 2 voted shrink #199");
    assertThat(votes.at()).isEqualTo(1100);
    assertThat(votes.lastAt()).isEqualTo(1000 + 199 * 100L);
  }

  @Test
  void aHoldLongAfterTheLastOfItsRuleOrOfAnotherEpochStartsANewEntry() {
    Decision first = hold(1000);
    Decision later = hold(1000 + WINDOW + 1);
    Decision soon = hold(1000 + WINDOW + 2);
    onContext(() -> {
      recorder.record(first, 1);
      recorder.record(later, 1);
      recorder.record(soon, 1);
      recorder.record(hold(1000 + WINDOW + 3), 2);
      return Future.succeededFuture();
    });
    assertThat(ledger.query("web", null, 100)).extracting(LedgerEntry::repeated).containsExactly(1, 2, 1);
  }

  @Test
  void onlyTheAutoscalersOwnHoldsOfTheSameRuleCoalesce() {
    Decision hold = hold(1000);
    LedgerEntry autoscalers = new LedgerEntry(LedgerEntry.id(1, 1), 1, 1000, 1000, 1, DecisionRecorder.AUTOSCALER,
        hold, null);
    assertThat(DecisionRecorder.coalesces(autoscalers, hold(2000), 1, WINDOW)).isTrue();
    assertThat(DecisionRecorder.coalesces(autoscalers, hold(1000 + WINDOW + 1), 1, WINDOW)).isFalse();
    assertThat(DecisionRecorder.coalesces(autoscalers, hold(2000), 2, WINDOW)).isFalse();
    LedgerEntry operators = new LedgerEntry(LedgerEntry.id(1, 2), 1, 1000, 1000, 1, "ops", hold, null);
    assertThat(DecisionRecorder.coalesces(operators, hold(2000), 1, WINDOW)).as("an operator's note").isFalse();
  }

  private static Decision hold(long at) {
    return new Decision("web", at, Outcome.HOLD, Rule.VOTES, new Counts(1, 0, 1, 0, 0, 2, 0.5, 0), 2, 0, 0,
        List.of(), "1 of 2 voted grow");
  }

  private <T> T onContext(Supplier<Future<T>> work) {
    Promise<T> done = Promise.promise();
    vertx.runOnContext(x -> work.get().onComplete(done));
    return done.future().await();
  }
}
