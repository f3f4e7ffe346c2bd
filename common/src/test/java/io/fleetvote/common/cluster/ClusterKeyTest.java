package io.fleetvote.common.cluster;

import io.fleetvote.common.net.FreePorts;
import io.fleetvote.common.tls.ClusterKey;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The coordinators' event bus with the cluster key: two nodes holding it talk; a third that joins the Hazelcast
 * cluster (open-source Hazelcast's member protocol cannot refuse it) with a key of its own can neither reach their
 * consumers nor be reached: every event-bus connection is TLS that requires and trusts only the cluster key.
 */
class ClusterKeyTest {

  @TempDir
  Path dir;
  private final List<Vertx> nodes = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    Future.join(nodes.stream().map(Vertx::close).toList()).await(30, TimeUnit.SECONDS);
  }

  @Test
  void onlyNodesHoldingTheClusterKeyTalkOnTheBus() throws Exception {
    Path key = dir.resolve("cluster.p12");
    ClusterKey.make(key);
    Path stranger = dir.resolve("other.p12");
    ClusterKey.make(stranger);
    String cluster = "key-test-" + UUID.randomUUID();
    List<Integer> ports = List.of(FreePorts.pick(), FreePorts.pick(), FreePorts.pick());
    List<String> members = ports.stream().map(p -> "127.0.0.1:" + p).toList();
    Vertx a = node(cluster, ports.get(0), members, key);
    Vertx b = node(cluster, ports.get(1), members, key);
    Vertx intruder = node(cluster, ports.get(2), members, stranger);
    assertThat(ClusterBootstrap.memberCount(a)).as("the intruder is a Hazelcast member").isEqualTo(3);

    b.eventBus().<JsonObject>consumer("test.echo", m -> m.reply(m.body())).completion().await();
    intruder.eventBus().<JsonObject>consumer("test.intruder", m -> m.reply(m.body())).completion().await();
    DeliveryOptions twoSeconds = new DeliveryOptions().setSendTimeout(2000);
    JsonObject ping = new JsonObject().put("ping", 1);

    assertThat(a.eventBus().<JsonObject>request("test.echo", ping, twoSeconds).await().body()).isEqualTo(ping);
    assertThatThrownBy(() -> intruder.eventBus().request("test.echo", ping, twoSeconds).await())
        .as("the intruder's request to a holder of the key").isInstanceOf(ReplyException.class);
    assertThatThrownBy(() -> b.eventBus().request("test.intruder", ping, twoSeconds).await())
        .as("a request to the intruder's consumer").isInstanceOf(ReplyException.class);
    assertThat(b.eventBus().<JsonObject>request("test.echo", ping, twoSeconds).await().body())
        .as("the key holders still talk").isEqualTo(ping);
  }

  private Vertx node(String cluster, int port, List<String> members, Path key) {
    Vertx vertx = ClusterBootstrap.clustered(new ClusterOptions().setClusterName(cluster).setPort(port)
        .setPortAutoIncrement(false).setMembers(members).setKeyStore(key.toString()), new VertxOptions()).await();
    nodes.add(vertx);
    return vertx;
  }
}
