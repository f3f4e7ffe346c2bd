package io.fleetvote.coordinator;

import io.fleetvote.common.cluster.ClusterOptions;
import io.fleetvote.common.msg.LeadershipState;
import io.fleetvote.common.msg.ScalingState.GroupState;
import io.fleetvote.common.net.FreePorts;
import io.fleetvote.sandbox.ImageCatalog;
import io.fleetvote.testkit.Await;
import io.fleetvote.testkit.CoordinatorClient;
import io.fleetvote.testkit.HttpReply;
import io.fleetvote.testkit.LocalCluster;
import io.fleetvote.testkit.SandboxProcess;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Any coordinator serves the API and the dashboard; an action sent to a standby reaches the leader, which carries
 * it out once, and every coordinator shows its effect.
 */
class StandbyForwardsActionsIT {

  private static final Duration TIMEOUT = Duration.ofSeconds(90);

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
        List<ClusterOptions> members = LocalCluster.members(LocalCluster.name("standby"),
            List.of(FreePorts.pick(), FreePorts.pick(), FreePorts.pick()));
        JsonObject web = new JsonObject().put("name", "web").put("imageId", ImageCatalog.imageId("idle"))
            .put("min", 1).put("max", 3).put("calmTimeMs", 0).put("bootTimeoutMs", 600_000);
        List<Future<Coordinator>> starting = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
          starting.add(Coordinator.start(new CoordinatorOptions(new JsonObject().put("deployment", "it")
              .put("httpPort", 0)
              .put("cluster", members.get(i).toJson().put("keyStore", CoordinatorProcess.sharedKey(dir).toString()))
              .put("gateway", sandbox.agentGateway())
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
            .filter(c -> !leads(c)).findFirst()
            .filter(c -> coordinators.stream().anyMatch(StandbyForwardsActionsIT::leads))
            .orElse(null), c -> c != null);
        Await.until("group web at 1", TIMEOUT, () -> group(standby).map(g -> g.size() == 1).orElse(false));

        HttpReply set = api(standby).bounds("web", 2, 3);
        assertThat(set.status()).as(set.body()).isEqualTo(200);
        String entry = set.json().getString("entry");
        for (Coordinator c : coordinators) {
          Await.until("min 2 and size 2 on every coordinator", TIMEOUT,
              () -> group(c).map(g -> g.min() == 2 && g.size() == 2).orElse(false));
        }
        assertThat(sandbox.admin().instances().stream().filter(i -> !i.getString("state").equals("terminated")))
            .as("one launch for the one action").hasSize(2);
        JsonObject noted = api(standby).decisions(null, null, 100).stream().filter(e -> e.getString("id").equals(entry)).findFirst().orElseThrow();
        assertThat(noted.getJsonObject("decision").getString("reason")).isEqualTo("anyone set min 2, max 3 (were 1, 3)");

        assertThat(api(standby).pause("web").status()).isEqualTo(200);
        for (Coordinator c : coordinators) {
          Await.until("paused on every coordinator", TIMEOUT, () -> group(c).map(GroupState::paused).orElse(false));
        }
        assertThat(api(standby).get("/").body()).as("the standby serves the dashboard too")
            .contains("<title>Fleetvote</title>");
      } finally {
        for (Coordinator c : coordinators) {
          c.close().await();
        }
      }
    }
  }

  private static CoordinatorClient api(Coordinator coordinator) {
    return new CoordinatorClient(coordinator.httpPort());
  }

  private static boolean leads(Coordinator coordinator) {
    return api(coordinator).ifAnswered(CoordinatorClient::leader).map(LeadershipState::leader).orElse(false);
  }

  /** Group web as this coordinator shows it; empty while it does not answer. */
  private static Optional<GroupState> group(Coordinator coordinator) {
    return api(coordinator).ifAnswered(CoordinatorClient::groups).map(state -> state.groups().get(0));
  }
}
