package io.fleetvote.coordinator.scaling;

import io.fleetvote.common.msg.AgentHeartbeat;
import io.fleetvote.common.msg.Role;
import io.fleetvote.common.time.ManualClock;
import io.fleetvote.coordinator.fleet.FleetInstance;
import io.fleetvote.coordinator.scaling.Decision.Outcome;
import io.fleetvote.coordinator.scaling.Decision.Rule;
import io.fleetvote.coordinator.scaling.HealthTracker.Health;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** Health from heartbeats, and which unhealthy instance is replaced when, on a fixed clock. */
class HealingTest {

  private static final Instant T0 = Instant.parse("2026-12-01T12:00:00Z");
  private final ManualClock clock = new ManualClock(T0);
  private final HealthTracker tracker = new HealthTracker(3000, T0.toEpochMilli());
  private final List<FleetInstance> members = new ArrayList<>();
  private final List<Long> replacements = new ArrayList<>();

  @Test
  void anAppThatFailsItsProbeIsFailingFromItsFirstFailedHeartbeatAndHealthyAgainAtOnce() {
    FleetInstance a = launched("i-0000000000000000a", 0);
    beat(a, true, "");
    clock.advanceMillis(1000);
    beat(a, false, "refuses connections on port 8080");
    long failedAt = clock.millis();
    clock.advanceMillis(1000);
    beat(a, false, "refuses connections on port 8080");
    assertThat(tracker.health(a, clock.millis())).isEqualTo(new Health(true, failedAt,
        "its app refuses connections on port 8080", true));
    beat(a, true, "");
    assertThat(tracker.health(a, clock.millis()).failing()).isFalse();
  }

  @Test
  void aSilentAgentIsFailingFromItsLastHeartbeatAndOneNeverHeardNotBeforeTheTrackerStarted() {
    FleetInstance a = launched("i-0000000000000000a", -60_000);
    FleetInstance never = launched("i-0000000000000000b", -60_000);
    beat(a, true, "");
    long heardAt = clock.millis();
    clock.advanceMillis(2999);
    assertThat(tracker.health(a, clock.millis()).failing()).isFalse();
    clock.advanceMillis(1);
    assertThat(tracker.health(a, clock.millis())).isEqualTo(new Health(true, heardAt,
        "its agent has sent no heartbeat for 3.0 s", true));
    assertThat(tracker.health(never, clock.millis()).since()).as("launched before the tracker started")
        .isEqualTo(T0.toEpochMilli());
    tracker.retain(Set.of());
    assertThat(tracker.health(a, clock.millis()).why()).contains("since it was launched");
  }

  @Test
  void anInstanceIsReplacedOnceItsGraceAndItsBootGraceHavePassed() {
    GroupConfig config = config(new JsonObject());
    FleetInstance sick = launched("i-0000000000000000a", 0);
    launched("i-0000000000000000b", 0);
    launched("i-0000000000000000c", 0);
    Map<String, Health> health = new HashMap<>();
    health.put(sick.instanceId(), new Health(true, clock.millis(), "its app refuses connections", false));
    clock.advanceMillis(9_999);
    assertThat(decide(config, health)).as("within its grace").isEmpty();
    clock.advanceMillis(1);
    assertThat(decide(config, health)).as("never healthy yet: within the boot grace").isEmpty();
    Map<String, Health> wasHealthy = Map.of(sick.instanceId(), new Health(true, clock.millis() - 10_000,
        "its app refuses connections", true));
    assertThat(decide(config, wasHealthy)).as("it was healthy: a failure now is not a slow boot")
        .hasValueSatisfying(d -> assertThat(d.outcome()).isEqualTo(Outcome.REPLACE));
    clock.advanceMillis(20_000);
    Decision replace = decide(config, health).orElseThrow();
    assertThat(replace.outcome()).isEqualTo(Outcome.REPLACE);
    assertThat(replace.rule()).isEqualTo(Rule.UNHEALTHY);
    assertThat(replace.acts()).isTrue();
    assertThat(replace.resizes()).isFalse();
    assertThat(replace.victims()).containsExactly(sick.instanceId());
    assertThat(replace.reason()).isEqualTo("i-0000000000000000a has been unhealthy for 30.0 s (its app refuses "
        + "connections; grace 10.0 s): replace it (launch first, then drain and terminate it)");
    assertThat(replace.details().getJsonArray("unhealthy").getJsonObject(0).getString("instanceId"))
        .isEqualTo(sick.instanceId());
    assertThat(HealingPolicy.decide(config, members, health, replacements, true, clock.millis()))
        .as("one replacement at a time").isEmpty();
    assertThat(HealingPolicy.decide(config(new JsonObject().put("autoHeal", false)), members, health, replacements,
        false, clock.millis())).as("auto-healing off").isEmpty();
  }

