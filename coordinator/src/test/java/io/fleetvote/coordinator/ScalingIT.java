package io.fleetvote.coordinator;

import io.fleetvote.common.Addresses;
import io.fleetvote.common.cluster.ClusterOptions;
import io.fleetvote.common.msg.Vote;
import io.fleetvote.common.msg.VoteKind;
import io.fleetvote.load.Capacity;
import io.fleetvote.load.LoadGenerator;
import io.fleetvote.load.LoadOptions;
import io.fleetvote.load.LoadReport;
import io.fleetvote.sandbox.ImageCatalog;
import io.fleetvote.testkit.Await;
import io.fleetvote.testkit.CoordinatorClient;
import io.fleetvote.testkit.LocalCluster;
import io.fleetvote.testkit.SandboxAdmin;
import io.fleetvote.testkit.SandboxProcess;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The whole loop with real processes: a coordinator brings the group to its minimum through RunInstances, load on
 * the instances makes a majority vote grow, a third instance is launched, boots, connects to the coordinator and
 * votes; the load stops, the group shrinks back to its minimum, and the ledger says why each time.
 */
class ScalingIT {

  private static final Duration TIMEOUT = Duration.ofSeconds(90);

  @TempDir
  static Path dir;
  static SandboxProcess sandbox;
  static Coordinator coordinator;
  static CoordinatorClient api;
  static Vertx vertx;

