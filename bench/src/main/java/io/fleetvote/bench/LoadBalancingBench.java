package io.fleetvote.bench;

import io.fleetvote.common.cli.CommandLine;
import io.fleetvote.common.net.FreePorts;
import io.fleetvote.load.LoadGenerator;
import io.fleetvote.load.LoadOptions;
import io.fleetvote.load.LoadReport;
import io.fleetvote.sandbox.ImageCatalog;
import io.fleetvote.testkit.Ec2Clients;
import io.fleetvote.testkit.ManagedProcess;
import io.fleetvote.testkit.SandboxAdmin;
import io.fleetvote.testkit.SandboxProcess;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import software.amazon.awssdk.services.ec2.Ec2Client;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The three load-balancing figures, with a real coordinator, a real HAProxy on an lb instance and real app
 * instances, under a steady load through HAProxy:
 * <ol>
 *   <li>agent start -> first request routed to it: an app instance is terminated through EC2, the coordinator
 *   launches its replacement; from the replacement's agent process start to the first request HAProxy counts for it
 *   (also split: agent start -> its /health answers, and from there -> routed, against the target check interval +
 *   0.5 s);</li>
 *   <li>{@code state drain} -> {@code Server deleted.}: the terminated instance's agent drains itself on SIGTERM; the
 *   LB's reply says how long its deregistration took;</li>
 *   <li>HAProxy restarted -> all live instances back: HAProxy is killed with SIGKILL, the lb agent restarts it and
 *   reconciles.</li>
 * </ol>
 * {@code --smoke}: one measurement of each, no service time between HAProxy kills (the suite runs it).
 */
public final class LoadBalancingBench {

  private static final Duration TIMEOUT = Duration.ofSeconds(90);
  private static final Pattern UP = Pattern.compile("agent up (\\d+) ms after its start");
  private static final Pattern LEFT = Pattern.compile("left the LBs: [^{]*(\\{.*})");
  private static final int WEB_SIZE = 2;
  /** HAProxy's supervisor backs off while HAProxy keeps dying and starts over once it ran 10 s. */
  private static final Duration ISOLATED_GAP = Duration.ofSeconds(11);
  private static final Duration CRASH_LOOP_GAP = Duration.ofSeconds(2);
  private static final int CHECK_INTER_MS = 1000;

  private LoadBalancingBench() {
  }

  public static void main(String[] args) throws Exception {
    CommandLine cli = BenchSupport.withSmoke(new CommandLine("bench load-balancing",
        "Times agent start -> first request routed, state drain -> Server deleted, and HAProxy restart -> all back.")
        .option("trials", "N", "replacements timed (each gives one start->routed and one drain->deleted)", "10")
        .option("restarts", "N", "isolated HAProxy restarts timed (" + ISOLATED_GAP.toSeconds()
            + " s of service between kills)", "10")
        .option("crash-loop", "N", "HAProxy restarts timed in a crash loop (killed again "
            + CRASH_LOOP_GAP.toSeconds() + " s after each recovery)", "5")
        .option("rate", "N", "requests per second through HAProxy during the whole benchmark", "100"));
    Settings settings = cli.parseOrExit(args, p -> p.flag("smoke")
        ? new Settings(1, 1, 1, p.intValue("rate", 1, 5000), WEB_SIZE, Duration.ZERO, Duration.ZERO)
        : new Settings(p.intValue("trials", 1, 200), p.intValue("restarts", 1, 200), p.intValue("crash-loop", 0, 200),
            p.intValue("rate", 1, 5000), WEB_SIZE, ISOLATED_GAP, CRASH_LOOP_GAP));
    Path dir = Files.createTempDirectory("fleetvote-bench-lb-");
    Path groups = dir.resolve("groups.json");
    Files.writeString(groups, new JsonObject().put("groups", new JsonArray()
        .add(new JsonObject().put("name", "lb").put("imageId", ImageCatalog.imageId("fleetvote-lb")).put("min", 1)
            .put("max", 1).put("agent", new JsonObject().put("roles", new JsonArray().add("lb"))
                .put("lb", new JsonObject().put("serves", "web").put("checkInterMs", CHECK_INTER_MS))))
        // Production voting windows: nothing votes during the benchmark, the group stays at its minimum.
        .add(new JsonObject().put("name", "web").put("imageId", ImageCatalog.imageId("fleetvote-app"))
            .put("min", settings.webSize()).put("max", settings.webSize() + 1))).encode());
    int apiPort = FreePorts.pick();
    Vertx vertx = Vertx.vertx();
    try (SandboxProcess sandbox = SandboxProcess.start(dir.resolve("sandbox"));
         Ec2Client ec2 = Ec2Clients.sync(sandbox.endpoint());
         ManagedProcess coordinator = BenchSupport.coordinator(dir, sandbox, groups, "bench-lb-" + System.nanoTime(),
             FreePorts.pick(), apiPort, 500, 1000)) {
      new Run(sandbox.admin(), ec2, apiPort, vertx, settings).run();
      // The instances before the coordinator: an agent leaves its LBs over the cluster the coordinator holds up; with
      // the coordinator gone first, each app agent waited 15 s for an LB it could no longer reach. What the
      // coordinator launches meanwhile, the sandbox's close terminates.
      sandbox.admin().terminateAll();
      coordinator.stop();
    } finally {
      vertx.close().await();
    }
  }

