package io.fleetvote.agent;

import io.fleetvote.agent.load.LoadSample;
import io.fleetvote.common.imds.InstanceIdentity;
import io.fleetvote.common.msg.Role;
import io.fleetvote.common.msg.VoteKind;
import io.fleetvote.common.net.FreePorts;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
class AgentApiVerticleTest {

  static final InstanceIdentity IDENTITY = new InstanceIdentity("i-0123456789abcdef0", "ami-0123456789abcdef0",
      "t3.micro", "127.0.0.1", "us-east-1a", "us-east-1", Map.of(), "");

  private Vertx vertx;
  private AgentOptions options;
  private WebClient client;

  @BeforeEach
  void startVertxWithMetrics() {
    vertx = Agent.vertx();
    options = new AgentOptions().setDeployment("demo").setGroup("web").setRoles(Set.of(Role.APP, Role.DB))
        .setAgentPort(FreePorts.pick()).setAppPort(18080);
    client = WebClient.create(vertx);
  }

  @AfterEach
  void close(VertxTestContext tc) {
    vertx.close().onComplete(tc.succeedingThenComplete());
  }

  @Test
  void healthSaysWhoAndWhereTheInstanceIs(VertxTestContext tc) {
    vertx.deployVerticle(new AgentApiVerticle(IDENTITY, options, Optional::empty, new InstanceState(), Optional.empty(),
            Optional.empty()))
        .compose(id -> client.get(options.getAgentPort(), "127.0.0.1", "/health").send())
        .onComplete(tc.succeeding(response -> tc.verify(() -> {
          assertThat(response.statusCode()).isEqualTo(200);
          assertThat(response.getHeader("Content-Type")).startsWith("application/json");
          assertThat(response.bodyAsJsonObject()).isEqualTo(new JsonObject()
              .put("status", "UP")
              .put("instanceId", "i-0123456789abcdef0")
              .put("deployment", "demo")
              .put("group", "web")
              .put("roles", new JsonArray().add("app").add("db"))
              .put("address", "127.0.0.1")
              .put("appPort", 18080)
              .put("appReady", false)
              .put("appProblem", "not probed yet")
              .put("leaving", false)
              .put("terminating", false)
              .putNull("coordinator").put("coordinators", new JsonArray()));
          tc.completeNow();
        })));
  }

  @Test
  void healthOfAnAppAgentAddsItsLoadVoteAndWarmth(VertxTestContext tc) {
    VotePolicy.Decision grow = new VotePolicy.Decision(VoteKind.GROW, true,
        LoadSample.measured(82.5, Double.NaN, Instant.EPOCH));
    vertx.deployVerticle(new AgentApiVerticle(IDENTITY, options, () -> Optional.of(grow), new InstanceState(),
        Optional.empty(), Optional.empty()))
        .compose(id -> client.get(options.getAgentPort(), "127.0.0.1", "/health").send())
        .onComplete(tc.succeeding(response -> tc.verify(() -> {
          JsonObject health = response.bodyAsJsonObject();
          assertThat(health.getDouble("load")).isEqualTo(82.5);
          assertThat(health.getString("vote")).isEqualTo("grow");
          assertThat(health.getBoolean("warm")).isTrue();
          assertThat(health.containsKey("loadProblem")).isFalse();
          tc.completeNow();
        })));
  }

  @Test
  void aLoadThatCannotBeMeasuredIsNullAndSaysWhy(VertxTestContext tc) {
    VotePolicy.Decision unmeasured = new VotePolicy.Decision(VoteKind.NONE, false,
        LoadSample.missing(Instant.EPOCH, "process 42 of pid file /x/app.pid is not running"));
    vertx.deployVerticle(new AgentApiVerticle(IDENTITY, options, () -> Optional.of(unmeasured), new InstanceState(),
        Optional.empty(), Optional.empty()))
        .compose(id -> client.get(options.getAgentPort(), "127.0.0.1", "/health").send())
        .onComplete(tc.succeeding(response -> tc.verify(() -> {
          JsonObject health = response.bodyAsJsonObject();
          assertThat(health.containsKey("load")).isTrue();
          assertThat(health.getValue("load")).isNull();
          assertThat(health.getString("vote")).isEqualTo("none");
          assertThat(health.getBoolean("warm")).isFalse();
          assertThat(health.getString("loadProblem")).isEqualTo("process 42 of pid file /x/app.pid is not running");
          tc.completeNow();
        })));
  }

  @Test
  void metricsAreServedAsPrometheusTextWithTheHeartbeatCounter(VertxTestContext tc) {
    vertx.deployVerticle(new AgentApiVerticle(IDENTITY, options, Optional::empty, new InstanceState(), Optional.empty(),
        Optional.empty()))
        .compose(id -> vertx.deployVerticle(new HeartbeatVerticle(IDENTITY, options, 0, Clock.systemUTC(), new InstanceState())))
        .compose(id -> client.get(options.getAgentPort(), "127.0.0.1", "/metrics").send())
        .onComplete(tc.succeeding(response -> tc.verify(() -> {
          assertThat(response.statusCode()).as(response.statusMessage()).isEqualTo(200);
          assertThat(response.getHeader("Content-Type")).startsWith("text/plain");
          assertThat(response.bodyAsString())
              .containsPattern("(?m)^fleetvote_agent_heartbeats_sent_total [1-9]")
              .containsPattern("(?m)^fleetvote_agent_resident_memory_bytes [1-9]")
              .containsPattern("(?m)^fleetvote_agent_cpu_seconds_total [0-9.]*[1-9]")
              .containsPattern("(?m)^fleetvote_agent_heap_used_bytes [1-9]")
              .doesNotContain("jvm_memory_used_bytes");
          tc.completeNow();
        })));
  }

  @Test
  void aPortAlreadyTakenFailsTheDeployment() throws IOException {
    // A plain socket stands for another process: servers of one Vert.x would share the port instead.
    try (ServerSocket taken = new ServerSocket(options.getAgentPort(), 1, InetAddress.getLoopbackAddress())) {
      Throwable failure = vertx.deployVerticle(new AgentApiVerticle(IDENTITY, options, Optional::empty, new InstanceState(), Optional.empty(),
        Optional.empty()))
          .transform(result -> Future.succeededFuture(result.cause())).await();
      assertThat(failure).hasMessageContaining("Address already in use");
      assertThat(taken.isBound()).isTrue();
    }
  }
}
