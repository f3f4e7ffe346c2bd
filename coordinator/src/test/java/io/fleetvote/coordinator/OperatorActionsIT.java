package io.fleetvote.coordinator;

import io.fleetvote.common.msg.ScalingState.GroupState;
import io.fleetvote.sandbox.ImageCatalog;
import io.fleetvote.testkit.Await;
import io.fleetvote.testkit.CoordinatorClient;
import io.fleetvote.testkit.HttpReply;
import io.fleetvote.testkit.LocalCluster;
import io.fleetvote.testkit.SandboxProcess;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The operators' actions through the REST API, against a real coordinator and sandbox (instances without agents,
 * so only the operators move the group): bounds, scale by N, pause and resume, protect; each in the ledger with who
 * did it; every refusal a JSON error with its status.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OperatorActionsIT {

  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  @TempDir
  static Path dir;
  static SandboxProcess sandbox;
  static Coordinator coordinator;
  /** The API without credentials, then as ops (an operator) and eve (a viewer), with bearer tokens. */
  static CoordinatorClient api;
  static CoordinatorClient ops;
  static CoordinatorClient eve;

  @BeforeAll
  static void start() throws Exception {
    Path images = dir.resolve("images.json");
    Files.writeString(images, new JsonObject().put("images", new JsonArray().add(new JsonObject()
        .put("name", "idle").put("description", "an instance without an agent")
        .put("processes", new JsonArray().add(new JsonObject().put("name", "sleep")
            .put("command", new JsonArray().add("sleep").add("3600")).put("stopTimeoutMillis", 1000))))).encode());
    sandbox = SandboxProcess.start(dir.resolve("sandbox"), "--images", images.toString());
    Path users = TestUsers.write(dir);
    JsonObject web = new JsonObject().put("name", "web").put("imageId", ImageCatalog.imageId("idle"))
        .put("min", 1).put("max", 4).put("calmTimeMs", 0).put("bootTimeoutMs", 600_000);
    coordinator = Coordinator.start(new CoordinatorOptions(new JsonObject().put("deployment", "it").put("httpPort", 0)
        .put("usersFile", users.toString())
        .put("cluster", LocalCluster.single("ops").toJson())
        .put("gateway", sandbox.agentGateway())
        .put("dataDir", dir.resolve("coordinator").toString())
        .put("scaling", new JsonObject().put("tickMillis", 200)
            .put("fleetRefreshMillis", 1000).put("groups", new JsonArray().add(web))
            .put("fleet", new JsonObject().put("deployment", "it").put("endpoint", sandbox.endpoint().toString())))))
        .await();
    api = new CoordinatorClient(coordinator.httpPort());
    ops = api.withToken(api.token("ops", "ops-password"));
    eve = api.withToken(api.token("eve", "eve-password"));
    awaitSize(1);
  }

  @AfterAll
  static void stop() {
    TestUsers.stop(coordinator, sandbox);
  }

  @Test
  @Order(1)
  void onlyALoggedInOperatorMayActAndACookieSessionNeedsItsCsrfToken() {
    assertError(api.pause("web"), 401, "log in first");
    assertError(eve.pause("web"), 403, "operator role; eve is a viewer");
    HttpReply login = api.login("ops", "ops-password");
    String cookie = login.cookie(CoordinatorClient.SESSION_COOKIE).orElseThrow();
    String csrf = login.json().getString("csrfToken");
    assertError(api.withSession(cookie, null).pause("web"), 403, "X-CSRF-Token");
    HttpReply paused = api.withSession(cookie, csrf).pause("web");
    assertThat(paused.status()).as(paused.body()).isEqualTo(200);
    assertThat(ops.resume("web").status()).isEqualTo(200);
    assertThat(group().paused()).isFalse();
  }

  @Test
  @Order(2)
  void newBoundsApplyAtOnceAndTheLedgerSaysWhoSetThem() {
    HttpReply set = ops.bounds("web", 2, 4);
    assertThat(set.status()).as(set.body()).isEqualTo(200);
    String entry = set.json().getString("entry");
    awaitSize(2);
    JsonObject noted = entries().stream().filter(e -> e.getString("id").equals(entry)).findFirst().orElseThrow();
    assertThat(noted.getString("actor")).isEqualTo("ops");
    assertThat(noted.getJsonObject("decision").getString("rule")).isEqualTo("operator");
    assertThat(noted.getJsonObject("decision").getString("reason")).isEqualTo("ops set min 2, max 4 (were 1, 4)");
    assertThat(entries()).anySatisfy(e -> assertThat(e.getJsonObject("decision").getString("rule"))
        .isEqualTo("below-min"));
    assertThat(group().min()).isEqualTo(2);
  }

  @Test
  @Order(3)
  void badBodiesAndUnknownTargetsAreRefusedNamingTheProblem() {
    assertError(ops.bounds("web", -1, 3), 400, "min");
    assertError(ops.bounds("web", 3, 2), 400, "max: 2 is below min (3)");
    assertError(ops.post("/api/groups/web/bounds", "{\"min\": \"2\", \"max\": 3}"), 400, "min");
    assertError(ops.post("/api/groups/web/bounds", "{\"min\": 2}"), 400, "max");
    assertError(ops.post("/api/groups/web/bounds", "{\"mn\": 2, \"max\": 3}"), 400, "mn");
    assertError(ops.post("/api/groups/web/bounds", "[2, 3]"), 400, "body");
    assertError(ops.post("/api/groups/web/bounds", "{\"min\": 2, \"max\": 3, \"x\": \"" + "y".repeat(70_000)
        + "\"}"), 413, "");
    assertError(ops.scale("web", 0), 400, "by");
    assertError(ops.post("/api/groups/web/scale", "{\"by\": 1.5}"), 400, "by");
    assertError(ops.scale("nope", 1), 404, "no such group: nope");
    assertError(ops.protect("i-0123456789abcdef0"), 404, "no such instance");
    assertError(ops.post("/api/groups/web/explode", "{}"), 404, "");
    assertThat(api.get("/health").status()).isEqualTo(200);
  }

  @Test
  @Order(4)
  void scaleByNWithinTheBoundsAndAConflictBeyondThem() {
    HttpReply up = ops.scale("web", 1);
    assertThat(up.status()).as(up.body()).isEqualTo(200);
    awaitSize(3);
    assertError(ops.scale("web", 2), 409, "from 3 to 5, outside min 2 and max 4");
    assertError(ops.scale("web", -2), 409, "from 3 to 1");
  }

  @Test
  @Order(5)
  void aProtectedInstanceIsNeverTheOneThatGoes() {
    List<String> before = group().instances();
    String keep = before.stream().sorted().findFirst().orElseThrow();
    assertThat(ops.protect(keep).status()).isEqualTo(200);
    assertThat(group().protectedInstances()).containsExactly(keep);
    HttpReply down = ops.scale("web", -1);
    assertThat(down.status()).as(down.body()).isEqualTo(200);
    awaitSize(2);
    assertThat(group().instances()).contains(keep);
    assertThat(ops.unprotect(keep).status()).isEqualTo(200);
    assertThat(group().protectedInstances()).isEmpty();
  }

  @Test
  @Order(6)
  void aPausedGroupIsNotScaledUntilItIsResumed() {
    assertThat(ops.pause("web").status()).isEqualTo(200);
    assertThat(group().paused()).isTrue();
    assertThat(ops.bounds("web", 3, 4).status()).isEqualTo(200);
    Await.until("a hold that says the group is paused", TIMEOUT, () -> entries().stream()
        .anyMatch(e -> e.getJsonObject("decision").getString("rule").equals("paused")
            && e.getJsonObject("decision").getString("reason").contains("it would have: grow")));
    assertThat(group().size()).as("no launch while paused").isEqualTo(2);
    assertThat(ops.resume("web").status()).isEqualTo(200);
    awaitSize(3);
  }

  private static void awaitSize(int size) {
    Await.until("group web at " + size + " with nothing in flight", TIMEOUT, () -> {
      GroupState group = group();
      return group.size() == size && group.launchesInFlight() == 0;
    });
  }

  private static GroupState group() {
    return ops.groups().groups().get(0);
  }

  private static List<JsonObject> entries() {
    return eve.decisions(null, null, 1000);
  }

  private static void assertError(HttpReply reply, int status, String text) {
    assertThat(reply.status()).as(reply.body()).isEqualTo(status);
    assertThat(reply.error()).contains(text).doesNotContain("Exception");
  }
}
