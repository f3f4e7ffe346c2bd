package io.fleetvote.coordinator;

import io.fleetvote.common.Addresses;
import io.fleetvote.common.cluster.ClusterBootstrap;
import io.fleetvote.common.msg.Rejections;
import io.fleetvote.testkit.Await;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.micrometer.backends.BackendRegistries;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static io.fleetvote.coordinator.LiveRegistryTest.A;
import static io.fleetvote.coordinator.LiveRegistryTest.B;
import static io.fleetvote.coordinator.LiveRegistryTest.C;
import static io.fleetvote.coordinator.LiveRegistryTest.beat;
import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
class RegistryVerticleTest {

  private static final long EXPIRE_AFTER_MILLIS = 500;
  private static final Duration WAIT = Duration.ofSeconds(5);

  private Vertx vertx;
  private MeterRegistry meters;

  @BeforeEach
  void deploy() {
    vertx = ClusterBootstrap.standalone(ClusterBootstrap.withPrometheus(new VertxOptions()));
    meters = BackendRegistries.getDefaultNow();
    CoordinatorOptions options = new CoordinatorOptions().setDeployment("demo")
        .setExpireAfterMillis(EXPIRE_AFTER_MILLIS);
    vertx.deployVerticle(new RegistryVerticle(options, Clock.systemUTC())).await();
  }

  @AfterEach
  void close(VertxTestContext tc) {
    vertx.close().onComplete(tc.succeedingThenComplete());
  }

  @Test
  void rejectedMessagesAreCountedByReasonListNothingAndLeaveTheConsumerWorking() {
    long now = System.currentTimeMillis();
    publish("not JSON at all");
    publish(beat(A, now).toJson().put("address", "10.0.0.300"));
    publish(beat(B, "other", now).toJson());
    publish(beat(C, now + 60_000).toJson());

    Map<String, Double> expected = Map.of("invalid", 2.0, "deployment", 1.0, "future", 1.0, "stale", 0.0,
        "error", 0.0);
    Await.until("the rejections to be counted", WAIT, this::rejections, expected::equals);
    assertThat(listed()).isEmpty();

    publish(beat(A, System.currentTimeMillis()).toJson());
    Await.until("the good heartbeat to be listed", WAIT, this::listedIds, List.of(A)::equals);
    assertThat(rejections()).isEqualTo(expected);
  }

  @Test
  void anInstanceIsListedWithItsHeartbeatUntilItExpires() {
    long sent = System.currentTimeMillis();
    publish(beat(A, sent).toJson());
    List<JsonObject> listed = Await.until("the heartbeat to be listed", WAIT, this::listed, l -> !l.isEmpty());
    JsonObject entry = listed.get(0);
    assertThat(entry.getLong("lastSeenMillisAgo")).isBetween(0L, EXPIRE_AFTER_MILLIS);
    entry.remove("lastSeenMillisAgo");
    assertThat(entry).isEqualTo(beat(A, sent).toJson());

    Await.until("the instance to expire", WAIT, this::listed, List::isEmpty);
    assertThat(System.currentTimeMillis() - sent).as("listed for at least the expiry").isGreaterThanOrEqualTo(
        EXPIRE_AFTER_MILLIS);
  }

  private void publish(Object body) {
    vertx.eventBus().publish(Addresses.AGENT_HEARTBEATS, body);
  }

  private List<JsonObject> listed() {
    JsonObject reply = vertx.eventBus().<JsonObject>request(Addresses.REGISTRY_QUERY, null).await().body();
    return reply.getJsonArray("instances").stream().map(JsonObject.class::cast).toList();
  }

  private List<String> listedIds() {
    return listed().stream().map(entry -> entry.getString("instanceId")).toList();
  }

  /** The rejected-message counters of the heartbeat address, by reason. */
  private Map<String, Double> rejections() {
    return meters.find(Rejections.COORDINATOR_METRIC).tag("address", Addresses.AGENT_HEARTBEATS).counters().stream()
        .collect(Collectors.toMap(c -> c.getId().getTag("reason"), Counter::count));
  }
}
