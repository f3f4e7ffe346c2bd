package io.fleetvote.coordinator.leader;

import io.fleetvote.common.cluster.ClusterBootstrap;
import io.fleetvote.common.cluster.ClusterOptions;
import io.fleetvote.common.net.FreePorts;
import io.fleetvote.testkit.Await;
import io.fleetvote.testkit.LocalCluster;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/** Leadership on real Hazelcast members in this JVM: one leader, a higher epoch after it goes, none without quorum. */
class LeadershipTest {

  private final List<ClusterOptions> members = LocalCluster.members(LocalCluster.name("leadership"),
      List.of(FreePorts.pick(), FreePorts.pick(), FreePorts.pick()));
  private final List<Vertx> nodes = new CopyOnWriteArrayList<>();

  @AfterEach
  void closeNodes() {
    Future.join(nodes.stream().map(Vertx::close).toList()).await();
  }

  @Test
  void aSingleCoordinatorLeadsWithEpochOne() {
    Leadership only = coordinator(0, 1);
    await("a leader", () -> only.isLeader());
    assertThat(only.epoch()).isEqualTo(1);
    assertThat(only.state().quorum()).isTrue();
  }

  @Test
  void ofThreeExactlyOneLeadsAndWhenItGoesAnotherTakesOverWithAHigherEpoch() {
    List<Leadership> three = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      three.add(coordinator(i, 3));
    }
    await("one leader", () -> three.stream().filter(Leadership::isLeader).count() == 1);
    Leadership first = three.stream().filter(Leadership::isLeader).findFirst().orElseThrow();
    long firstEpoch = first.epoch();
    int index = three.indexOf(first);

    nodes.get(index).close().await();
    List<Leadership> rest = new ArrayList<>(three);
    rest.remove(index);
    long lost = System.nanoTime();
    await("a new leader", () -> rest.stream().filter(Leadership::isLeader).count() == 1);
    Leadership second = rest.stream().filter(Leadership::isLeader).findFirst().orElseThrow();
    assertThat(second.epoch()).isGreaterThan(firstEpoch);
    assertThat(Duration.ofNanos(System.nanoTime() - lost)).as("takeover").isLessThan(Duration.ofSeconds(10));
  }

  @Test
  void aLoneCoordinatorOfThreeNeverLeads() {
    Leadership lone = coordinator(0, 3);
    await("the missing quorum to be noticed", () -> lone.state().why().startsWith("no quorum"));
    assertThat(lone.isLeader()).isFalse();
    assertThat(lone.state().quorum()).isFalse();
  }

  private Leadership coordinator(int index, int expected) {
    CoordinatorQuorum quorum = new CoordinatorQuorum(expected);
    Vertx vertx = LocalCluster.join(members.get(index), quorum::configure);
    nodes.add(vertx);
    Promise<Leadership> started = Promise.promise();
    vertx.runOnContext(x -> {
      Leadership leadership = new Leadership(vertx, ClusterBootstrap.hazelcast(vertx), "c" + index, quorum, 3000, 500,
          2000);
      leadership.start();
      started.complete(leadership);
    });
    return started.future().await();
  }

  private static void await(String what, BooleanSupplier condition) {
    Await.until(what, Duration.ofSeconds(30), condition);
  }
}
