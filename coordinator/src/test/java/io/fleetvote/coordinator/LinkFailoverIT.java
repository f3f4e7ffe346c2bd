package io.fleetvote.coordinator;

import io.fleetvote.common.msg.ScalingState;
import io.fleetvote.sandbox.ImageCatalog;
import io.fleetvote.testkit.Await;
import io.fleetvote.testkit.Http;
import io.fleetvote.testkit.HttpReply;
import io.fleetvote.testkit.SandboxAdmin;
import io.fleetvote.testkit.SandboxProcess;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An agent's coordinator goes, and the agent moves to another one, with real processes: two coordinator processes
 * (each with its own agent gateway) and group web's two app instances. Each agent knows both gateways (its
 * user-data, or the list its first coordinator gave it). The coordinator that took the first agent is killed
 * (SIGKILL: its connections reset at once): the agent is taken by the other, which counts its votes, and says in its
 * log that it lost its coordinator. (A frozen one, which only the link's lease can tell, is the link-failover
 * benchmark's, which BenchSmokeIT runs: every agent moves, the survivor counts their votes.) The move is printed
 * with the time it took; the figures are the benchmark's to report.
 */
class LinkFailoverIT {

  private static final Duration TIMEOUT = Duration.ofSeconds(90);

  @TempDir
  Path dir;
  SandboxProcess sandbox;
  final List<CoordinatorProcess> coordinators = new ArrayList<>();

  @AfterEach
  void stop() throws IOException {
    try {
      coordinators.forEach(CoordinatorProcess::close);
      // The coordinators' logs outlive the test's directory, for a failure's reader.
      Path kept = Files.createDirectories(Path.of("target", "link-failover-logs"));
      try (Stream<Path> logs = Files.walk(dir)) {
        for (Path log : logs.filter(f -> f.getFileName().toString().matches("c\\d\\.log|agent\\.log")).toList()) {
          String name = log.getFileName().toString().equals("agent.log")
              ? log.getParent().getFileName() + "-agent.log" : log.getFileName().toString();
          Files.copy(log, kept.resolve(name), StandardCopyOption.REPLACE_EXISTING);
        }
      }
    } finally {
      if (sandbox != null) {
        sandbox.close();
      }
    }
  }

  @Test
  void anAgentWhoseCoordinatorFreezesOrDiesIsTakenByAnotherThatCountsItsVotes() throws Exception {
    sandbox = SandboxProcess.start(dir.resolve("sandbox"));
    SandboxAdmin admin = sandbox.admin();
    Path groups = dir.resolve("groups.json");
    Files.writeString(groups, new JsonObject().put("groups", new JsonArray().add(new JsonObject().put("name", "web")
        .put("imageId", ImageCatalog.imageId("fleetvote-app")).put("min", 2).put("max", 2)
        .put("agent", new JsonObject().put("gossipPeriodMs", 500).put("sampleMs", 500).put("warmupMs", 0))))
        .encode());
    List<Integer> ports = CoordinatorProcess.clusterPorts(2);
    String cluster = "link-failover-" + UUID.randomUUID();
    for (int i = 0; i < 2; i++) {
      List<String> args = new ArrayList<>(List.of("--deployment", "it", "--cluster-name", cluster,
          "--groups", groups.toString(), "--coordinators", "2", "--ec2-endpoint", sandbox.endpoint().toString(),
          "--tick-ms", "500", "--fleet-refresh-ms", "1000"));
      args.addAll(sandbox.agentGatewayArgs());
      coordinators.add(CoordinatorProcess.start("c" + i, dir, ports.get(i), ports, args));
    }
    List<String> web = Await.until("group web's 2 instances", TIMEOUT, () -> coordinators.get(0).api
        .ifAnswered(api -> api.group("web")).flatMap(g -> g).map(ScalingState.GroupState::instances)
        .filter(i -> i.size() == 2), Optional::isPresent).orElseThrow();
    String agent = web.get(0);
    Await.until("both agents' votes counted by both coordinators", TIMEOUT, () -> coordinators.stream()
        .allMatch(c -> counted(c) == 2));
    Await.until(agent + " knowing both coordinators", TIMEOUT,
        () -> health(admin, agent).map(h -> h.getJsonArray("coordinators").size() == 2).orElse(false));

    CoordinatorProcess first = on(admin, agent).orElseThrow();
    CoordinatorProcess other = coordinators.stream().filter(c -> c != first).findFirst().orElseThrow();
    long killed = System.nanoTime();
    first.kill();
    Await.until(agent + " taken by " + other.name, TIMEOUT, () -> on(admin, agent).orElse(null) == other);
    System.out.printf("coordinator %s killed -> %s taken by %s after %d ms%n", first.name, agent, other.name,
        Duration.ofNanos(System.nanoTime() - killed).toMillis());
    Await.until("both agents' votes counted by " + other.name, TIMEOUT, () -> counted(other) == 2);
    assertThat(Files.readString(Path.of(admin.instance(agent).getString("dir"), "agent.log")))
        .contains("lost coordinator");
  }

  /** The live votes of group web (grow, shrink or none) {@code coordinator} counts; -1 while it does not answer. */
  private static int counted(CoordinatorProcess coordinator) {
    return coordinator.api.ifAnswered(api -> api.group("web")).flatMap(g -> g)
        .map(g -> g.votes().grow() + g.votes().shrink() + g.votes().none()).orElse(-1);
  }

  /** The coordinator the agent says took it: its id is its API's address. */
  private Optional<CoordinatorProcess> on(SandboxAdmin admin, String instance) {
    String id = health(admin, instance).map(h -> h.getString("coordinator")).orElse(null);
    return coordinators.stream().filter(c -> ("127.0.0.1:" + c.httpPort).equals(id)).findFirst();
  }

  private static Optional<JsonObject> health(SandboxAdmin admin, String instance) {
    try {
      return Http.answer(Http.request(Http.local(admin.port(instance, "agent"), "/health")))
          .filter(reply -> reply.status() == 200).map(HttpReply::json);
    } catch (RuntimeException e) {
      return Optional.empty();
    }
  }
}
