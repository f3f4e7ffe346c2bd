package io.fleetvote.coordinator.ui;

import io.fleetvote.common.Addresses;
import io.fleetvote.common.msg.LbStatus;
import io.fleetvote.testkit.Await;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The dashboard's events from LB statuses: an LB that fails open is news, and so is its end. */
@ExtendWith(VertxExtension.class)
class UiVerticleTest {

  @Test
  void anLbThatFailsOpenAndRecoversIsInTheEventsFeedWithItsReason(Vertx vertx) throws Exception {
    vertx.eventBus().localConsumer(Addresses.REGISTRY_QUERY, request -> request.reply(new JsonObject()
        .put("instances", new JsonArray())));
    BlockingQueue<JsonObject> events = new LinkedBlockingQueue<>();
    vertx.eventBus().<JsonObject>localConsumer(Addresses.UI_EVENTS, message -> message.body().getJsonArray("events")
        .forEach(e -> events.add((JsonObject) e)));
    BlockingQueue<JsonObject> snapshots = new LinkedBlockingQueue<>();
    vertx.eventBus().<JsonObject>localConsumer(Addresses.UI_SNAPSHOT, message -> snapshots.add(message.body()));
    vertx.deployVerticle(new UiVerticle("demo", false, 50, Clock.systemUTC())).await();
    assertThat(snapshots.poll(10, TimeUnit.SECONDS)).as("a first snapshot, which sets what the next ones compare with")
        .isNotNull();
    event(vertx, events, status(false, "", "i-000000000000000a1"), "registered");
    String note = "none of the 2 server(s) of be_web passes its health check (i-a L7TOUT, i-b L7TOUT)";
    JsonObject open = event(vertx, events, status(true, note, "i-000000000000000a1"), "fail-open");
    assertThat(open.getString("text")).isEqualTo("LB i-0000000000000b001 fails open: " + note);
    JsonObject over = event(vertx, events, status(false, "", "i-000000000000000a1"), "fail-open-over");
    assertThat(over.getString("text")).isEqualTo("LB i-0000000000000b001 routes by its health checks again");
  }

  private static LbStatus status(boolean failOpen, String note, String server) {
    return new LbStatus("i-0000000000000b001", "demo", "web", System.currentTimeMillis(), List.of(
        new LbStatus.Server(server, failOpen ? "DOWN" : "UP", failOpen ? "L7TOUT" : "L7OK", 3, 10, 50)), failOpen,
        note);
  }

  /** Publishes the status until an event of {@code kind} comes. */
  private static JsonObject event(Vertx vertx, BlockingQueue<JsonObject> events, LbStatus status, String kind) {
    return Await.until("a " + kind + " event", Duration.ofSeconds(10), () -> {
      vertx.eventBus().publish(Addresses.LB_STATUS, status.toJson());
      return events.poll();
    }, event -> event != null && event.getString("kind").equals(kind));
  }
}
