package io.fleetvote.demo;

import io.fleetvote.common.FleetvoteHome;
import io.fleetvote.common.auth.PasswordHash;
import io.fleetvote.common.cli.CommandLine;
import io.fleetvote.common.cluster.JvmFlags;
import io.fleetvote.common.net.FreePorts;
import io.fleetvote.load.Capacity;
import io.fleetvote.load.LoadGenerator;
import io.fleetvote.load.LoadOptions;
import io.fleetvote.load.LoadReport;
import io.fleetvote.sandbox.ImageCatalog;
import io.fleetvote.sandbox.capacity.InstanceTypes;
import io.fleetvote.testkit.LocalJson;
import io.fleetvote.testkit.ManagedProcess;
import io.fleetvote.testkit.SandboxAdmin;
import io.fleetvote.testkit.SandboxProcess;
import io.fleetvote.testkit.Shutdown;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

/**
 * {@code ./fleetvote demo}: the whole loop on the sandbox. A coordinator brings group {@code lb} (one HAProxy
 * instance) and group {@code web} (min 2, max 4, t3.micro instances of a quarter core, windows of seconds) up to their
 * minimum through RunInstances, and the DB pair (master and replica, each on its own volume, replicating with
 * semi-sync) from nothing; web instances register themselves with the LB. Loads are shares of what the group can
 * serve, so the demo behaves the same on a slow machine and a fast one. All traffic goes through HAProxy: a light
 * load for the whole run, and an overload on top until a majority votes grow and the group grows; then the overload
 * stops and the group shrinks back to 2, its victim drained first. Then the DB master's instance is killed and the
 * coordinator fails it over (the journal's steps printed with their times from the kill). One status line per second
 * (each instance's load
 * and vote, the DB pair's servers, then HAProxy's servers and their states), every ledger entry as it is written
 * (the reason of each decision), and at the end the failed requests of the whole run, HAProxy's 5xx count and the
 * time from the start of the overload to RunInstances.
 * Ctrl-C stops everything it started.
 */
public final class DemoMain {

  private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss");
  private static final String GROUP = "web";
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String LB_GROUP = "lb";
  private static final int MIN = 2;
  private static final long GROW_AFTER_MS = 5000;
  private static final long SAMPLE_MS = 500;
  private static final String WEB_TYPE = "t3.micro";
  /** In percent of an instance's capacity: 75 % of two instances votes grow, the same load on three does not. */
  private static final int GROW_ABOVE = 60;
  private static final int SHRINK_BELOW = 20;
  /** Seconds in a row under the latency target that count as back to normal. */
  private static final int LATENCY_SETTLED_SECONDS = 3;

  private DemoMain() {
  }

  record Settings(int cycles, long loadSeconds, double overload, double base, int workMs, long durationSeconds,
                  Path stateDir, boolean exitAfterCycles, long latencyTargetMs, boolean dbFailover) {

    /** What the web group's instances can serve, per request's work. */
    Capacity capacity() {
      return Capacity.of(WEB_TYPE, workMs);
    }

    int baseRate() {
      return base == 0 ? 0 : capacity().rate(MIN, base);
    }

    /** On top of the base load, so that both together are {@code overload} of the group's capacity at its minimum. */
    int overloadRate() {
      return Math.max(1, capacity().rate(MIN, overload) - baseRate());
    }
  }

  /**
   * One overload: when it began, when the RunInstances it caused reached EC2, and after how many seconds the
   * overload's latency (p90) was back under the target for good (nulls while they have not happened).
   */
  record Cycle(int number, Instant overloadAt, Instant runInstancesAt, String entry, Long latencyBackSeconds) {
  }

