package io.fleetvote.common.cluster;

import io.fleetvote.common.Addresses;
import io.fleetvote.common.msg.AgentHeartbeat;
import io.fleetvote.common.msg.Role;
import io.fleetvote.common.net.FreePorts;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Checkpoint;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import io.vertx.core.internal.VertxInternal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Two clustered Vert.x nodes built by {@link ClusterBootstrap} on 127.0.0.1 talk over the event bus. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class TwoNodeClusterTest {

  private Vertx a;
  private Vertx b;

  @BeforeEach
  void startTwoNodes(VertxTestContext tc) {
    String cluster = "test-" + UUID.randomUUID();
    int portA = FreePorts.pick();
    int portB = FreePorts.pick();
    List<String> members = List.of("127.0.0.1:" + portA, "127.0.0.1:" + portB);
    ClusterOptions optionsA = new ClusterOptions().setClusterName(cluster).setPort(portA).setPortAutoIncrement(false)
        .setMembers(members);
    ClusterOptions optionsB = new ClusterOptions(optionsA).setPort(portB);
    Future<Vertx> first = ClusterBootstrap.clustered(optionsA, new VertxOptions()).onSuccess(v -> a = v);
    Future<Vertx> second = ClusterBootstrap.clustered(optionsB, new VertxOptions()).onSuccess(v -> b = v);
    Future.all(first, second).onComplete(tc.succeedingThenComplete());
  }

  @AfterEach
  void stopBoth(VertxTestContext tc) {
    Future.join(a == null ? Future.succeededFuture() : a.close(), b == null ? Future.succeededFuture() : b.close())
        .onComplete(tc.succeedingThenComplete());
  }

  @Test
  void aHeartbeatPublishedOnOneNodeArrivesOnTheOtherAndARequestIsAnswered(VertxTestContext tc) {
    assertThat(members(a)).hasSize(2);
    AgentHeartbeat beat = new AgentHeartbeat("i-0123456789abcdef0", "demo", "web", Set.of(Role.APP), "127.0.0.1",
        18080, 18081, 0, 1_000L, 2_000L, true, "", false);
    Checkpoint received = tc.checkpoint();
    Checkpoint answered = tc.checkpoint();
    b.eventBus().<JsonObject>consumer(Addresses.AGENT_HEARTBEATS, msg -> tc.verify(() -> {
      assertThat(AgentHeartbeat.fromJson(msg.body())).isEqualTo(beat);
      received.flag();
    })).completion()
        .compose(x -> b.eventBus().<JsonObject>consumer("test.echo", msg -> msg.reply(msg.body())).completion())
        .onSuccess(x -> {
          a.eventBus().publish(Addresses.AGENT_HEARTBEATS, beat.toJson());
          a.eventBus().<JsonObject>request("test.echo", beat.toJson())
              .onComplete(tc.succeeding(reply -> tc.verify(() -> {
                assertThat(AgentHeartbeat.fromJson(reply.body())).isEqualTo(beat);
                answered.flag();
              })));
        })
        .onFailure(tc::failNow);
  }

  private static Set<?> members(Vertx vertx) {
    HazelcastClusterManager manager = (HazelcastClusterManager) ((VertxInternal) vertx).clusterManager();
    return manager.getHazelcastInstance().getCluster().getMembers();
  }
}
