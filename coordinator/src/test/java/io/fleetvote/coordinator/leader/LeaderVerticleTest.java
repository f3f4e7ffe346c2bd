package io.fleetvote.coordinator.leader;

import io.fleetvote.common.Addresses;
import io.fleetvote.coordinator.CoordinatorOptions;
import io.fleetvote.testkit.Await;
import io.fleetvote.testkit.LocalCluster;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The coordinator's one leadership and ledger on a real Hazelcast member: its changes reach a component on another
 * context through the local bus, and two components writing in one epoch never get the same entry id.
 */
class LeaderVerticleTest {

  @Test
  void leadershipIsPublishedLocallyAndTheLedgerHandsOutEachIdOnce(@TempDir Path dir) {
    CoordinatorOptions options = new CoordinatorOptions().setDataDir(dir.toString()).setLeaseMillis(3000)
        .setRenewMillis(500).setCluster(LocalCluster.single("leader"));
    Vertx vertx = LocalCluster.join(options.getCluster(), new CoordinatorQuorum(1)::configure);
    try {
      publishedAndShared(vertx, options);
    } finally {
      vertx.close().await();
    }
  }

  private static void publishedAndShared(Vertx vertx, CoordinatorOptions options) {
    List<JsonObject> changes = new CopyOnWriteArrayList<>();
    vertx.eventBus().<JsonObject>localConsumer(Addresses.LEADERSHIP, m -> changes.add(m.body())).completion().await();
    LeaderVerticle leader = new LeaderVerticle("c1", options);
    String deployment = vertx.deployVerticle(leader).await();

    Await.until("the leadership to be published", Duration.ofSeconds(30), () -> !changes.isEmpty());
    assertThat(changes.get(0).getBoolean("leader")).isTrue();
    assertThat(changes.get(0).getLong("epoch")).isEqualTo(1);
    assertThat(leader.leadership().leads(1)).isTrue();
    assertThat(leader.leadership().leads(2)).isFalse();

    leader.ledger().loaded().await();
    // Two components (threads) take ids of the same epoch at once: none twice.
    List<String> ids = new CopyOnWriteArrayList<>();
    List<Thread> writers = IntStream.range(0, 2).mapToObj(i -> new Thread(() -> {
      for (int n = 0; n < 500; n++) {
        ids.add(leader.ledger().nextId(1));
      }
    })).toList();
    writers.forEach(Thread::start);
    writers.forEach(LeaderVerticleTest::join);
    assertThat(ids).hasSize(1000).doesNotHaveDuplicates();

    vertx.undeploy(deployment).await();
    Await.until("the end of leadership to be published", Duration.ofSeconds(30), () -> changes.size() == 2);
    assertThat(changes.get(1).getBoolean("leader")).isFalse();
    assertThat(changes.get(1).getString("why")).isEqualTo("resigned");
  }

  private static void join(Thread thread) {
    try {
      thread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