  public static void main(String[] args) throws Exception {
    CommandLine cli = new CommandLine("demo", """
        Runs the whole system on the sandbox cloud: a coordinator scales group web (min 2, max 4) by the votes of its
        instances' agents, behind an HAProxy instance (group lb) its instances register with. The demo sends a light
        load through HAProxy all along, overloads the group until it grows, and watches it shrink back.""")
        .option("cycles", "N", "how many times to overload the group and let it calm down (0: none)", "1")
        .option("load-seconds", "S", "how long each overload lasts", "45")
        .option("overload", "SHARE", "the load during an overload, base load included, as a share of what group web "
            + "can serve at its minimum (" + MIN + " x " + WEB_TYPE + ")", "0.75")
        .option("base", "SHARE", "the light load through HAProxy for the whole run, the same way (0: none)", "0.1")
        .option("work-ms", "MS", "CPU milliseconds each request costs the demo app", "10")
        .option("latency-target-ms", "MS", "the overload's p90 latency counts as back to normal under this", "100")
        .option("duration", "SECONDS", "stop after this long whatever the phase; 0: when the cycles are done", "0")
        .option("state-dir", "DIR", "where the demo keeps the sandbox's and the coordinator's state",
            "<fleetvote home>/.demo")
        .flag("exit-after-cycles", "stop once the cycles are done (for scripts); without it the system and the "
            + "dashboard keep running until Ctrl-C or SIGTERM")
        .flag("no-db-failover", "after the cycles, do not kill the DB master to show its failover (its seconds of "
            + "failing database requests would count in the run's failed requests)");
    Settings settings = cli.parseOrExit(args, p -> new Settings(p.intValue("cycles", 0, 100),
        p.longValue("load-seconds", 5, 3600), p.doubleValue("overload", 0.01, 10), p.doubleValue("base", 0, 10),
        p.intValue("work-ms", 1, 1000),
        p.longValue("duration", 0, 86_400),
        p.given("state-dir") ? Path.of(p.string("state-dir")) : FleetvoteHome.dir().resolve(".demo"),
        p.flag("exit-after-cycles"), p.longValue("latency-target-ms", 1, 60_000), !p.flag("no-db-failover")));
    try {
      new Demo(settings).run();
    } catch (Exception e) {
      // Everything it started is stopped by now (run's finally); a thread left running must not keep the demo alive.
      System.out.println("the demo failed: " + e);
      e.printStackTrace(System.out);
      System.exit(1);
    }
  }

  private static final class Demo {

    private final Settings settings;
    private final Set<String> printed = new HashSet<>();
    /** Instances whose agent has answered: one that stops answering is on its way out, not booting. */
    private final Set<String> answered = new HashSet<>();
    private final List<Cycle> cycles = new ArrayList<>();
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final long deadline;
    private SandboxProcess sandbox;
    private ManagedProcess coordinator;
    private int coordinatorPort;
    private Vertx vertx;
    private LoadGenerator load;
    private LoadReport lastLoad;
    /** The overload's latest finished second, for the status line. */
    private volatile LoadReport lastSecond;
    private long sent;
    private long failed;
    private String lb;
    private String token;
    private LoadGenerator baseLoad;
    private Future<LoadReport> baseRun;

    Demo(Settings settings) {
      this.settings = settings;
      this.deadline = settings.durationSeconds() == 0 ? Long.MAX_VALUE
          : System.nanoTime() + TimeUnit.SECONDS.toNanos(settings.durationSeconds());
    }

    void run() throws Exception {
      CountDownLatch stopped = new CountDownLatch(1);
      // Its own hook stops everything in order (load, coordinator, sandbox): the testkit's hooks stand down.
      Shutdown.ownerStopsAtExit();
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        stopping.set(true);
        try {
          stopped.await(90, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }, "demo-shutdown"));
      try {
        start();
        say("the coordinator launches group lb (1 HAProxy), group web up to its minimum (" + MIN
            + ") and the DB pair (2 instances, 2 volumes) through RunInstances and CreateVolume ...");
        waitUntil("the LB instance's HAProxy with group web's " + MIN + " instances ready in its backend",
            () -> lbInstance().isPresent() && readyServers() >= MIN);
        waitUntil("the DB pair replicating, the LB's write port to its master", this::dbReady);
        startBaseLoad();
        for (int cycle = 1; cycle <= settings.cycles() && running(); cycle++) {
          waitUntil("group web at " + MIN + " instances, all voting", this::settledAtMin);
          if (!running()) {
            break;
          }
          overload(cycle);
          waitUntil("group web back at " + MIN + " instances", this::settledAtMin);
        }
        if (!cycles.isEmpty()) {
          // Before the failover, whose seconds of failing database requests the whole run's count includes.
          say(String.format(Locale.ROOT, "requests of the overloads through HAProxy: %d sent, %d failed", sent,
              failed));
        }
        if (running() && settings.dbFailover()) {
          failover();
        }
        stopBaseLoad();
        report();
        if (!settings.exitAfterCycles() && running()) {
          stayUp();
        }
      } finally {
        stop();
        stopped.countDown();
      }
    }

