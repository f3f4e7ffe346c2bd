package io.fleetvote.coordinator.ui;

import io.fleetvote.common.Addresses;
import io.fleetvote.common.cluster.ClusterBootstrap;
import io.fleetvote.common.cluster.ClusterOptions;
import io.fleetvote.common.msg.AgentHeartbeat;
import io.fleetvote.common.msg.LbStatus;
import io.fleetvote.common.msg.Role;
import io.fleetvote.common.msg.Vote;
import io.fleetvote.common.msg.VoteKind;
import io.fleetvote.common.net.FreePorts;
import io.fleetvote.coordinator.Coordinator;
import io.fleetvote.coordinator.CoordinatorOptions;
import io.fleetvote.coordinator.TestUsers;
import io.fleetvote.sandbox.ImageCatalog;
import io.fleetvote.testkit.SandboxProcess;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * {@code ./fleetvote bench dashboard}: one browser (Debian's chromium, headless) on the dashboard of a coordinator
 * whose group holds N instances (real sandbox instances without agents; the benchmark sends their heartbeats and
 * votes, with changing loads, as their agents would, and an LB status listing them all). Reports the bytes per
 * second the bridge pushes to the browser and how long the page takes to apply one snapshot (performance.measure
 * in the page).
 */
public final class DashboardBench {

  private DashboardBench() {
  }

  public static void main(String[] args) throws Exception {
    int instances = args.length > 0 ? Integer.parseInt(args[0]) : 500;
    int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 60;
    Path dir = Files.createTempDirectory("fleetvote-bench-dashboard-");
    Path images = dir.resolve("images.json");
    // Outside any CPU quota: hundreds of sleepers that never run work need no cgroups.
    Files.writeString(images, new JsonObject().put("images", new JsonArray().add(new JsonObject()
        .put("name", "idle").put("description", "an instance without an agent: the benchmark speaks for it")
        .put("processes", new JsonArray().add(new JsonObject().put("name", "sleep")
            .put("command", new JsonArray().add("sleep").add("3600")).put("stopTimeoutMillis", 1000)
            .put("withinCapacity", false))))).encode());
    int clusterPort = FreePorts.pick();
    String cluster = "bench-ui-" + UUID.randomUUID();
    // Room for every idle instance at its default type (t3.micro, 0.25 vCPU) and then some: they never run work.
    SandboxProcess sandbox = SandboxProcess.start(dir.resolve("sandbox"), "--images", images.toString(),
        "--max-instances", Integer.toString(instances + 10), "--max-vcpus", Integer.toString(instances + 10));
    Coordinator coordinator = null;
    Vertx agents = null;
    Browser browser = null;
    try {
      JsonObject web = new JsonObject().put("name", "web").put("imageId", ImageCatalog.imageId("idle"))
          .put("min", instances).put("max", instances).put("bootTimeoutMs", 600_000);
      coordinator = Coordinator.start(new CoordinatorOptions(new JsonObject().put("deployment", "bench")
          .put("httpPort", 0).put("usersFile", TestUsers.write(dir).toString())
          .put("cluster", new JsonObject().put("clusterName", cluster).put("port", clusterPort)
              .put("portAutoIncrement", false).put("members", new JsonArray().add("127.0.0.1:" + clusterPort)))
          .put("dataDir", dir.resolve("coordinator").toString())
          .put("scaling", new JsonObject()
              .put("fleetRefreshMillis", 5000).put("groups", new JsonArray().add(web))
              .put("fleet", new JsonObject().put("deployment", "bench").put("endpoint", sandbox.endpoint().toString())))))
          .await();
      agents = ClusterBootstrap.clustered(new ClusterOptions().setClusterName(cluster).setPort(FreePorts.pick())
          .setPortAutoIncrement(false).setLiteMember(true).setMembers(List.of("127.0.0.1:" + clusterPort)),
          new VertxOptions()).await();
      System.out.printf("launching %d instances in the sandbox ...%n", instances);
      List<String> ids = awaitInstances(sandbox, instances);
      speakFor(agents, ids);
      browser = Browser.start(dir.resolve("chromium"));
      String base = "http://127.0.0.1:" + coordinator.httpPort();
      browser.driver.get(base + "/login.html");
      browser.driver.findElement(By.id("name")).sendKeys("ops");
      browser.driver.findElement(By.id("password")).sendKeys(TestUsers.OPS_PASSWORD);
      browser.driver.findElement(By.id("submit")).click();
      JavascriptExecutor js = (JavascriptExecutor) browser.driver;
      new WebDriverWait(browser.driver, Duration.ofSeconds(60)).until(d -> ((Number) js.executeScript(
          "return window.fleetvoteStats ? window.fleetvoteStats.instancesShown : 0;")).intValue() >= instances);
      System.out.printf("the page shows %d instances; measuring for %d s ...%n", instances, seconds);
      js.executeScript("window.fleetvoteStats.applyMs = []; window.benchStart = {bytes: window.fleetvoteStats.bus"
          + ".bytes, messages: window.fleetvoteStats.bus.messages, at: performance.now()};");
      Thread.sleep(seconds * 1000L);
      @SuppressWarnings("unchecked")
      Map<String, Object> result = (Map<String, Object>) js.executeScript("const s = window.fleetvoteStats;"
          + "return {bytes: s.bus.bytes - window.benchStart.bytes, messages: s.bus.messages - window.benchStart"
          + ".messages, ms: performance.now() - window.benchStart.at, apply: s.applyMs, shown: s.instancesShown};");
      report(instances, result);
    } finally {
      if (browser != null) {
        browser.close();
      }
      if (agents != null) {
        agents.close().await();
      }
      TestUsers.stop(coordinator, sandbox);
    }
  }

  private static List<String> awaitInstances(SandboxProcess sandbox, int count) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
    while (System.nanoTime() < deadline) {
      List<String> running = sandbox.admin().instances().stream().filter(i -> i.getString("state").equals("running"))
          .map(i -> i.getString("instanceId")).toList();
      if (running.size() >= count) {
        return running;
      }
      Thread.sleep(500);
    }
    throw new IllegalStateException("the sandbox did not run " + count + " instances within 5 minutes");
  }

  /** Heartbeats and votes (loads that wander) once a second for every instance, and an LB listing them all. */
  private static void speakFor(Vertx agents, List<String> ids) {
    long startedAt = System.currentTimeMillis();
    Random random = new Random(42);
    double[] loads = ids.stream().mapToDouble(id -> 20 + random.nextDouble() * 40).toArray();
    agents.setPeriodic(0, 1000, t -> {
      long now = System.currentTimeMillis();
      List<LbStatus.Server> servers = new ArrayList<>();
      for (int i = 0; i < ids.size(); i++) {
        loads[i] = Math.max(0, Math.min(100, loads[i] + random.nextGaussian() * 5));
        String id = ids.get(i);
        agents.eventBus().publish(Addresses.AGENT_HEARTBEATS, new AgentHeartbeat(id, "bench", "web", Set.of(Role.APP),
            "127.0.0.1", 8080, 9110, 0, startedAt, now, true, "", false).toJson());
        VoteKind kind = loads[i] > 70 ? VoteKind.GROW : loads[i] < 30 ? VoteKind.SHRINK : VoteKind.NONE;
        agents.eventBus().publish(Addresses.VOTES, new Vote(id, "bench", "web", kind, loads[i], true, false, startedAt,
            now, 3000).toJson());
        servers.add(new LbStatus.Server(id, "UP", "L7OK", random.nextInt(5), 1000 + i, 100));
      }
      agents.eventBus().publish(Addresses.LB_STATUS, new LbStatus("i-0000000000000b001", "bench", "web", now,
          servers, false, "").toJson());
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
      System.out.printf(Locale.ROOT, "%-44s %12.1f%n", "apply one snapshot, min / max (ms)", sorted.get(0));
      System.out.printf(Locale.ROOT, "%-44s %12.1f%n", "", sorted.get(sorted.size() - 1));
    }
    System.out.printf(Locale.ROOT, "%-44s %12d%n", "snapshots applied", sorted.size());
    System.out.printf(Locale.ROOT, "%-44s %12s%n", "measured over (s)", String.format(Locale.ROOT, "%.1f", seconds));
  }
}
