package io.fleetvote.coordinator;

import io.fleetvote.common.net.FreePorts;
import io.fleetvote.sandbox.ImageCatalog;
import io.fleetvote.testkit.Await;
import io.fleetvote.testkit.SandboxProcess;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Any coordinator serves the API and the dashboard; an action sent to a standby reaches the leader, which carries
 * it out once, and every coordinator shows its effect.
 */
class StandbyForwardsActionsIT {

  private static final Duration TIMEOUT = Duration.ofSeconds(90);
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(2)).build();

  @TempDir
  Path dir;

  @Test
  void anActionSentToAStandbyIsCarriedOutByTheLeader() throws Exception {
    Path images = dir.resolve("images.json");
    Files.writeString(images, new JsonObject().put("images", new JsonArray().add(new JsonObject()
        .put("name", "idle").put("description", "an instance without an agent")
        .put("processes", new JsonArray().add(new JsonObject().put("name", "sleep")
            .put("command", new JsonArray().add("sleep").add("3600")).put("stopTimeoutMillis", 1000))))).encode());
    List<Coordinator> coordinators = new ArrayList<>();
    try (SandboxProcess sandbox = SandboxProcess.start(dir.resolve("sandbox"), "--images", images.toString())) {
      try {
        List<Integer> ports = List.of(FreePorts.pick(), FreePorts.pick(), FreePorts.pick());
        JsonArray members = new JsonArray();
        ports.forEach(p -> members.add("127.0.0.1:" + p));
        String cluster = "standby-" + UUID.randomUUID();
        JsonObject web = new JsonObject().put("name", "web").put("imageId", ImageCatalog.imageId("idle"))
            .put("min", 1).put("max", 3).put("calmTimeMs", 0).put("bootTimeoutMs", 600_000);
        List<Future<Coordinator>> starting = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
          starting.add(Coordinator.start(new CoordinatorOptions(new JsonObject().put("deployment", "it")
              .put("httpPort", 0)
              .put("cluster", new JsonObject().put("clusterName", cluster).put("port", ports.get(i))
                  .put("portAutoIncrement", false).put("members", members))
              .put("coordinators", 3).put("dataDir", dir.resolve("c" + i).toString())
              .put("scaling", new JsonObject().put("tickMillis", 200).put("fleetRefreshMillis", 1000)
                  .put("groups", new JsonArray().add(web))
                  .put("fleet", new JsonObject().put("deployment", "it")
                      .put("endpoint", sandbox.endpoint().toString()))))));
        }
        for (Future<Coordinator> future : starting) {
          coordinators.add(future.await());
        }
        Coordinator standby = Await.until("a leader and two standbys", TIMEOUT, () -> coordinators.stream()
            .filter(c -> !get(c, "/api/leader").getBoolean("leader", false)).findFirst()
            .filter(c -> coordinators.stream().anyMatch(o -> get(o, "/api/leader").getBoolean("leader", false)))
            .orElse(null), c -> c != null);
        Await.until("group web at 1", TIMEOUT, () -> group(standby).getInteger("size") == 1);

        HttpResponse<String> set = post(standby, "/api/groups/web/bounds", "{\"min\": 2, \"max\": 3}");
        assertThat(set.statusCode()).as(set.body()).isEqualTo(200);
        String entry = new JsonObject(set.body()).getString("entry");
        for (Coordinator c : coordinators) {
          Await.until("min 2 and size 2 on every coordinator", TIMEOUT,
              () -> group(c).getInteger("min") == 2 && group(c).getInteger("size") == 2);
        }
        assertThat(sandbox.admin().instances().stream().filter(i -> !i.getString("state").equals("terminated")))
            .as("one launch for the one action").hasSize(2);
        JsonObject noted = get(standby, "/api/decisions?limit=100").getJsonArray("entries").stream()
            .map(JsonObject.class::cast).filter(e -> e.getString("id").equals(entry)).findFirst().orElseThrow();
        assertThat(noted.getJsonObject("decision").getString("reason")).isEqualTo("anyone set min 2, max 3 (were 1, 3)");

        assertThat(post(standby, "/api/groups/web/pause", "").statusCode()).isEqualTo(200);
        for (Coordinator c : coordinators) {
          Await.until("paused on every coordinator", TIMEOUT, () -> group(c).getBoolean("paused"));
        }
        assertThat(HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + standby.httpPort() + "/"))
            .build(), HttpResponse.BodyHandlers.ofString()).body()).as("the standby serves the dashboard too")
            .contains("<title>Fleetvote</title>");
      } finally {
        for (Coordinator c : coordinators) {
          c.close().await();
        }
      }
    }
  }

  private static JsonObject group(Coordinator coordinator) {
    return get(coordinator, "/api/groups").getJsonArray("groups", new JsonArray().add(new JsonObject()
        .put("size", -1).put("min", -1).put("paused", false))).getJsonObject(0);
  }

  private static JsonObject get(Coordinator coordinator, String path) {
    try {
      HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
          + coordinator.httpPort() + path)).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
      return response.statusCode() == 200 ? new JsonObject(response.body()) : new JsonObject();
    } catch (Exception e) {
      return new JsonObject();
    }
  }

  private static HttpResponse<String> post(Coordinator coordinator, String path, String body) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + coordinator.httpPort() + path))
        .POST(HttpRequest.BodyPublishers.ofString(body)).timeout(Duration.ofSeconds(60)).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