  @Test
  void theLongestFailingGoesFirstAndTheWindowBoundsHowManyGo() {
    GroupConfig config = config(new JsonObject().put("bootGraceMs", 0));
    FleetInstance first = launched("i-0000000000000000a", 0);
    FleetInstance second = launched("i-0000000000000000b", 0);
    launched("i-0000000000000000c", 0);
    launched("i-0000000000000000d", 0);
    Map<String, Health> health = new HashMap<>();
    health.put(second.instanceId(), new Health(true, clock.millis(), "its app answers /health with HTTP 500", true));
    clock.advanceMillis(5000);
    health.put(first.instanceId(), new Health(true, clock.millis() - 8000, "its agent has sent no heartbeat", true));
    clock.advanceMillis(10_000);
    assertThat(decide(config, health).orElseThrow().victims()).containsExactly(first.instanceId());
    replacements.add(clock.millis() - 1000);
    Decision held = decide(config, health).orElseThrow();
    assertThat(held.outcome()).isEqualTo(Outcome.HOLD);
    assertThat(held.rule()).isEqualTo(Rule.REPLACEMENT_LIMIT);
    assertThat(held.reason()).contains("had 1 replacement(s) in the last 300.0 s (at most 1)");
    clock.advanceMillis(300_000);
    assertThat(decide(config, health).orElseThrow().outcome()).as("the window has passed")
        .isEqualTo(Outcome.REPLACE);
  }

  @Test
  void whenMostOfTheGroupIsUnhealthyAtOnceNothingIsReplaced() {
    GroupConfig config = config(new JsonObject().put("bootGraceMs", 0).put("maxReplacements", 10));
    Map<String, Health> health = new HashMap<>();
    for (String id : List.of("i-0000000000000000a", "i-0000000000000000b", "i-0000000000000000c")) {
      launched(id, 0);
      health.put(id, new Health(true, clock.millis(), "its app answers /health with HTTP 503", true));
    }
    launched("i-0000000000000000d", 0);
    clock.advanceMillis(60_000);
    Decision outage = decide(config, health).orElseThrow();
    assertThat(outage.outcome()).isEqualTo(Outcome.HOLD);
    assertThat(outage.rule()).isEqualTo(Rule.OUTAGE);
    assertThat(outage.reason()).startsWith("3 of 4 instances of web are unhealthy at once (").endsWith(
        "an outage to alert on, not instances to replace");
    health.remove("i-0000000000000000c");
    assertThat(decide(config, health).orElseThrow().outcome()).as("half is not most").isEqualTo(Outcome.REPLACE);
  }

  private Optional<Decision> decide(GroupConfig config, Map<String, Health> health) {
    return HealingPolicy.decide(config, members, health, replacements, false, clock.millis());
  }

  private static GroupConfig config(JsonObject more) {
    return new GroupConfig(new JsonObject().put("name", "web").put("imageId", "ami-0123456789abcdef0")
        .put("healthGraceMs", 10_000).put("bootGraceMs", 30_000).put("maxReplacements", 1)
        .put("replacementWindowMs", 300_000).mergeIn(more));
  }

  private FleetInstance launched(String id, long offsetMillis) {
    FleetInstance instance = new FleetInstance(id, "web", "running", T0.plusMillis(offsetMillis), null, "127.0.0.1");
    members.add(instance);
    return instance;
  }

  private void beat(FleetInstance instance, boolean ready, String problem) {
    tracker.heard(new AgentHeartbeat(instance.instanceId(), "demo", "web", Set.of(Role.APP), "127.0.0.1", 8080, 9110,
        9111, T0.toEpochMilli(), clock.millis(), ready, problem, false), clock.millis());
  }
}