    /** After the cycles: the system and the dashboard keep running, with the light load, until Ctrl-C or SIGTERM. */
    private void stayUp() {
      say("the cycles are done; the system and the dashboard keep running (http://127.0.0.1:" + coordinatorPort
          + "/). Ctrl-C or SIGTERM stops it and everything it started (--exit-after-cycles ends the demo here).");
      startBaseLoad();
      for (int second = 0; running(); second++) {
        if (second % 10 == 0) {
          status();
          pageSample().ifPresent(System.out::println);
        } else {
          printNewEntries();
        }
        tick();
      }
      stopBaseLoad();
    }

    private void start() throws IOException {
      Files.createDirectories(settings.stateDir());
      say("starting the sandbox (state in " + settings.stateDir().resolve("sandbox") + ") ...");
      sandbox = SandboxProcess.start(settings.stateDir().resolve("sandbox"));
      JsonObject capacity = sandbox.admin().capacity();
      if (!capacity.getBoolean("enforced", false)) {
        say("WARNING: the sandbox cannot give instances their CPU capacity (" + capacity.getString("why") + "): the "
            + "demo's loads are sized for capacity this machine does not enforce, so its instances share the host");
      }
      JsonArray leftovers = sandbox.admin().terminateAll().getJsonArray("terminated");
      if (!leftovers.isEmpty()) {
        say("terminated instances left over from an earlier run: " + leftovers);
      }
      // A demo run is a deployment of its own: its ledger starts empty rather than with an earlier run's history.
      deleteTree(settings.stateDir().resolve("coordinator"));
      Path groups = settings.stateDir().resolve("groups.json");
      Files.writeString(groups, groupsFile().encodePrettily());
      Path users = settings.stateDir().resolve("users.json");
      String password = randomText(12);
      byte[] secret = new byte[32];
      RANDOM.nextBytes(secret);
      Files.writeString(users, new JsonObject().put("tokenSecret", Base64.getEncoder().encodeToString(secret))
          .put("users", new JsonArray().add(new JsonObject().put("name", "demo").put("role", "operator")
              .put("passwordHash", PasswordHash.hash(password, 100_000)))).encodePrettily());
      int clusterPort = FreePorts.pick();
      coordinatorPort = FreePorts.pick();
      say("starting a coordinator (groups in " + groups + ", API http://127.0.0.1:" + coordinatorPort
          + "/api/decisions) ...");
      List<String> args = new ArrayList<>(List.of("--deployment", "demo", "--cluster-name", "fleetvote-demo",
          "--cluster-port", Integer.toString(clusterPort), "--members", "127.0.0.1:" + clusterPort,
          "--http-port", Integer.toString(coordinatorPort), "--groups", groups.toString(),
          "--users", users.toString(),
          "--data-dir", settings.stateDir().resolve("coordinator").toString(),
          "--ec2-endpoint", sandbox.endpoint().toString(), "--tick-ms", "500", "--fleet-refresh-ms", "2000"));
      // The agents' way in: the gateway verifies their identity documents with the sandbox's certificate.
      args.addAll(sandbox.agentGatewayArgs());
      coordinator = ManagedProcess.start("coordinator", ManagedProcess.java(FleetvoteHome.dir(),
              "coordinator/target/fleetvote-coordinator.jar", "io.fleetvote.coordinator.CoordinatorMain",
              JvmFlags.localHazelcast(), args),
          settings.stateDir().resolve("coordinator.log"), URI.create("http://127.0.0.1:" + coordinatorPort + "/health"),
          Duration.ofSeconds(60));
      vertx = Vertx.vertx();
      token = login(password);
      say("dashboard: http://127.0.0.1:" + coordinatorPort + "/  (log in as demo, password " + password + ")");
    }

    /**
     * A bearer token for the demo's user. A coordinator that has just started checks its first password hash slowly
     * (a cold JVM on a busy machine), so the demo asks again, with a longer wait each time, for up to a minute.
     */
    private String login(String password) {
      JsonObject credentials = new JsonObject().put("name", "demo").put("password", password);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      for (Duration wait = Duration.ofSeconds(2); System.nanoTime() < deadline && running();
           wait = wait.multipliedBy(2)) {
        LocalJson.Answer answer = LocalJson.post(coordinatorPort, "/api/tokens", credentials, wait);
        if (answer.status() == 200) {
          return answer.body().getString("token");
        }
        if (answer.status() != 0 && answer.status() != 503) {
          throw new IllegalStateException("the coordinator refused the demo's own login: HTTP " + answer.status()
              + " " + answer.body().encode());
        }
      }
      throw new IllegalStateException("the coordinator did not answer the demo's login within 60 s");
    }