  @BeforeAll
  static void start() {
    sandbox = SandboxProcess.start(dir.resolve("sandbox"));
    sandbox.admin().requireCapacity("this test's load");
    ClusterOptions cluster = LocalCluster.single("scaling");
    JsonObject agent = new JsonObject().put("gossipPeriodMs", 500).put("sampleMs", 500).put("warmupMs", 2000)
        .put("growAbove", 50).put("growAfterMs", 3000).put("shrinkBelow", 15).put("shrinkAfterMs", 4000);
    JsonObject group = new JsonObject().put("name", "web").put("imageId", ImageCatalog.imageId("fleetvote-app"))
        .put("min", 2).put("max", 3).put("calmTimeMs", 5000).put("bootTimeoutMs", 60_000).put("agent", agent);
    JsonObject other = new JsonObject().put("name", "api").put("imageId", ImageCatalog.imageId("fleetvote-app"))
        .put("min", 0).put("max", 2);
    CoordinatorOptions options = new CoordinatorOptions(new JsonObject()
        .put("deployment", "it")
        .put("httpPort", 0)
        .put("cluster", cluster.toJson())
        .put("gateway", sandbox.agentGateway())
        .put("dataDir", dir.resolve("coordinator").toString())
        .put("scaling", new JsonObject().put("tickMillis", 500)
            .put("fleetRefreshMillis", 2000).put("groups", new JsonArray().add(group).add(other))
            .put("fleet", new JsonObject().put("deployment", "it").put("endpoint", sandbox.endpoint().toString())
                .put("firstRetryDelayMillis", 200).put("maxRetryDelayMillis", 2000))));
    coordinator = Coordinator.start(options).await();
    api = new CoordinatorClient(coordinator.httpPort());
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() {
    if (vertx != null) {
      vertx.close().await();
    }
    if (coordinator != null) {
      coordinator.close().await();
    }
    if (sandbox != null) {
      sandbox.close();
    }
  }

  @Test
  void loadGrowsTheGroupAndItsEndShrinksItBackWithTheReasonsInTheLedger() {
    JsonObject belowMin = awaitEntry("the launch up to min", e -> rule(e, "below-min") && done(e));
    List<String> first = instances(belowMin);
    assertThat(first).hasSize(2);
    awaitRegistered("both instances voting", first);
    forgedVotesAreRejectedAndCounted(first.get(0));

    SandboxAdmin admin = sandbox.admin();
    // 75 % of what the two instances (t3.micro, a quarter of a core each) can serve: both vote grow.
    Capacity capacity = Capacity.of("t3.micro", 10);
    List<URI> targets = first.stream().map(id -> URI.create("http://127.0.0.1:" + admin.port(id, "app") + "/?work="
        + capacity.workMs())).toList();
    Future<LoadReport> load = new LoadGenerator(vertx, new LoadOptions(targets, capacity.rate(2, 0.75),
        Duration.ofSeconds(25), Duration.ofSeconds(5), 64, null), line -> { }).run();

    JsonObject grow = awaitEntry("a grow by votes", e -> outcome(e, "grow") && rule(e, "votes") && done(e));
    assertThat(grow.getJsonObject("decision").getJsonObject("counts").getInteger("grow")).isEqualTo(2);
    assertThat(grow.getJsonObject("decision").getString("reason")).contains("voted grow");
    String third = instances(grow).get(0);
    assertThat(first).doesNotContain(third);
    awaitRegistered("the third instance voting", List.of(third));

    load.await();
    JsonObject shrink = awaitEntry("a shrink by votes", e -> outcome(e, "shrink") && rule(e, "votes") && done(e));
    assertThat(shrink.getJsonObject("decision").getJsonObject("counts").getInteger("eligible"))
        .as("the third instance was counted").isEqualTo(3);
    assertThat(shrink.getJsonObject("decision").getString("reason")).contains("voted shrink", "least busy");
    await("the group back at 2", () -> api.groups().groups().get(0).size() == 2);
  }

  /**
   * Garbage and forged votes on the cluster's bus (as a coordinator could publish them; agents' connections refuse
   * them before, see GatewayIT): each refused with its reason and counted; none of them counts.
   */
  private static void forgedVotesAreRejectedAndCounted(String realInstance) {
    Vertx vertx = coordinator.vertx();
    long now = System.currentTimeMillis();
    // An agent that claims to have started a minute ago: the coordinator has described the fleet since.
    Vote forged = new Vote("i-0123456789abcdef0", "it", "web", VoteKind.GROW, 99, true, false, now - 60_000, now, 3000);
    vertx.eventBus().publish(Addresses.VOTES, "{not json");
    vertx.eventBus().publish(Addresses.VOTES, forged.toJson().put("load", "lots"));
    vertx.eventBus().publish(Addresses.VOTES, forged.toJson());
    vertx.eventBus().publish(Addresses.VOTES, forged.toJson().put("instanceId", realInstance).put("group", "api"));
    vertx.eventBus().publish(Addresses.VOTES, forged.toJson().put("instanceId", realInstance).put("group", "shop"));
    vertx.eventBus().publish(Addresses.VOTES, forged.toJson().put("instanceId", realInstance)
        .put("sentAt", now + 600_000));
    vertx.eventBus().publish(Addresses.VOTES, forged.toJson().put("instanceId", realInstance).put("deployment", "prod"));
    for (String reason : List.of("invalid", "unknown-instance", "wrong-group", "unknown-group", "future",
        "deployment")) {
      await("a rejected vote counted as " + reason, () -> api.metric(
          "fleetvote_coordinator_messages_rejected_total{address=\"" + Addresses.VOTES + "\",reason=\"" + reason
              + "\"}") >= 1);
    }
    assertThat(api.metric("fleetvote_coordinator_messages_rejected_total{address=\"" + Addresses.VOTES
        + "\",reason=\"invalid\"}")).isEqualTo(2);
  }

  private static List<String> instances(JsonObject entry) {
    return entry.getJsonObject("action").getJsonArray("instances").stream().map(String.class::cast).toList();
  }

  private static boolean outcome(JsonObject entry, String outcome) {
    return entry.getJsonObject("decision").getString("outcome").equals(outcome);
  }

  private static boolean rule(JsonObject entry, String rule) {
    return entry.getJsonObject("decision").getString("rule").equals(rule);
  }

  private static boolean done(JsonObject entry) {
    return entry.getJsonObject("action") != null && entry.getJsonObject("action").getString("status").equals("done");
  }

  private static JsonObject awaitEntry(String what, Predicate<JsonObject> matching) {
    return Await.until(what, TIMEOUT, () -> entries().filter(matching).findFirst(), Optional::isPresent)
        .orElseThrow();
  }

  private static Stream<JsonObject> entries() {
    return api.decisions("web", null, 1000).stream();
  }

  private static void awaitRegistered(String what, List<String> ids) {
    await(what, () -> api.instances().stream().map(i -> i.getString("instanceId")).toList().containsAll(ids));
  }

  private static void await(String what, BooleanSupplier condition) {
    Await.until(what, TIMEOUT, condition);
  }
}