  /** What to time, the load, group web's size, and the service time HAProxy gets between kills. */
  private record Settings(int trials, int restarts, int crashLoop, int rate, int webSize, Duration isolatedGap,
                          Duration crashLoopGap) {
  }

  private record Run(SandboxAdmin admin, Ec2Client ec2, int apiPort, Vertx vertx, Settings settings) {

    void run() {
      int webSize = settings.webSize();
      int rate = settings.rate();
      String lb = BenchSupport.await("the lb instance", TIMEOUT, () -> BenchSupport.group(apiPort, "lb")
          .flatMap(g -> g.getJsonArray("instances").stream().map(String.class::cast).findFirst()));
      BenchSupport.await("group web's " + webSize + " instances up in HAProxy", TIMEOUT, () -> allReady(lb));
      URI frontend = URI.create("http://127.0.0.1:" + admin.port(lb, "http") + "/?work=2");
      System.out.printf(Locale.ROOT, "load: %d requests/s through HAProxy at %s%n%n", rate, frontend);
      LoadGenerator load = load(frontend, rate);
      Future<LoadReport> running = load.run();

      List<Long> startToRouted = new ArrayList<>();
      List<Long> startToUp = new ArrayList<>();
      List<Long> upToRouted = new ArrayList<>();
      List<Long> drainToDeleted = new ArrayList<>();
      System.out.printf(Locale.ROOT, "%-6s %-20s %10s %10s %10s   %-20s %10s%n", "trial", "new instance",
          "start->up", "up->routed", "start->routed", "drained instance", "drain->del");
      for (int trial = 1; trial <= settings.trials(); trial++) {
        Replacement r = replace(lb);
        startToRouted.add(r.routed() - r.agentStart());
        startToUp.add(r.up() - r.agentStart());
        upToRouted.add(r.routed() - r.up());
        drainToDeleted.add(r.drainMillis());
        System.out.printf(Locale.ROOT, "%-6d %-20s %7d ms %7d ms %10d ms   %-20s %7d ms%n", trial, r.instance(),
            r.up() - r.agentStart(), r.routed() - r.up(), r.routed() - r.agentStart(), r.drained(), r.drainMillis());
      }
      load.stop();
      LoadReport scaling = running.await();
      load = load(frontend, rate);
      running = load.run();

      // Isolated crashes first, then a crash loop.
      List<Long> back = restarts(lb, settings.restarts(), settings.isolatedGap(), "isolated kill -9 -> all back");
      List<Long> loop = restarts(lb, settings.crashLoop(), settings.crashLoopGap(), "crash loop: kill -9 -> all back");
      load.stop();
      LoadReport restarting = running.await();

      System.out.printf(Locale.ROOT, "%nagent start -> first request routed: %s%n", BenchSupport.summary(startToRouted));
      System.out.printf(Locale.ROOT, "  agent start -> agent up (JVM, identity, HTTP endpoint): %s%n",
          BenchSupport.summary(startToUp));
      System.out.printf(Locale.ROOT, "  agent up -> first request routed: %s; target check interval + 0.5 s = %d ms%n",
          BenchSupport.summary(upToRouted), CHECK_INTER_MS + 500);
      System.out.printf(Locale.ROOT, "state drain -> Server deleted. under load: %s%n",
          BenchSupport.summary(drainToDeleted));
      System.out.printf(Locale.ROOT, "HAProxy killed -> all %d live instances back: %s; target <= 6000 ms%n", webSize,
          BenchSupport.summary(back));
      System.out.printf(Locale.ROOT, "  in a crash loop (killed again %d s after each recovery): %s%n",
          settings.crashLoopGap().toSeconds(), BenchSupport.summary(loop));
      System.out.printf(Locale.ROOT, "requests during the replacements: %d sent, %d failed %s; during the HAProxy "
          + "kills (HAProxy down: connections refused): %d sent, %d failed %s (%d cores)%n", scaling.sent(),
          scaling.failed(), scaling.failures(), restarting.sent(), restarting.failed(), restarting.failures(),
          Runtime.getRuntime().availableProcessors());
    }

    private List<Long> restarts(String lb, int count, Duration between, String title) {
      List<Long> back = new ArrayList<>();
      System.out.printf(Locale.ROOT, "%n%-7s %s%n", "restart", title);
      for (int restart = 1; restart <= count; restart++) {
        long millis = restartHaproxy(lb);
        back.add(millis);
        System.out.printf(Locale.ROOT, "%-7d %10d ms%n", restart, millis);
        long settled = System.nanoTime() + between.toNanos();
        BenchSupport.await("service between kills", TIMEOUT, () -> System.nanoTime() >= settled);
      }
      return back;
    }