    private static void deleteTree(Path dir) throws IOException {
      if (!Files.exists(dir)) {
        return;
      }
      try (var paths = Files.walk(dir)) {
        for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(path);
        }
      }
    }

    private static String randomText(int length) {
      String alphabet = "abcdefghijkmnpqrstuvwxyz23456789";
      StringBuilder text = new StringBuilder();
      for (int i = 0; i < length; i++) {
        text.append(alphabet.charAt(RANDOM.nextInt(alphabet.length())));
      }
      return text.toString();
    }

    /** Demo-sized windows: seconds where production uses minutes. */
    private static JsonObject groupsFile() {
      JsonObject agent = new JsonObject().put("gossipPeriodMs", 1000).put("sampleMs", SAMPLE_MS).put("warmupMs", 3000)
          .put("growAbove", GROW_ABOVE).put("growAfterMs", GROW_AFTER_MS).put("shrinkBelow", SHRINK_BELOW)
          .put("shrinkAfterMs", 8000);
      JsonObject lbAgent = new JsonObject().put("roles", new JsonArray().add("lb")).put("gossipPeriodMs", 1000)
          .put("lb", new JsonObject().put("serves", GROUP).put("reconcileMs", 2000));
      // The seed's database tier: a master and a replica, each on its own EBS volume (t3.nano: MariaDB and its
      // agent run outside the instance's CPU quota, and the pair leaves the host's vCPUs to group web).
      JsonObject db = new JsonObject().put("imageId", ImageCatalog.imageId("fleetvote-db"))
          .put("instanceType", "t3.nano").put("volumeGiB", 1).put("database", "wiki")
          .put("agent", new JsonObject().put("gossipPeriodMs", 1000));
      return new JsonObject().put("db", db).put("groups", new JsonArray()
          .add(new JsonObject().put("name", LB_GROUP).put("imageId", ImageCatalog.imageId("fleetvote-lb"))
              .put("min", 1).put("max", 1).put("agent", lbAgent))
          .add(new JsonObject().put("name", GROUP)
              .put("imageId", ImageCatalog.imageId("fleetvote-app")).put("instanceType", WEB_TYPE)
              .put("min", MIN).put("max", 4)
              .put("decisionThreshold", 0.51).put("shrinkThreshold", 0.51).put("calmTimeMs", 6000)
              .put("bootTimeoutMs", 60_000).put("drainTimeoutMs", 10_000).put("agent", agent)));
    }

    private void overload(int cycle) {
      Instant began = Instant.now();
      Capacity capacity = settings.capacity();
      say(String.format(Locale.ROOT, "overload %d: %.0f %% of what group web serves at its minimum (%d x %s, %s vCPU "
              + "each, %d ms of CPU per request: %.0f requests/s each): %d requests/s on top of the base load for "
              + "%d s, through HAProxy", cycle, settings.overload() * 100, MIN, WEB_TYPE,
          InstanceTypes.format(capacity.vcpus()), settings.workMs(), capacity.perInstance(), settings.overloadRate(),
          settings.loadSeconds()));
      List<Double> p90s = new CopyOnWriteArrayList<>();
      load = new LoadGenerator(vertx, new LoadOptions(List.of(frontend()), settings.overloadRate(),
          Duration.ofSeconds(settings.loadSeconds()), Duration.ofSeconds(5), 256, null), line -> { })
          .everySecond((second, report) -> {
            p90s.add(report.percentileMillis(90));
            lastSecond = report;
          });
      Future<LoadReport> run = load.run();
      Cycle measured = new Cycle(cycle, began, null, null, null);
      while (running() && !run.isComplete()) {
        status();
        if (measured.runInstancesAt() == null) {
          measured = growSince(measured);
        }
        tick();
      }
      if (!run.isComplete()) {
        load.stop();
        run.await();
      }
      lastLoad = run.isComplete() && run.succeeded() ? run.result() : null;
      load = null;
      measured = new Cycle(measured.number(), measured.overloadAt(), measured.runInstancesAt(), measured.entry(),
          latencyBack(p90s, settings.latencyTargetMs()));
      cycles.add(measured);
      if (lastLoad != null) {
        failed += lastLoad.failed();
        sent += lastLoad.sent();
      }
      say("overload " + cycle + " over" + (lastLoad == null ? "" : ": " + lastLoad.line()));
    }

    /** The first grow by votes ordered after the overload began, and when its RunInstances reached the sandbox. */
    private Cycle growSince(Cycle cycle) {
      for (JsonObject entry : entries()) {
        JsonObject decision = entry.getJsonObject("decision");
        JsonObject action = entry.getJsonObject("action");
        if (decision.getString("outcome").equals("grow") && decision.getString("rule").equals("votes")
            && decision.getLong("at") >= cycle.overloadAt().toEpochMilli() && action != null
            && !action.getJsonArray("instances").isEmpty()) {
          String instance = action.getJsonArray("instances").getString(0);
          Instant launched = Instant.parse(sandbox.admin().instance(instance).getString("launchTime"));
          return new Cycle(cycle.number(), cycle.overloadAt(), launched, entry.getString("id"), null);
        }
      }
      return cycle;
    }

    /**
     * The second of the overload after which its p90 stayed under the target ({@value #LATENCY_SETTLED_SECONDS} s in a
     * row, counted from the overload's start), once it had gone above it; 0 when it never went above; null when it
     * never came back.
     */
    static Long latencyBack(List<Double> p90s, long targetMs) {
      int firstAbove = -1;
      for (int i = 0; i < p90s.size() && firstAbove < 0; i++) {
        if (p90s.get(i) > targetMs) {
          firstAbove = i;
        }
      }
      if (firstAbove < 0) {
        return 0L;
      }
      for (int i = firstAbove + 1; i + LATENCY_SETTLED_SECONDS <= p90s.size(); i++) {
        boolean settled = true;
        for (int j = i; j < i + LATENCY_SETTLED_SECONDS; j++) {
          settled &= p90s.get(j) <= targetMs;
        }
        if (settled) {
          return (long) i;
        }
      }
      return null;
    }

    private void report() {
      if (sent > 0) {
        String haproxy = lbServers().map(b -> b.getJsonObject("totals"))
            .map(t -> t.getLong("requests") + " requests, " + t.getLong("http5xx") + " answered 5xx, "
                + t.getLong("redispatches") + " redispatched").orElse("not answering");
        say(String.format(Locale.ROOT, "requests through HAProxy in the whole run: %d sent, %d failed; HAProxy: %s",
            sent, failed, haproxy));
      }
      if (cycles.isEmpty()) {
        return;
      }
      say("sustained overload -> RunInstances (growAfter " + GROW_AFTER_MS + " ms, load sampled every " + SAMPLE_MS
          + " ms):");
      List<Long> millis = new ArrayList<>();
      for (Cycle cycle : cycles) {
        if (cycle.runInstancesAt() == null) {
          say(String.format("  overload %d: no grow", cycle.number()));
        } else {
          long ms = Duration.between(cycle.overloadAt(), cycle.runInstancesAt()).toMillis();
          millis.add(ms);
          say(String.format(Locale.ROOT, "  overload %d: %6d ms (ledger %s)", cycle.number(), ms, cycle.entry()));
        }
      }
      if (millis.size() > 1) {
        say("  " + spread(millis, " ms") + "; target growAfter + 1 s = " + (GROW_AFTER_MS + 1000) + " ms");
      }
      say("overload -> p90 latency back under " + settings.latencyTargetMs() + " ms for " + LATENCY_SETTLED_SECONDS
          + " s in a row (seconds from the overload's start; 0: never above):");
      List<Long> seconds = new ArrayList<>();
      for (Cycle cycle : cycles) {
        say(String.format(Locale.ROOT, "  overload %d: %s", cycle.number(), cycle.latencyBackSeconds() == null
            ? "not back within the overload" : cycle.latencyBackSeconds() + " s"));
        if (cycle.latencyBackSeconds() != null) {
          seconds.add(cycle.latencyBackSeconds());
        }
      }
      if (seconds.size() > 1) {
        say("  " + spread(seconds, " s"));
      }
    }

    private static String spread(List<Long> values, String unit) {
      List<Long> sorted = values.stream().sorted().toList();
      return String.format(Locale.ROOT, "median %d%s, min %d, max %d, spread %d", sorted.get(sorted.size() / 2), unit,
          sorted.get(0), sorted.get(sorted.size() - 1), sorted.get(sorted.size() - 1) - sorted.get(0));
    }

    private boolean settledAtMin() {
      JsonObject group = group(GROUP).orElse(null);
      if (group == null || group.getInteger("size") != MIN || group.getInteger("launchesInFlight") != 0) {
        return false;
      }
      return group.getJsonArray("instances").stream().map(String.class::cast)
          .allMatch(id -> agentHealth(id).map(h -> h.getBoolean("warm", false)).orElse(false));
    }

    private void waitUntil(String what, BooleanSupplier condition) {
      say("waiting for " + what + " ...");
      while (running() && !condition.getAsBoolean()) {
        status();
        tick();
      }
      printNewEntries();
    }

    /** One line: the group, then each instance's load and vote as its agent reports them. */
    private void status() {
      printNewEntries();
      StringBuilder line = new StringBuilder(LocalTime.now().format(CLOCK));
      Optional<JsonObject> group = group(GROUP);
      if (group.isEmpty()) {
        System.out.println(line.append("  coordinator not answering"));
        return;
      }
      JsonArray instances = group.get().getJsonArray("instances");
      line.append(String.format(Locale.ROOT, "  web: %d instance(s)%s |", instances.size(),
          group.get().getInteger("launchesInFlight") > 0 ? ", launching " + group.get().getInteger("launchesInFlight")
              : ""));
      for (Object id : instances) {
        line.append(' ').append(id).append(' ');
        Optional<JsonObject> health = agentHealth((String) id);
        if (health.isEmpty()) {
          line.append(answered.contains(id) ? "stopping" : "booting");
        } else {
          answered.add((String) id);
          JsonObject h = health.get();
          line.append(String.format(Locale.ROOT, "%3.0f%% %s%s", h.getDouble("load", 0.0), h.getString("vote", "?"),
              h.getBoolean("warm", false) ? "" : " (warming up)"));
        }
        line.append(" |");
      }
      LoadGenerator current = load;
      LoadReport second = lastSecond;
      if (current != null) {
        line.append(" overload on").append(second == null ? "" : String.format(Locale.ROOT, ": last second %d ok, "
            + "p90 %.0f ms%s", second.ok(), second.percentileMillis(90), second.failed() == 0 ? ""
            : ", failed " + second.failures()));
      }
      System.out.println(line);
      try {
        dbLine().ifPresent(System.out::println);
      } catch (RuntimeException e) {
        // A report the line cannot show is no reason to stop the demo: it says so and goes on.
        System.out.println("          db: cannot show the pair's state: " + e);
      }
      lbServers().ifPresent(backend -> {
        StringBuilder servers = new StringBuilder("          haproxy " + backend.getString("backend") + ":");
        JsonArray list = backend.getJsonArray("servers");
        if (list.isEmpty()) {
          servers.append(" no servers");
        }
        list.stream().map(JsonObject.class::cast).forEach(s -> servers.append(String.format(Locale.ROOT,
            " %s %s %d sess %d req |", s.getString("name"), serverState(s), s.getLong("sessions"), s.getLong("total"))));
        System.out.println(servers);
      });
    }

    /** HAProxy's word for a server: MAINT, DRAIN, UP or DOWN (with its last check). */
    private static String serverState(JsonObject server) {
      if (server.getBoolean("maintenance")) {
        return "MAINT";
      }
      if (server.getBoolean("draining")) {
        return "DRAIN";
      }
      return server.getBoolean("up") ? "UP" : "DOWN(" + server.getString("check", "") + ")";
    }

    private void printNewEntries() {
      List<JsonObject> fresh = new ArrayList<>(entries());
      Collections.reverse(fresh);
      for (JsonObject entry : fresh) {
        String key = entry.getString("id") + "/" + Optional.ofNullable(entry.getJsonObject("action"))
            .map(a -> a.getString("status")).orElse("hold");
        if (printed.add(key)) {
          JsonObject decision = entry.getJsonObject("decision");
          JsonObject action = entry.getJsonObject("action");
          String what = action == null ? "" : " [" + action.getString("kind") + " " + action.getString("status")
              + (action.getJsonArray("instances").isEmpty() ? "" : " " + action.getJsonArray("instances")) + "]";
          say(String.format(Locale.ROOT, "ledger %s e%d %s (%s): %s%s", entry.getString("id"), entry.getLong("epoch"),
              decision.getString("outcome"), decision.getString("rule"), decision.getString("reason"), what));
        }
      }
    }

    private List<JsonObject> entries() {
      return LocalJson.get(coordinatorPort, "/api/decisions?limit=30", token)
          .map(d -> d.getJsonArray("entries").stream().map(JsonObject.class::cast).toList()).orElse(List.of());
    }

    /**
     * The DB master's machine dies (every process of its instance SIGKILLed; EC2 still says running): the
     * coordinator fails over by itself; the journal's steps are printed with their times from the kill.
     */
    private void failover() {
      waitUntil("the DB pair replicating with semi-sync, the master judged alive", () -> dbPair()
          .filter(p -> "replicating".equals(p.getString("phase")) && p.getJsonObject("masterHealth") != null
              && "alive".equals(p.getJsonObject("masterHealth").getString("verdict"))
              && p.getJsonArray("problems", new JsonArray()).isEmpty()).isPresent());
      if (!running()) {
        return;
      }
      JsonObject pair = dbPair().orElseThrow();
      String master = pair.getJsonObject("masterHealth").getString("instanceId");
      say("a DB failover: the master " + master + " dies as a machine would (every process killed; try it yourself: "
          + "curl -X POST " + sandbox.endpoint().resolve("/_sandbox/instances/" + master + "/kill") + "); the "
          + "coordinator fences it, promotes the replica and moves the LB's write port (dashboard: Database pair)");
      long killedAt = System.currentTimeMillis();
      sandbox.admin().kill(master);
      waitUntil("the failover of " + master, () -> dbPair().map(p -> p.getJsonObject("topology"))
          .map(t -> t.getJsonObject("failover")).filter(f -> master.equals(f.getString("oldMaster"))
              && !"fencing".equals(f.getString("phase")) && !"promoting".equals(f.getString("phase"))).isPresent());
      JsonObject failover = dbPair().orElseThrow().getJsonObject("topology").getJsonObject("failover");
      for (Object o : failover.getJsonArray("steps")) {
        JsonObject step = (JsonObject) o;
        say(String.format(Locale.ROOT, "  %+6d ms  %s: %s", step.getLong("at") - killedAt, step.getString("name"),
            step.getString("text")));
      }
      say("failover " + failover.getString("id") + " " + failover.getString("phase") + ": writes go to "
          + failover.getString("target") + "; its old slot is built anew as the replica");
      String target = failover.getString("target");
      waitUntil("the old master's slot rebuilt, replicating from the new master with semi-sync", () -> dbPair()
          .filter(p -> "replicating".equals(p.getString("phase")) && p.getJsonArray("problems", new JsonArray())
              .isEmpty() && p.getJsonObject("route") != null && p.getJsonObject("route").getJsonObject("master") != null
              && target.equals(p.getJsonObject("route").getJsonObject("master").getString("instanceId"))
              && p.getJsonArray("slots").stream().map(JsonObject.class::cast)
                  .noneMatch(slot -> master.equals(slot.getString("instanceId")))).isPresent());
      say(String.format(Locale.ROOT, "the pair is whole again %d s after the kill",
          (System.currentTimeMillis() - killedAt) / 1000));
    }

    private Optional<JsonObject> dbPair() {
      return LocalJson.get(coordinatorPort, "/api/db", token).map(db -> db.getJsonObject("pair"));
    }

    private boolean dbReady() {
      return dbPair().filter(pair -> "replicating".equals(pair.getString("phase"))
          && pair.getJsonObject("route") != null && pair.getJsonObject("route").getJsonObject("master") != null)
          .isPresent();
    }

    /** The DB pair: its phase, and each server as its agent reports it; where the LBs send writes. */
    private Optional<String> dbLine() {
      return LocalJson.get(coordinatorPort, "/api/db", token).filter(db -> db.getJsonObject("pair") != null).map(db -> {
        JsonObject pair = db.getJsonObject("pair");
        StringBuilder text = new StringBuilder("          db " + pair.getString("phase", "?") + ":");
        for (Object o : pair.getJsonArray("slots", new JsonArray())) {
          JsonObject slot = (JsonObject) o;
          String id = slot.getString("instanceId");
          text.append(' ').append(slot.getString("role")).append(' ').append(id == null ? "(none)" : id);
          db.getJsonArray("instances").stream().map(JsonObject.class::cast)
              .filter(r -> r.getString("instanceId").equals(id)).findFirst().ifPresentOrElse(r -> text.append(
                  !"up".equals(r.getString("server")) ? " " + r.getString("server")
                  : slot.getString("role").equals("master") ? String.format(Locale.ROOT, " %s, binlog %s, semi-sync %s",
                      r.getBoolean("readOnly") ? "read-only" : "writable", r.getString("gtidBinlogPos"),
                      r.getBoolean("semiSyncMaster") ? "on (" + r.getInteger("semiSyncClients") + " acking)" : "off")
                  : String.format(Locale.ROOT, " IO %s SQL %s, applied %s, lag %s", r.getString("ioThread"),
                      r.getString("sqlThread"), r.getString("gtidSlavePos"), r.getLong("lagSeconds") < 0 ? "?"
                          : r.getLong("lagSeconds") + " s")),
                  () -> text.append(" ").append(slot.getString("volumeState") == null ? "no volume yet"
                      : "volume " + slot.getString("volumeState")));
          text.append(" |");
        }
        JsonObject route = pair.getJsonObject("route");
        JsonObject master = route == null ? null : route.getJsonObject("master");
        text.append(" LB writes to ").append(master == null ? "no one" : master.getString("instanceId"));
        return text.toString();
      });
    }

    private Optional<JsonObject> group(String name) {
      return LocalJson.get(coordinatorPort, "/api/groups", token).flatMap(g -> g.getJsonArray("groups").stream()
          .map(JsonObject.class::cast).filter(x -> x.getString("name").equals(name)).findFirst());
    }

    private Optional<String> lbInstance() {
      if (lb == null) {
        lb = group(LB_GROUP).flatMap(g -> g.getJsonArray("instances").stream().map(String.class::cast).findFirst())
            .orElse(null);
      }
      return Optional.ofNullable(lb);
    }

    /** The LB agent's view of its HAProxy backend ({@code GET /lb/servers}). */
    private Optional<JsonObject> lbServers() {
      try {
        return lbInstance().flatMap(id -> get(sandbox.admin().port(id, "agent"), "/lb/servers"));
      } catch (RuntimeException e) {
        return Optional.empty();
      }
    }

    private long readyServers() {
      return lbServers().map(b -> b.getJsonArray("servers").stream().map(JsonObject.class::cast)
          .filter(s -> serverState(s).equals("UP")).count()).orElse(0L);
    }

    /** One request through HAProxy, as the light load sends them: which app served it, and its page row. */
    private Optional<String> pageSample() {
      try {
        return lbInstance().flatMap(id -> get(sandbox.admin().port(id, "http"), "/?work=" + settings.workMs()))
            .map(reply -> {
              Object db = reply.getValue("db");
              return "          a request through HAProxy: served by " + reply.getString("instance") + ", "
                  + (db instanceof JsonObject page ? "page " + page.getInteger("page") + " at revision "
                  + page.getLong("revision") + (page.getBoolean("wrote") ? " (it wrote it)" : " (read)")
                  : "no database yet");
            });
      } catch (RuntimeException e) {
        return Optional.empty();
      }
    }

    /** HAProxy's frontend on the LB instance: where every request of the demo goes. */
    private URI frontend() {
      return URI.create("http://127.0.0.1:" + sandbox.admin().port(lbInstance().orElseThrow(), "http") + "/?work="
          + settings.workMs());
    }

    private void startBaseLoad() {
      if (settings.baseRate() > 0) {
        say(String.format(Locale.ROOT, "a light load through HAProxy for the whole run: %d requests/s at %s",
            settings.baseRate(), frontend()));
        baseLoad = new LoadGenerator(vertx, new LoadOptions(List.of(frontend()), settings.baseRate(),
            Duration.ofDays(1), Duration.ofSeconds(5), 256, null), line -> { });
        baseRun = baseLoad.run();
      }
    }

    private void stopBaseLoad() {
      if (baseLoad != null) {
        baseLoad.stop();
        LoadReport report = baseRun.await();
        sent += report.sent();
        failed += report.failed();
        say("light load over: " + report.line());
        baseLoad = null;
      }
    }

    private Optional<JsonObject> agentHealth(String instanceId) {
      try {
        return get(sandbox.admin().port(instanceId, "agent"), "/health");
      } catch (RuntimeException e) {
        return Optional.empty();
      }
    }

    private boolean running() {
      return !stopping.get() && System.nanoTime() < deadline;
    }

    private void tick() {
      try {
        TimeUnit.SECONDS.sleep(1);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        stopping.set(true);
      }
    }

    /** The coordinator first, or it would launch replacements; then the instances, then the sandbox. */
    private void stop() {
      if (coordinator != null) {
        coordinator.close();
        say("coordinator stopped");
      }
      if (vertx != null) {
        vertx.close().await();
      }
      if (sandbox != null) {
        JsonArray ended = sandbox.admin().terminateAll().getJsonArray("terminated");
        say("terminated " + ended);
        sandbox.close();
        say("sandbox stopped");
      }
    }

    private static Optional<JsonObject> get(int port, String path) {
      return LocalJson.get(port, path);
    }

    private static void say(String text) {
      System.out.println(LocalTime.now().format(CLOCK) + "  " + text);
    }
  }
}
