package io.fleetvote.coordinator;

import io.fleetvote.common.net.FreePorts;
import io.fleetvote.sandbox.ImageCatalog;
import io.fleetvote.testkit.Await;
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

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The operators' actions through the REST API, against a real coordinator and sandbox (instances without agents,
 * so only the operators move the group): bounds, scale by N, pause and resume, protect; each in the ledger with who
 * did it; every refusal a JSON error with its status.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OperatorActionsIT {

  private static final Duration TIMEOUT = Duration.ofSeconds(60);
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(2)).build();

  @TempDir
  static Path dir;
  static SandboxProcess sandbox;
  static Coordinator coordinator;
  static String ops;
  static String eve;

  @BeforeAll
  static void start() throws Exception {
    Path images = dir.resolve("images.json");
    Files.writeString(images, new JsonObject().put("images", new JsonArray().add(new JsonObject()
        .put("name", "idle").put("description", "an instance without an agent")
        .put("processes", new JsonArray().add(new JsonObject().put("name", "sleep")
            .put("command", new JsonArray().add("sleep").add("3600")).put("stopTimeoutMillis", 1000))))).encode());
    sandbox = SandboxProcess.start(dir.resolve("sandbox"), "--images", images.toString());
    Path users = TestUsers.write(dir);
    int clusterPort = FreePorts.pick();
    JsonObject web = new JsonObject().put("name", "web").put("imageId", ImageCatalog.imageId("idle"))
        .put("min", 1).put("max", 4).put("calmTimeMs", 0).put("bootTimeoutMs", 600_000);
    coordinator = Coordinator.start(new CoordinatorOptions(new JsonObject().put("deployment", "it").put("httpPort", 0)
        .put("usersFile", users.toString())
        .put("cluster", new JsonObject().put("clusterName", "ops-" + UUID.randomUUID()).put("port", clusterPort)
            .put("portAutoIncrement", false).put("members", new JsonArray().add("127.0.0.1:" + clusterPort)))
        .put("dataDir", dir.resolve("coordinator").toString())
        .put("scaling", new JsonObject().put("tickMillis", 200)
            .put("fleetRefreshMillis", 1000).put("groups", new JsonArray().add(web))
            .put("fleet", new JsonObject().put("deployment", "it").put("endpoint", sandbox.endpoint().toString())))))
        .await();
    ops = token("ops", "ops-password");
    eve = token("eve", "eve-password");
    awaitSize(1);
  }

  @AfterAll
  static void stop() {
    TestUsers.stop(coordinator, sandbox);
  }

  @Test
  @Order(1)
  void onlyALoggedInOperatorMayActAndACookieSessionNeedsItsCsrfToken() throws Exception {
    assertError(send(post("/api/groups/web/pause", "{}", null)), 401, "log in first");
    assertError(send(post("/api/groups/web/pause", "{}", eve)), 403, "operator role; eve is a viewer");
    HttpResponse<String> login = send(post("/api/login", "{\"name\": \"ops\", \"password\": \"ops-password\"}", null));
    String cookie = login.headers().allValues("set-cookie").stream().filter(c -> c.startsWith("fv_session="))
        .findFirst().orElseThrow().split(";")[0];
    String csrf = new JsonObject(login.body()).getString("csrfToken");
    assertError(send(request("/api/groups/web/pause").header("Cookie", cookie)
        .POST(HttpRequest.BodyPublishers.ofString("{}"))), 403, "X-CSRF-Token");
    HttpResponse<String> paused = send(request("/api/groups/web/pause").header("Cookie", cookie)
        .header("X-CSRF-Token", csrf).POST(HttpRequest.BodyPublishers.ofString("{}")));
    assertThat(paused.statusCode()).as(paused.body()).isEqualTo(200);
    assertThat(send(post("/api/groups/web/resume", "", ops)).statusCode()).isEqualTo(200);
    assertThat(group().getBoolean("paused")).isFalse();
  }

  @Test
  @Order(2)
  void newBoundsApplyAtOnceAndTheLedgerSaysWhoSetThem() throws Exception {
    HttpResponse<String> set = send(post("/api/groups/web/bounds", "{\"min\": 2, \"max\": 4}", ops));
    assertThat(set.statusCode()).as(set.body()).isEqualTo(200);
    String entry = new JsonObject(set.body()).getString("entry");
    awaitSize(2);
    JsonObject noted = entries().stream().filter(e -> e.getString("id").equals(entry)).findFirst().orElseThrow();
    assertThat(noted.getString("actor")).isEqualTo("ops");
    assertThat(noted.getJsonObject("decision").getString("rule")).isEqualTo("operator");
    assertThat(noted.getJsonObject("decision").getString("reason")).isEqualTo("ops set min 2, max 4 (were 1, 4)");
    assertThat(entries()).anySatisfy(e -> assertThat(e.getJsonObject("decision").getString("rule"))
        .isEqualTo("below-min"));
    assertThat(group().getInteger("min")).isEqualTo(2);
  }

  @Test
  @Order(3)
  void badBodiesAndUnknownTargetsAreRefusedNamingTheProblem() throws Exception {
    assertError(send(post("/api/groups/web/bounds", "{\"min\": -1, \"max\": 3}", ops)), 400, "min");
    assertError(send(post("/api/groups/web/bounds", "{\"min\": 3, \"max\": 2}", ops)), 400, "max: 2 is below min (3)");
    assertError(send(post("/api/groups/web/bounds", "{\"min\": \"2\", \"max\": 3}", ops)), 400, "min");
    assertError(send(post("/api/groups/web/bounds", "{\"min\": 2}", ops)), 400, "max");
    assertError(send(post("/api/groups/web/bounds", "{\"mn\": 2, \"max\": 3}", ops)), 400, "mn");
    assertError(send(post("/api/groups/web/bounds", "[2, 3]", ops)), 400, "body");
    assertError(send(post("/api/groups/web/bounds", "{\"min\": 2, \"max\": 3, \"x\": \"" + "y".repeat(70_000)
        + "\"}", ops)), 413, "");
    assertError(send(post("/api/groups/web/scale", "{\"by\": 0}", ops)), 400, "by");
    assertError(send(post("/api/groups/web/scale", "{\"by\": 1.5}", ops)), 400, "by");
    assertError(send(post("/api/groups/nope/scale", "{\"by\": 1}", ops)), 404, "no such group: nope");
    assertError(send(post("/api/instances/i-0123456789abcdef0/protect", "", ops)), 404, "no such instance");
    assertError(send(post("/api/groups/web/explode", "{}", ops)), 404, "");
    assertThat(send(request("/health")).statusCode()).isEqualTo(200);
  }

  @Test
  @Order(4)
  void scaleByNWithinTheBoundsAndAConflictBeyondThem() throws Exception {
    HttpResponse<String> up = send(post("/api/groups/web/scale", "{\"by\": 1}", ops));
    assertThat(up.statusCode()).as(up.body()).isEqualTo(200);
    awaitSize(3);
    assertError(send(post("/api/groups/web/scale", "{\"by\": 2}", ops)), 409, "from 3 to 5, outside min 2 and max 4");
    assertError(send(post("/api/groups/web/scale", "{\"by\": -2}", ops)), 409, "from 3 to 1");
  }

  @Test
  @Order(5)
  void aProtectedInstanceIsNeverTheOneThatGoes() throws Exception {
    List<String> before = instances();
    String keep = before.stream().sorted().findFirst().orElseThrow();
    assertThat(send(post("/api/instances/" + keep + "/protect", "", ops)).statusCode()).isEqualTo(200);
    assertThat(group().getJsonArray("protected")).containsExactly(keep);
    HttpResponse<String> down = send(post("/api/groups/web/scale", "{\"by\": -1}", ops));
    assertThat(down.statusCode()).as(down.body()).isEqualTo(200);
    awaitSize(2);
    assertThat(instances()).contains(keep);
    assertThat(send(post("/api/instances/" + keep + "/unprotect", "", ops)).statusCode()).isEqualTo(200);
    assertThat(group().getJsonArray("protected")).isEmpty();
  }

  @Test
  @Order(6)
  void aPausedGroupIsNotScaledUntilItIsResumed() throws Exception {
    assertThat(send(post("/api/groups/web/pause", "", ops)).statusCode()).isEqualTo(200);
    assertThat(group().getBoolean("paused")).isTrue();
    assertThat(send(post("/api/groups/web/bounds", "{\"min\": 3, \"max\": 4}", ops)).statusCode()).isEqualTo(200);
    Await.until("a hold that says the group is paused", TIMEOUT, () -> entries().stream()
        .anyMatch(e -> e.getJsonObject("decision").getString("rule").equals("paused")
            && e.getJsonObject("decision").getString("reason").contains("it would have: grow")));
    assertThat(group().getInteger("size")).as("no launch while paused").isEqualTo(2);
    assertThat(send(post("/api/groups/web/resume", "", ops)).statusCode()).isEqualTo(200);
    awaitSize(3);
  }

  private static void awaitSize(int size) {
    Await.until("group web at " + size + " with nothing in flight", TIMEOUT, () -> {
      JsonObject group = group();
      return group.getInteger("size") == size && group.getInteger("launchesInFlight") == 0;
    });
  }

  private static JsonObject group() {
    try {
      return new JsonObject(send(request("/api/groups").header("Authorization", "Bearer " + ops)).body())
          .getJsonArray("groups").getJsonObject(0);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static List<String> instances() {
    return group().getJsonArray("instances").stream().map(String.class::cast).toList();
  }

  private static List<JsonObject> entries() {
    try {
      return new JsonObject(send(request("/api/decisions?limit=1000").header("Authorization", "Bearer " + eve)).body())
          .getJsonArray("entries").stream().map(JsonObject.class::cast).toList();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static String token(String name, String password) throws Exception {
    return new JsonObject(send(post("/api/tokens", new JsonObject().put("name", name).put("password", password)
        .encode(), null)).body()).getString("token");
  }

  private static void assertError(HttpResponse<String> response, int status, String text) {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
    assertThat(new JsonObject(response.body()).getString("error")).contains(text).doesNotContain("Exception");
  }

  private static HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + coordinator.httpPort() + path))
        .timeout(Duration.ofSeconds(30));
  }

  private static HttpRequest.Builder post(String path, String body, String bearer) {
    HttpRequest.Builder builder = request(path).POST(HttpRequest.BodyPublishers.ofString(body))
        .header("Content-Type", "application/json");
    return bearer == null ? builder : builder.header("Authorization", "Bearer " + bearer);
  }

  private static HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
    return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }
}
