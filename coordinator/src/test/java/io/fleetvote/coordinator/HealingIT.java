package io.fleetvote.coordinator;

import io.fleetvote.sandbox.client.SandboxAdmin;
import io.fleetvote.sandbox.load.LoadReport;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Auto-healing with real processes: an instance whose app died while its agent lives is replaced (launch first, then
 * drain and terminate), and a group that is unhealthy all at once is an outage, not instances to churn.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HealingIT {

  private static final Duration TIMEOUT = LbFleet.TIMEOUT;
  private static final long HEALTH_GRACE_MS = 3000;

  @TempDir
  static Path dir;
  static LbFleet fleet;
  static SandboxAdmin admin;
  static String lb;

  @BeforeAll
  static void start() {
    fleet = LbFleet.start(dir, 1, new JsonObject().put("min", 2).put("max", 3).put("healthGraceMs", HEALTH_GRACE_MS)
        .put("bootGraceMs", 120_000).put("maxReplacements", 1).put("replacementWindowMs", 120_000));
    admin = fleet.admin;
    lb = fleet.awaitLbWith(2);
  }

  @AfterAll
  static void stop() {
    if (fleet != null) {
      fleet.close();
    }
  }

  @Test
  @Order(1)
  void anAppKilledWhileItsAgentLivesIsReplacedLaunchFirstThenDrainedAndTerminated() {
    // 20 % of two instances: one alone serves it below growAbove, so the replacement is the only change.
    Future<LoadReport> load = fleet.load(lb, 2, 0.2, Duration.ofSeconds(25), Duration.ofSeconds(10));
    String victim = fleet.readyServers(lb).get(0);
    admin.kill(victim, "demo-app");
    long killed = System.nanoTime();

    JsonObject entry = Eventually.await("the replacement of " + victim + " done", TIMEOUT, () -> replacements().stream()
        .filter(e -> e.getJsonObject("decision").getJsonArray("victims").contains(victim)
            && e.getJsonObject("action").getString("status").equals("done")).findFirst(), Optional::isPresent)
        .orElseThrow();
    String replacement = note(entry, "launched").getJsonArray("launched").getString(0);
    Eventually.await("the replacement " + replacement + " serving", TIMEOUT,
        () -> fleet.readyServers(lb).contains(replacement));
    Duration serving = Duration.ofNanos(System.nanoTime() - killed);
    System.out.printf("app of %s killed: %s serving after %d ms (grace %d ms, then a boot)%n", victim, replacement,
        serving.toMillis(), HEALTH_GRACE_MS);

    JsonObject decision = entry.getJsonObject("decision");
    assertThat(decision.getString("rule")).isEqualTo("unhealthy");
    assertThat(decision.getString("reason")).startsWith(victim + " has been unhealthy for ")
        .contains("its app refuses connections on port " + admin.port(victim, "app"), "grace 3.0 s",
            "replace it (launch first, then drain and terminate it)");
    List<JsonObject> steps = entry.getJsonObject("action").getJsonArray("attempts").stream()
        .map(JsonObject.class::cast).toList();
    assertThat(steps.indexOf(note(entry, "launched"))).as("launched before the victim was drained")
        .isLessThan(steps.indexOf(note(entry, "drained")));
    Eventually.await(victim + " terminated", TIMEOUT, () -> admin.instance(victim).getString("state")
        .equals("terminated"));
    assertThat(fleet.groupInstances("web")).doesNotContain(victim).contains(replacement);
    assertThat(LbFleet.servers(fleet.backend(lb))).noneMatch(s -> s.getString("name").equals(victim));

    LoadReport report = load.await();
    System.out.printf("load meanwhile: %s %s%n", report.line(), report.failures());
    assertThat(report.failures()).as("failures by class").doesNotContainKey("http-503");
    assertThat(report.failed() * 1000).as("failed requests in 1000").isLessThanOrEqualTo(report.sent());
  }

  @Test
  @Order(2)
  void aGroupUnhealthyAllAtOnceIsAnOutageAndNothingIsReplaced() {
    Eventually.await("the group at 2, both in the backend", TIMEOUT,
        () -> fleet.groupInstances("web").size() == 2 && fleet.readyServers(lb).size() == 2);
    int replacementsBefore = replacements().size();
    List<String> both = fleet.groupInstances("web");
    both.forEach(id -> admin.kill(id, "demo-app"));

    JsonObject outage = Eventually.await("an outage hold", TIMEOUT, () -> outage(),
        e -> e.isPresent() && e.get().getInteger("repeated") >= 10).orElseThrow();
    assertThat(outage.getJsonObject("decision").getString("reason"))
        .startsWith("2 of 2 instances of web are unhealthy at once (")
        .endsWith("an outage to alert on, not instances to replace");
    assertThat(outage.getJsonObject("decision").getJsonObject("details").getJsonArray("unhealthy")).hasSize(2);
    assertThat(replacements()).as("no replacement while the whole group is down").hasSize(replacementsBefore);
    assertThat(fleet.groupInstances("web")).containsExactlyInAnyOrderElementsOf(both);
  }

  private static List<JsonObject> replacements() {
    return fleet.entries("web").stream().filter(e -> e.getJsonObject("decision").getString("outcome")
        .equals("replace")).toList();
  }

  private static Optional<JsonObject> outage() {
    return fleet.entries("web").stream().filter(e -> e.getJsonObject("decision").getString("rule").equals("outage"))
        .findFirst();
  }

  /** The note of a replacement's action that has {@code field} (its launch, its drain). */
  private static JsonObject note(JsonObject entry, String field) {
    JsonArray attempts = entry.getJsonObject("action").getJsonArray("attempts");
    return attempts.stream().map(JsonObject.class::cast).filter(a -> a.containsKey(field)).findFirst()
        .orElseThrow(() -> new AssertionError("no '" + field + "' note in " + attempts.encode()));
  }
}
