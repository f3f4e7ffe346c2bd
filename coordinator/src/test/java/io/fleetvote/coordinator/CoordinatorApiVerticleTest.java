package io.fleetvote.coordinator;

import io.fleetvote.common.Addresses;
import io.fleetvote.common.cluster.ClusterBootstrap;
import io.fleetvote.testkit.Await;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;

import static io.fleetvote.coordinator.LiveRegistryTest.A;
import static io.fleetvote.coordinator.LiveRegistryTest.B;
import static io.fleetvote.coordinator.LiveRegistryTest.beat;
import static org.assertj.core.api.Assertions.assertThat;

/** The HTTP API of a coordinator deployed on a Vert.x that is not clustered. */
@ExtendWith(VertxExtension.class)
class CoordinatorApiVerticleTest {

  private Coordinator coordinator;
  private Vertx vertx;
  private WebClient client;

  @BeforeEach
  void deploy() {
    vertx = ClusterBootstrap.standalone(ClusterBootstrap.withPrometheus(new VertxOptions()));
    coordinator = Coordinator.deploy(vertx, new CoordinatorOptions().setDeployment("demo").setHttpPort(0)).await();
    client = WebClient.create(vertx);
  }

  @AfterEach
  void close(VertxTestContext tc) {
    coordinator.close().onComplete(tc.succeedingThenComplete());
  }

  @Test
  void instancesListsTheLiveAgentsByIdWithHowLongAgoTheyWereSeen() {
    long sent = System.currentTimeMillis();
    vertx.eventBus().publish(Addresses.AGENT_HEARTBEATS, beat(B, sent).toJson());
    vertx.eventBus().publish(Addresses.AGENT_HEARTBEATS, beat(A, sent).toJson());

    JsonArray instances = Await.until("both heartbeats to be listed", Duration.ofSeconds(5),
        () -> get("/api/instances").bodyAsJsonObject().getJsonArray("instances"), list -> list.size() == 2);
    assertThat(instances.getJsonObject(0).getString("instanceId")).isEqualTo(A);
    JsonObject b = instances.getJsonObject(1);
    assertThat(b.getLong("lastSeenMillisAgo")).isBetween(0L, CoordinatorOptions.DEFAULT_EXPIRE_AFTER_MILLIS);
    b.remove("lastSeenMillisAgo");
    assertThat(b).isEqualTo(beat(B, sent).toJson());
  }

  @Test
  void healthSaysUpAndWhetherClustered() {
    HttpResponse<Buffer> response = get("/health");
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.getHeader("Content-Type")).startsWith("application/json");
    assertThat(response.bodyAsJsonObject()).isEqualTo(new JsonObject().put("status", "UP").put("clustered", false));
  }

  @Test
  void metricsCountRejectedMessagesByAddressAndReason() {
    vertx.eventBus().publish(Addresses.AGENT_HEARTBEATS, "garbage");
    String counted = "fleetvote_coordinator_messages_rejected_total{address=\"fleetvote.agents.heartbeat\","
        + "reason=\"invalid\"} 1.0";
    HttpResponse<Buffer> metrics = Await.until("the rejection to be counted", Duration.ofSeconds(5),
        () -> get("/metrics"), response -> response.bodyAsString().contains(counted));
    assertThat(metrics.getHeader("Content-Type")).startsWith("text/plain");
    assertThat(metrics.bodyAsString()).contains("jvm_memory_used_bytes");
  }

  @Test
  void unknownPathsAndMethodsAnswerJsonErrors() {
    HttpResponse<Buffer> missing = get("/api/nothing-here");
    assertThat(missing.statusCode()).isEqualTo(404);
    assertThat(missing.getHeader("Content-Type")).startsWith("application/json");
    assertThat(missing.bodyAsJsonObject()).isEqualTo(new JsonObject().put("error", "no such resource: /api/nothing-here"));

    HttpResponse<Buffer> wrongMethod = client.request(HttpMethod.DELETE, coordinator.httpPort(), "127.0.0.1", "/health")
        .send().await();
    assertThat(wrongMethod.statusCode()).isEqualTo(405);
    assertThat(wrongMethod.bodyAsJsonObject()).isEqualTo(new JsonObject().put("error", "method not allowed"));
  }

  @Test
  void instancesAnswers503WhenNoRegistryAnswers() {
    Vertx alone = Vertx.vertx();
    try {
      CoordinatorApiVerticle api = new CoordinatorApiVerticle(new CoordinatorOptions().setHttpPort(0));
      alone.deployVerticle(api).await();
      HttpResponse<Buffer> response = client.get(api.actualPort(), "127.0.0.1", "/api/instances").send().await();
      assertThat(response.statusCode()).isEqualTo(503);
      assertThat(response.bodyAsJsonObject()).isEqualTo(new JsonObject().put("error", "service unavailable"));
    } finally {
      alone.close().await();
    }
  }

  private HttpResponse<Buffer> get(String path) {
    return client.get(coordinator.httpPort(), "127.0.0.1", path).send().await();
  }
}
