package io.fleetvote.bench;

import io.fleetvote.common.Addresses;
import io.fleetvote.common.cli.CommandLine;
import io.fleetvote.common.msg.AgentHeartbeat;
import io.fleetvote.common.msg.LbStatus;
import io.fleetvote.common.msg.Role;
import io.fleetvote.common.msg.Vote;
import io.fleetvote.common.msg.VoteKind;
import io.fleetvote.common.net.FreePorts;
import io.fleetvote.testkit.Await;
import io.fleetvote.testkit.Chromium;
import io.fleetvote.testkit.ManagedProcess;
import io.fleetvote.testkit.SandboxProcess;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * {@code ./fleetvote bench dashboard}: one browser (Debian's chromium, headless) on the dashboard of a coordinator
 * process (open: {@code --no-auth}) whose group holds N instances (real sandbox instances without agents; the
 * benchmark sends their heartbeats and votes, with changing loads, through the coordinator's agent gateway as their
 * agents would, and an LB instance's status listing them all). Reports the bytes per second the bridge pushes to the browser and how long the page takes to apply one
 * snapshot (performance.measure in the page).
 */
public final class DashboardBench {

  private static final String GROUP = "web";
  private static final String LB_GROUP = "lb";

  private DashboardBench() {
  }

  public static void main(String[] args) throws Exception {
    CommandLine cli = BenchSupport.withSmoke(new CommandLine("bench dashboard",
        "Measures the dashboard with N simulated instances in one headless chromium: bytes per second pushed, "
            + "time to apply one snapshot.")
        .option("instances", "N", "the instances the dashboard shows", "500")
        .option("seconds", "S", "how long to measure, once the page shows them all", "60"));
    // The fleet described every 5 s (1 s in a smoke run: the launch is seen sooner).
    int[] settings = cli.parseOrExit(args, p -> new int[] {BenchSupport.count(p, "instances", 1, 5000, 3),
        BenchSupport.count(p, "seconds", 1, 3600, 2), p.flag("smoke") ? 1000 : 5000});
    int instances = settings[0];
    Path dir = Files.createTempDirectory("fleetvote-bench-dashboard-");
    Path images = BenchSupport.idleImages(dir);
    Path groups = BenchSupport.idleGroup(dir, GROUP, instances, instances);
    // And one LB (an idle instance too, in a group of role lb) whose status lists them all.
    JsonObject withLb = new JsonObject(Files.readString(groups));
    withLb.getJsonArray("groups").add(withLb.getJsonArray("groups").getJsonObject(0).copy().put("name", LB_GROUP)
        .put("min", 1).put("max", 1).put("agent", new JsonObject().put("roles", new JsonArray().add("lb"))
            .put("lb", new JsonObject().put("serves", GROUP))));
    Files.writeString(groups, withLb.encode());
    int clusterPort = FreePorts.pick();
    int apiPort = FreePorts.pick();
    String cluster = "bench-ui-" + UUID.randomUUID();
    // Room for every idle instance at its default type (t3.micro, 0.25 vCPU) and then some: they never run work.
    try (SandboxProcess sandbox = SandboxProcess.start(dir.resolve("sandbox"), "--images", images.toString(),
             "--max-instances", Integer.toString(instances + 10), "--max-vcpus", Integer.toString(instances + 10));
         ManagedProcess coordinator = BenchSupport.coordinator(dir, sandbox, groups, cluster, clusterPort, apiPort,
             1000, settings[2])) {
      System.out.printf("launching %d instances in the sandbox ...%n", instances + 1);
      // Every 50 ms, not the 2 ms the timing benchmarks poll at: each answer lists every instance.
      Await.until(instances + 1 + " running instances in the sandbox", Duration.ofMinutes(5),
          () -> running(sandbox, instances + 1), Optional::isPresent).orElseThrow();
      List<String> ids = Await.until("the coordinator counting them", Duration.ofMinutes(2),
          () -> BenchSupport.group(apiPort, GROUP).map(g -> g.getJsonArray("instances").stream()
              .map(String.class::cast).toList()), g -> g.isPresent() && g.get().size() == instances).orElseThrow();
      String lb = BenchSupport.group(apiPort, LB_GROUP).orElseThrow().getJsonArray("instances").getString(0);
      List<String> all = new ArrayList<>(ids);
      all.add(lb);
      try (SimulatedAgents agents = SimulatedAgents.connect(sandbox.admin(), all, Duration.ofMinutes(2));
           Chromium browser = Chromium.start(dir.resolve("chromium"))) {
        speakFor(agents, ids, lb);
        browser.driver().get("http://127.0.0.1:" + apiPort + "/");
        new WebDriverWait(browser.driver(), Duration.ofSeconds(60)).until(d -> ((Number) browser.script(
            "return window.fleetvoteStats ? window.fleetvoteStats.instancesShown : 0;")).intValue() >= instances);
        System.out.printf("the page shows %d instances; measuring for %d s ...%n", instances, settings[1]);
        browser.script("window.fleetvoteStats.applyMs = []; window.benchStart = {bytes: window.fleetvoteStats.bus"
            + ".bytes, messages: window.fleetvoteStats.bus.messages, at: performance.now()};");
        Thread.sleep(settings[1] * 1000L);
        @SuppressWarnings("unchecked")
        Map<String, Object> result = (Map<String, Object>) browser.script("const s = window.fleetvoteStats;"
            + "return {bytes: s.bus.bytes - window.benchStart.bytes, messages: s.bus.messages - window.benchStart"
            + ".messages, ms: performance.now() - window.benchStart.at, apply: s.applyMs, shown: s.instancesShown};");
        report(instances, result);
      }
      coordinator.stop();
      sandbox.admin().terminateAll();
    }
  }

  /** The sandbox's running instances, once there are {@code count}. */
  private static Optional<List<String>> running(SandboxProcess sandbox, int count) {
    List<String> running = sandbox.admin().instances().stream().filter(i -> i.getString("state").equals("running"))
        .map(i -> i.getString("instanceId")).toList();
    return running.size() >= count ? Optional.of(running) : Optional.empty();
  }

  /** Heartbeats and votes (loads that wander) once a second for every instance, and an LB listing them all. */
  private static void speakFor(SimulatedAgents agents, List<String> ids, String lb) {
    long startedAt = System.currentTimeMillis();
    Random random = new Random(42);
    double[] loads = ids.stream().mapToDouble(id -> 20 + random.nextDouble() * 40).toArray();
    agents.vertx().setPeriodic(0, 1000, t -> {
      long now = System.currentTimeMillis();
      List<LbStatus.Server> servers = new ArrayList<>();
      for (int i = 0; i < ids.size(); i++) {
        loads[i] = Math.max(0, Math.min(100, loads[i] + random.nextGaussian() * 5));
        String id = ids.get(i);
        agents.publish(id, Addresses.AGENT_HEARTBEATS, new AgentHeartbeat(id, "bench", GROUP, Set.of(Role.APP),
            "127.0.0.1", 8080, 9110, 0, startedAt, now, true, "", false).toJson());
        VoteKind kind = loads[i] > 70 ? VoteKind.GROW : loads[i] < 30 ? VoteKind.SHRINK : VoteKind.NONE;
        agents.publish(id, Addresses.VOTES, new Vote(id, "bench", GROUP, kind, loads[i], true, false, startedAt,
            now, 3000).toJson());
        servers.add(new LbStatus.Server(id, "UP", "L7OK", random.nextInt(5), 1000 + i, 100));
      }
      agents.publish(lb, Addresses.LB_STATUS, new LbStatus(lb, "bench", GROUP, now, servers, false, "").toJson());
    });
  }

  private static void report(int instances, Map<String, Object> result) {
    double seconds = ((Number) result.get("ms")).doubleValue() / 1000;
    long bytes = ((Number) result.get("bytes")).longValue();
    long messages = ((Number) result.get("messages")).longValue();
    @SuppressWarnings("unchecked")
    List<Number> apply = (List<Number>) result.get("apply");
    List<Double> sorted = apply.stream().map(Number::doubleValue).sorted().collect(Collectors.toList());
    System.out.printf(Locale.ROOT, "%n%-44s %12s%n", "dashboard, " + instances + " instances, one browser", "");
    System.out.printf(Locale.ROOT, "%-44s %12.0f%n", "bytes per second pushed to the browser", bytes / seconds);
    System.out.printf(Locale.ROOT, "%-44s %12.2f%n", "bridge messages per second", messages / seconds);
    System.out.printf(Locale.ROOT, "%-44s %12d%n", "snapshot size (bytes, mean)", messages == 0 ? 0 : bytes / messages);
    if (!sorted.isEmpty()) {
      System.out.printf(Locale.ROOT, "%-44s %12.1f%n", "apply one snapshot, median (ms)", sorted.get(sorted.size() / 2));
      System.out.printf(Locale.ROOT, "%-44s %12.1f%n", "apply one snapshot, p95 (ms)",
          sorted.get(Math.max(0, (int) Math.ceil(0.95 * sorted.size()) - 1)));
      System.out.printf(Locale.ROOT, "%-44s %12s%n", "apply one snapshot, min / max (ms)",
          String.format(Locale.ROOT, "%.1f / %.1f", sorted.get(0), sorted.get(sorted.size() - 1)));
    }
    System.out.printf(Locale.ROOT, "%-44s %12d%n", "snapshots applied", sorted.size());
    System.out.printf(Locale.ROOT, "%-44s %12s%n", "measured over (s)", String.format(Locale.ROOT, "%.1f", seconds));
  }
}
