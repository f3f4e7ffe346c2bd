package io.fleetvote.bench;

import io.fleetvote.common.FleetvoteHome;
import io.fleetvote.common.cli.CommandLine;
import io.fleetvote.common.cluster.JvmFlags;
import io.fleetvote.common.net.FreePorts;
import io.fleetvote.load.db.PasswordFile;
import io.fleetvote.load.db.WriterOptions;
import io.fleetvote.load.db.WriterReport;
import io.fleetvote.sandbox.ImageCatalog;
import io.fleetvote.testkit.Await;
import io.fleetvote.testkit.CoordinatorClient;
import io.fleetvote.testkit.LocalJson;
import io.fleetvote.testkit.ManagedProcess;
import io.fleetvote.testkit.SandboxAdmin;
import io.fleetvote.testkit.SandboxProcess;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.mysqlclient.MySQLAuthenticationPlugin;
import io.vertx.mysqlclient.MySQLConnectOptions;
import io.vertx.mysqlclient.MySQLConnection;
import io.vertx.mysqlclient.SslMode;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * What the benchmarks share: idle instances (whose agents {@link SimulatedAgents} play), a coordinator process on
 * the sandbox, the DB pair behind an LB ({@link #onDbPair}: its servers' SQL, acknowledged writes lost; a failover's
 * journal), JSON over HTTP, waiting, and the summary line.
 */
final class BenchSupport {

  /** The image of {@link #idleImages}: an instance that only sleeps, for a benchmark that speaks for its agent. */
  static final String IDLE_IMAGE = "bench-idle";
  /** How long the DB pair may take to launch, or a replica to be rebuilt, until it replicates with semi-sync. */
  static final Duration DB_UP = Duration.ofSeconds(240);
  /** {@code ./fleetvote writer}'s default: a write (its connect included) not acknowledged within this long fails. */
  static final Duration DB_WRITE_TIMEOUT = Duration.ofSeconds(5);

  private static final String KEPT = "SELECT seq FROM " + WriterOptions.DEFAULT_TABLE + " WHERE seq BETWEEN ? AND ?";
  /** How often the benchmarks ask: the resolution of what they time. */
  private static final Duration POLL = Duration.ofMillis(2);
  /** One LB, whose write and read ports front the DB pair (it serves a web group the DB benchmarks do not run). */
  private static final JsonObject DB_LB_GROUP = new JsonObject().put("name", "lb")
      .put("imageId", ImageCatalog.imageId("fleetvote-lb")).put("min", 1).put("max", 1)
      .put("agent", new JsonObject().put("roles", new JsonArray().add("lb")).put("gossipPeriodMs", 500)
          .put("lb", new JsonObject().put("serves", "web").put("reconcileMs", 1000)));

  private BenchSupport() {
  }

  /** {@code cli} with {@code --smoke}: the benchmark at its smallest, which the test suite runs (BenchSmokeIT). */
  static CommandLine withSmoke(CommandLine cli) {
    return cli.flag("smoke", "tiny sizes, one cycle: shows that the benchmark runs, measures nothing");
  }

  /** A benchmark's body, as {@link #runAndExit} runs it. */
  interface Body {
    void run() throws Exception;
  }

  /** Runs {@code body}, then exits the JVM: 0 when it returned, 1 with its stack trace when it threw. */
  static void runAndExit(Body body) {
    try {
      body.run();
    } catch (Exception e) {
      e.printStackTrace();
      System.exit(1);
    }
    System.exit(0);
  }

  /** Option {@code name} as a count within {@code min..max}, or {@code smoke} under {@code --smoke}. */
  static int count(CommandLine.Parsed parsed, String name, int min, int max, int smoke) {
    return parsed.flag("smoke") ? smoke : parsed.intValue(name, min, max);
  }

  /**
   * Writes {@code dir/images.json}, the sandbox's extra image {@value #IDLE_IMAGE} (outside any CPU quota: sleepers
   * that never run work need no cgroups), and returns its path for the sandbox's {@code --images}.
   */
  static Path idleImages(Path dir) throws IOException {
    Path images = dir.resolve("images.json");
    Files.writeString(images, new JsonObject().put("images", new JsonArray().add(new JsonObject()
        .put("name", IDLE_IMAGE).put("description", "an instance without an agent: the benchmark speaks for it")
        .put("processes", new JsonArray().add(new JsonObject().put("name", "sleep")
            .put("command", new JsonArray().add("sleep").add("3600")).put("stopTimeoutMillis", 1000)
            .put("withinCapacity", false))))).encode());
    return images;
  }

  /** Writes {@code dir/groups.json}: group {@code name} of idle instances, {@code min..max}; returns its path. */
  static Path idleGroup(Path dir, String name, int min, int max) throws IOException {
    return groups(dir, new JsonArray().add(idleGroup(name, min, max)));
  }

  /** The same with several groups, each of exactly its size: {@code sizes} by name. */
  static Path idleGroups(Path dir, Map<String, Integer> sizes) throws IOException {
    JsonArray groups = new JsonArray();
    sizes.forEach((name, size) -> groups.add(idleGroup(name, size, size)));
    return groups(dir, groups);
  }

  private static JsonObject idleGroup(String name, int min, int max) {
    return new JsonObject().put("name", name).put("imageId", ImageCatalog.imageId(IDLE_IMAGE)).put("min", min)
        .put("max", max).put("calmTimeMs", 0).put("bootTimeoutMs", 600_000)
        // No healing: what the benchmark measures is not its agents' silence while it starts them.
        .put("autoHeal", false);
  }

  private static Path groups(Path dir, JsonArray groups) throws IOException {
    Path file = dir.resolve("groups.json");
    Files.writeString(file, new JsonObject().put("groups", groups).encode());
    return file;
  }

  /**
   * A coordinator of deployment {@code bench} on {@code sandbox}, the first member of cluster {@code cluster}, its
   * agent gateway on a free port (the instances' user-data names it).
   */
  static ManagedProcess coordinator(Path dir, SandboxProcess sandbox, Path groups, String cluster, int clusterPort,
                                    int apiPort, long tickMillis, long fleetRefreshMillis) {
    List<String> args = new ArrayList<>(List.of("--tick-ms", Long.toString(tickMillis),
        "--fleet-refresh-ms", Long.toString(fleetRefreshMillis)));
    args.addAll(sandbox.agentGatewayArgs());
    return coordinator(dir, "coordinator", sandbox, groups, cluster, clusterPort, List.of(clusterPort), apiPort, args);
  }

  /**
   * Coordinator {@code name} of deployment {@code bench} on {@code sandbox}, a member of cluster {@code cluster}
   * (whose members' ports are {@code members}), with {@code extra} options (its gateway's among them); its data in
   * {@code dir/name}, its log in {@code dir/name.log}. The same arguments start it again after a kill.
   */
  static ManagedProcess coordinator(Path dir, String name, SandboxProcess sandbox, Path groups, String cluster,
                                    int clusterPort, List<Integer> members, int apiPort, List<String> extra) {
    List<String> args = new ArrayList<>(List.of("--no-auth", "--deployment", "bench", "--cluster-name", cluster,
        "--cluster-port", Integer.toString(clusterPort),
        "--members", String.join(",", members.stream().map(p -> "127.0.0.1:" + p).toList()),
        "--http-port", Integer.toString(apiPort), "--groups", groups.toString(),
        "--data-dir", dir.resolve(name).toString(), "--ec2-endpoint", sandbox.endpoint().toString()));
    args.addAll(extra);
    return ManagedProcess.start(name, ManagedProcess.java(FleetvoteHome.dir(),
            "coordinator/target/fleetvote-coordinator.jar", "io.fleetvote.coordinator.CoordinatorMain",
            JvmFlags.HAZELCAST, args),
        dir.resolve(name + ".log"), URI.create("http://127.0.0.1:" + apiPort + "/health"), Duration.ofSeconds(60));
  }

  /**
   * Runs {@code benchmark} on the DB pair of the real system: a sandbox, a coordinator whose groups file has an
   * {@code lb} group (one HAProxy instance) and a {@code db} section (master and replica, each a MariaDB on its own
   * volume, semi-sync on as by default; {@code db} adds to it, e.g. its failover settings), once the pair replicates
   * with semi-sync on. The sandbox, the coordinator and every instance (MariaDB and HAProxy within) are stopped at
   * the end, also on a failure or SIGTERM ({@link SandboxProcess}, {@link ManagedProcess}); the state directory goes
   * after a run that succeeded.
   *
   * @param name the benchmark's short name, in its state directory's and its cluster's names
   */
  static void onDbPair(String name, JsonObject db, DbBenchmark benchmark) throws Exception {
    // Short: the lb instance's HAProxy admin socket is in it, and HAProxy takes a socket path of 97 characters at most.
    Path dir = Files.createTempDirectory("fvbench-" + name + "-");
    Path groups = dir.resolve("groups.json");
    Files.writeString(groups, new JsonObject().put("groups", new JsonArray().add(DB_LB_GROUP))
        .put("db", new JsonObject().put("imageId", ImageCatalog.imageId("fleetvote-db")).put("instanceType", "t3.small")
            .put("volumeGiB", 2).put("database", "wiki").mergeIn(db)).encode());
    int apiPort = FreePorts.pick();
    Vertx vertx = Vertx.vertx();
    try (SandboxProcess sandbox = SandboxProcess.start(dir.resolve("sandbox"));
         ManagedProcess coordinator = coordinator(dir, sandbox, groups, "bench-" + name + "-" + System.nanoTime(),
             FreePorts.pick(), apiPort, 500, 2000)) {
      CoordinatorClient api = new CoordinatorClient(apiPort);
      DbSystem.awaitSemiSyncPair(api);
      String lb = await("the lb instance", DB_UP, () -> group(apiPort, "lb")
          .flatMap(g -> g.getJsonArray("instances").stream().map(String.class::cast).findFirst()));
      SandboxAdmin admin = sandbox.admin();
      benchmark.run(new DbSystem(dir, admin, api, vertx, PasswordFile.read(dir.resolve("coordinator")
          .resolve("db-db.json")), admin.port(lb, "mysql-write"), admin.port(lb, "mysql-read")));
      admin.terminateAll();
      coordinator.stop();
    } finally {
      vertx.close().await();
    }
    // The volumes hold the servers' data and binlogs (a GiB after a full db-pair run): gone after a run that
    // succeeded; a failed run's stay, beside the logs, for a look.
    try (Stream<Path> tree = Files.walk(dir)) {
      tree.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
    }
  }

  /** A benchmark of the DB pair, run by {@link #onDbPair}. */
  interface DbBenchmark {
    void run(DbSystem system) throws Exception;
  }

  /** The pair's master and replica instances, as the coordinator's topology names them. */
  record DbRoles(String master, String replica) {
  }

  /**
   * The DB pair a benchmark runs on: its state directory (for files of its own; gone after a run that succeeded), the
   * sandbox's admin API, the coordinator's, a Vert.x for the MariaDB clients, the application account's password (from
   * the coordinator's {@code db-db.json}), and the lb instance's DB write and read ports.
   */
  record DbSystem(Path dir, SandboxAdmin admin, CoordinatorClient api, Vertx vertx, String password, int writePort,
                  int readPort) {

    /**
     * Waits for the pair to replicate with semi-sync on, its writes routed to the topology's master: the master reports
     * semi-sync on with one replica acknowledging, the replica reports semi-sync on. The master and the replica.
     */
    static DbRoles awaitSemiSyncPair(CoordinatorClient api) {
      JsonObject pair = Await.until("the DB pair replicating, writes routed to its master", DB_UP,
          () -> api.ifAnswered(c -> Optional.ofNullable(c.dbPair())).flatMap(p -> p).orElse(null),
          p -> p != null && "replicating".equals(p.getString("phase")) && p.getJsonObject("route") != null
              && p.getJsonObject("route").getJsonObject("master") != null
              && slot(p, true).equals(p.getJsonObject("route").getJsonObject("master").getString("instanceId"))
              && !p.getJsonObject("route").getJsonArray("replicas").isEmpty());
      DbRoles roles = new DbRoles(slot(pair, true), slot(pair, false));
      Await.until("semi-sync on, the replica acknowledging", DB_UP, () -> api.ifAnswered(CoordinatorClient::db)
          .orElse(List.of()), reports -> report(reports, roles.master()).map(r -> r.getBoolean("semiSyncMaster")
              && r.getInteger("semiSyncClients") == 1).orElse(false)
          && report(reports, roles.replica()).map(r -> r.getBoolean("semiSyncSlave")).orElse(false));
      return roles;
    }

    /** {@link #awaitSemiSyncPair(CoordinatorClient)} on this system's coordinator. */
    DbRoles awaitSemiSyncPair() {
      return awaitSemiSyncPair(api);
    }

    /**
     * Waits for the pair as a trial needs it: {@link #awaitSemiSyncPair() semi-sync acknowledged}, the leader's
     * verdict on the master alive, and the LB's write port reaching the master. The master and the replica.
     */
    DbRoles awaitWhole() {
      DbRoles roles = awaitSemiSyncPair();
      Await.until("the leader's verdict on master " + roles.master() + ": alive", DB_UP,
          () -> api.ifAnswered(c -> Optional.ofNullable(c.dbPair())).flatMap(p -> p)
              .map(p -> p.getJsonObject("masterHealth")).orElse(null),
          health -> health != null && roles.master().equals(health.getString("instanceId"))
              && "alive".equals(health.getString("verdict")));
      awaitServer("the LB's write port (the master)", writePort, report(roles.master()).getLong("serverId"));
      return roles;
    }

    /** The instance in the master's slot of the pair's view, or in the replica's. */
    private static String slot(JsonObject pair, boolean master) {
      int masterSlot = pair.getJsonObject("topology").getInteger("masterSlot");
      return pair.getJsonArray("slots").getJsonObject(master ? masterSlot - 1 : 2 - masterSlot)
          .getString("instanceId");
    }

    /** An instance's DB report among {@code GET /api/db}'s. */
    static Optional<JsonObject> report(List<JsonObject> reports, String instanceId) {
      return reports.stream().filter(r -> instanceId.equals(r.getString("instanceId"))).findFirst();
    }

    /** An instance's latest DB report, as the coordinator has it. */
    JsonObject report(String instanceId) {
      return report(api.db(), instanceId).orElseThrow(() -> new IllegalStateException("the coordinator has no DB "
          + "report of " + instanceId));
    }

    /** Waits for {@code port} ({@code what}) to reach the server whose {@code @@server_id} is {@code serverId}. */
    void awaitServer(String what, int port, long serverId) {
      Await.until(what + " reaching server_id " + serverId, DB_UP, () -> single(port, "SELECT @@server_id"),
          id -> id.isPresent() && id.get() == serverId);
    }

    /**
     * The one number {@code sql} answers through {@code port} on a connection of its own; empty on a failure (a refused
     * connect too: {@code await} throws its checked exception as it is).
     */
    Optional<Long> single(int port, String sql) {
      try {
        MySQLConnection connection = MySQLConnection.connect(vertx, connectOptions(port))
            .timeout(2, TimeUnit.SECONDS).await();
        try {
          return Optional.of(connection.query(sql).execute().timeout(2, TimeUnit.SECONDS).await().iterator().next()
              .getLong(0));
        } finally {
          connection.close();
        }
      } catch (Exception e) {
        return Optional.empty();
      }
    }

    /**
     * How many of {@code acked} the server on 127.0.0.1:{@code port} (a server's own port, not the LB's) does not
     * have: acknowledged writes lost, if it is the master.
     */
    long lost(int port, Set<Long> acked) {
      if (acked.isEmpty()) {
        return 0;
      }
      Set<Long> kept = new HashSet<>();
      MySQLConnection connection = MySQLConnection.connect(vertx, connectOptions(port))
          .timeout(10, TimeUnit.SECONDS).await();
      try {
        for (Row row : connection.preparedQuery(KEPT).execute(Tuple.of(acked.stream().mapToLong(Long::longValue)
            .min().orElseThrow(), acked.stream().mapToLong(Long::longValue).max().orElseThrow()))
            .timeout(10, TimeUnit.SECONDS).await()) {
          kept.add(row.getLong(0));
        }
      } finally {
        connection.close();
      }
      return acked.stream().filter(seq -> !kept.contains(seq)).count();
    }

    /**
     * {@code sql} on an instance's MariaDB as its operator runs it: the mariadb client on the server's socket (from the
     * my.cnf its agent wrote in the instance's directory), as the OS account MariaDB was installed for; the answer's
     * lines (tab-separated fields, no column names).
     */
    List<String> sql(String instanceId, String sql) {
      Path cnf = Path.of(admin.instance(instanceId).getString("dir"), "db", "my.cnf");
      try {
        Path output = Files.createTempFile("fleetvote-bench-db-sql-", ".out");
        try {
          Process client = new ProcessBuilder("mariadb", "--defaults-file=" + cnf, "--batch",
              "--skip-column-names", "-e", sql).redirectErrorStream(true).redirectOutput(output.toFile()).start();
          if (!client.waitFor(10, TimeUnit.SECONDS)) {
            client.destroyForcibly();
            throw new IllegalStateException("the mariadb client did not finish within 10 s: " + sql);
          }
          List<String> lines = Files.readAllLines(output, StandardCharsets.UTF_8);
          if (client.exitValue() != 0) {
            throw new IllegalStateException("the mariadb client exited with " + client.exitValue() + " on "
                + instanceId + " (" + cnf + "): " + String.join(" ", lines));
          }
          return lines;
        } finally {
          Files.deleteIfExists(output);
        }
      } catch (IOException e) {
        throw new IllegalStateException("cannot run the mariadb client: " + e.getMessage(), e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted running the mariadb client", e);
      }
    }

    /** The application account on 127.0.0.1:{@code port} (the LB's, or a server's own). */
    MySQLConnectOptions connectOptions(int port) {
      return new MySQLConnectOptions().setHost("127.0.0.1").setPort(port).setUser("fleetvote_app")
          .setPassword(password).setDatabase("wiki").setSslMode(SslMode.DISABLED)
          .setAuthenticationPlugin(MySQLAuthenticationPlugin.MYSQL_NATIVE_PASSWORD).setCachePreparedStatements(true);
    }

    /**
     * {@code ./fleetvote writer}'s options through the LB's write port: {@code rate} 0 for closed loop, a zero
     * {@code duration} for until stopped, {@code acked} null for no file.
     */
    WriterOptions writer(String name, int rate, int connections, Duration duration, Duration timeout, Path acked) {
      return new WriterOptions("127.0.0.1", writePort, "wiki", "fleetvote_app", password, WriterOptions.DEFAULT_TABLE,
          rate, connections, duration, timeout, acked, name);
    }
  }

  /** The pair's latest failover or switchover, as its view ({@code GET /api/db}'s {@code pair}) shows it. */
  static Optional<JsonObject> failover(JsonObject pair) {
    return Optional.ofNullable(pair).map(p -> p.getJsonObject("topology")).map(t -> t.getJsonObject("failover"));
  }

  /** Milliseconds from {@code t0Millis} to the journal's first step named {@code name} (-1 when none is). */
  static long step(JsonObject failover, String name, long t0Millis) {
    JsonArray steps = failover.getJsonArray("steps");
    return steps.stream().map(JsonObject.class::cast).filter(s -> name.equals(s.getString("name"))).findFirst()
        .map(s -> s.getLong("at") - t0Millis).orElse(-1L);
  }

  /** A failover's journal, a line a step: its time less {@code t0Millis}, its name and its sentence. */
  static List<String> journal(JsonObject failover, long t0Millis) {
    return failover.getJsonArray("steps").stream().map(JsonObject.class::cast).map(st -> String.format(Locale.ROOT,
        "%+6d  %s: %s", st.getLong("at") - t0Millis, st.getString("name"), st.getString("text"))).toList();
  }

  /** Throws the writer's failure (its table not prepared, say), if it failed. */
  static void notFailed(Future<WriterReport> writing) {
    if (writing.failed()) {
      throw new IllegalStateException("the writer failed: " + writing.cause().getMessage(), writing.cause());
    }
  }

  /** The live votes (grow, shrink or none) group {@code name} has on the coordinator of {@code apiPort}. */
  static Optional<Integer> votesCounted(int apiPort, String name) {
    return group(apiPort, name).map(g -> {
      JsonObject votes = g.getJsonObject("votes");
      return votes.getInteger("grow") + votes.getInteger("shrink") + votes.getInteger("none");
    });
  }

  /** GET {@code path} on 127.0.0.1:{@code port}: the JSON body of a 200, else empty. */
  static Optional<JsonObject> getJson(int port, String path) {
    return LocalJson.get(port, path);
  }

  /** A group of the coordinator's {@code /api/groups}. */
  static Optional<JsonObject> group(int apiPort, String name) {
    return getJson(apiPort, "/api/groups").flatMap(g -> g.getJsonArray("groups").stream()
        .map(JsonObject.class::cast).filter(x -> x.getString("name").equals(name)).findFirst());
  }

  static void await(String what, Duration timeout, BooleanSupplier condition) {
    Await.until(what, timeout, POLL, condition::getAsBoolean, Boolean::booleanValue);
  }

  /** Polls {@code probe} every 2 ms until it has a value; fails naming {@code what} after {@code timeout}. */
  static <T> T await(String what, Duration timeout, Supplier<Optional<T>> probe) {
    return Await.until(what, timeout, POLL, probe, Optional::isPresent).orElseThrow();
  }

  /** "median M ms, p95 P, min A, max B, spread S (n runs)" of millisecond values. */
  static String summary(List<Long> millis) {
    long[] sorted = millis.stream().mapToLong(Long::longValue).sorted().toArray();
    if (sorted.length == 0) {
      return "no runs";
    }
    int n = sorted.length;
    return String.format(Locale.ROOT, "median %d ms, p95 %d, min %d, max %d, spread %d (%d runs)", median(sorted),
        percentile(sorted, 95), sorted[0], sorted[n - 1], sorted[n - 1] - sorted[0], n);
  }

  /** The median of sorted values: the middle one, or the mean of the two middle ones (0 for none). */
  static long median(long[] sorted) {
    int n = sorted.length;
    return n == 0 ? 0 : n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  /** Nearest rank: the smallest value with at least {@code p} percent of them at or below it (0 for none). */
  static long percentile(long[] sorted, double p) {
    return sorted.length == 0 ? 0 : sorted[Math.max(0, (int) Math.ceil(p / 100 * sorted.length) - 1)];
  }
}