    private LoadGenerator load(URI frontend, int rate) {
      return new LoadGenerator(vertx, new LoadOptions(List.of(frontend), rate, Duration.ofDays(1),
          Duration.ofSeconds(5), 256, null), line -> { });
    }

    private record Replacement(String instance, long agentStart, long up, long routed, String drained,
                               long drainMillis) {
    }

    /** Terminates one app instance through EC2 and times its drain and its replacement's way into the backend. */
    private Replacement replace(String lb) {
      List<String> ready = ready(lb);
      String victim = ready.get(0);
      Path victimLog = Path.of(admin.instance(victim).getString("dir"), "agent.log");
      Set<String> before = admin.instances().stream().map(i -> i.getString("instanceId")).collect(Collectors.toSet());
      ec2.terminateInstances(b -> b.instanceIds(victim));
      String fresh = BenchSupport.await("the replacement's launch", TIMEOUT, () -> admin.instances().stream()
          .map(i -> i.getString("instanceId")).filter(id -> !before.contains(id)).findFirst());
      long routed = BenchSupport.await("the first request routed to " + fresh, TIMEOUT, () -> servers(lb).stream()
          .filter(s -> s.getString("name").equals(fresh) && s.getLong("total") > 0).findFirst()
          .map(s -> System.currentTimeMillis()));
      JsonObject agent = admin.instance(fresh).getJsonArray("processes").stream().map(JsonObject.class::cast)
          .filter(p -> p.getString("name").equals("agent")).findFirst().orElseThrow();
      long agentStart = agent.getLong("startedAtMillis");
      // The agent's own account: its verticles deployed and its HTTP endpoint up, this long after its JVM started.
      Path freshLog = Path.of(admin.instance(fresh).getString("dir"), "agent.log");
      long upAfter = Long.parseLong(find(freshLog, UP).orElseThrow(() -> new IllegalStateException(
          fresh + "'s agent did not say when it was up; see " + freshLog)));
      long up = agentStart + upAfter;
      BenchSupport.await(victim + " terminated", TIMEOUT,
          () -> admin.instance(victim).getString("state").equals("terminated"));
      JsonObject reply = new JsonObject(find(victimLog, LEFT).orElseThrow(() -> new IllegalStateException(
          victim + " did not say it left the LBs; see " + victimLog))).getJsonArray("replies").getJsonObject(0);
      if (!reply.getString("outcome").equals("deleted")) {
        throw new IllegalStateException(victim + " was not drained cleanly: " + reply.encode());
      }
      BenchSupport.await("group web at " + settings.webSize() + " in HAProxy", TIMEOUT, () -> allReady(lb));
      return new Replacement(fresh, agentStart, up, routed, victim, reply.getLong("millis"));
    }

    /** SIGKILL to the lb instance's HAProxy; milliseconds until a new HAProxy has every live instance up. */
    private long restartHaproxy(String lb) {
      long agentPid = admin.instance(lb).getJsonArray("processes").getJsonObject(0).getLong("pid");
      ProcessHandle haproxy = ProcessHandle.of(agentPid).orElseThrow().children()
          .filter(p -> p.info().command().orElse("").endsWith("haproxy")).findFirst()
          .orElseThrow(() -> new IllegalStateException("no HAProxy under the lb agent (pid " + agentPid + ")"));
      long killed = System.currentTimeMillis();
      haproxy.destroyForcibly();
      BenchSupport.await("HAProxy " + haproxy.pid() + " gone", TIMEOUT, () -> !haproxy.isAlive());
      BenchSupport.await("every live instance back in HAProxy", TIMEOUT, () -> allReady(lb));
      return System.currentTimeMillis() - killed;
    }

    /** Every instance of group web up in HAProxy, none in maintenance or draining. */
    private boolean allReady(String lb) {
      return ready(lb).size() == settings.webSize();
    }

    private List<String> ready(String lb) {
      return servers(lb).stream().filter(s -> s.getBoolean("up") && !s.getBoolean("maintenance")
          && !s.getBoolean("draining")).map(s -> s.getString("name")).toList();
    }

    private List<JsonObject> servers(String lb) {
      return BenchSupport.getJson(admin.port(lb, "agent"), "/lb/servers").map(b -> b.getJsonArray("servers").stream()
          .map(JsonObject.class::cast).toList()).orElse(List.of());
    }

    private static Optional<String> find(Path log, Pattern pattern) {
      try {
        if (!Files.exists(log)) {
          return Optional.empty();
        }
        Matcher matcher = pattern.matcher(Files.readString(log));
        return matcher.find() ? Optional.of(matcher.group(1)) : Optional.empty();
      } catch (IOException e) {
        return Optional.empty();
      }
    }
  }
}
