package io.fleetvote.agent;

import io.fleetvote.agent.db.DbControl;
import io.fleetvote.agent.db.DbOptions;
import io.fleetvote.agent.db.DbProbe;
import io.fleetvote.agent.db.MariaDbConfig;
import io.fleetvote.agent.db.MariaDbSupervisor;
import io.fleetvote.common.Addresses;
import io.fleetvote.common.LogSafe;
import io.fleetvote.common.auth.Passwords;
import io.fleetvote.common.imds.BlockDevices;
import io.fleetvote.common.msg.DbCommand;
import io.fleetvote.common.msg.DbStatus;
import io.fleetvote.common.msg.Rejections;
import io.fleetvote.common.process.ChildState;
import io.fleetvote.common.process.LoggedProcess;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

/**
 * Role {@code db}: the instance's MariaDB, on its data volume. Once a second it looks for the volume at its device
 * ({@link BlockDevices}: the same code on EC2 and in the sandbox) until it is there; then it makes the datadir when
 * the volume is new ({@code mariadb-install-db}), writes my.cnf and the init file into its own directory, starts
 * MariaDB ({@link MariaDbSupervisor}: restarted when it dies) and from then on reads its status
 * ({@link DbProbe}), twice a second. The status ({@link DbStatus}) goes to the coordinators once a second, whatever
 * state MariaDB is in: no volume, starting, down, refusing the agent, or up with its replication; and at once when a
 * read finds it changed (MariaDB's state, a replication thread, read-only, semi-sync): a replica whose master died says
 * so within half a second, which is what the leader's failure detector waits for. The leader's commands
 * ({@link DbCommand} on {@link Addresses#dbControl}) are heard from the start and carried out by a {@link DbControl}
 * once MariaDB is up; until then they fail saying what MariaDB is (a reason the leader can act on, where no
 * consumer would only say "no handlers").
 */
final class DbRuntime implements RoleRuntime {

  private static final Logger LOG = LoggerFactory.getLogger(DbRuntime.class);
  /** The agent's own MariaDB account (on 127.0.0.1 only). */
  static final String AGENT_USER = "fleetvote_agent";
  private static final String SECRET_FILE = "agent.secret";
  private static final long INSTALL_TIMEOUT_S = 120;

  private final String instanceId;
  private final String deployment;
  private final DbOptions options;
  private final Path deviceDir;
  private final Path mounts;
  private final Clock clock;
  private final AtomicReference<DbStatus> latest = new AtomicReference<>();
  /** Called (on the reading thread) when a read finds the status changed; the fleet verticle publishes it. */
  private volatile Runnable changed = () -> { };
  private Vertx vertx;
  private DbProbe probe;
  private MariaDbSupervisor supervisor;
  /** How long a FENCE by SQL may take before the agent fences by SIGKILL instead. */
  static final long FENCE_SQL_MS = 1500;
  private MariaDbConfig config;
  /** The agent's MariaDB password, never logged or sent. */
  private String password;
  private boolean busy;
  /** Set by {@link #stop()} on the main thread: no start after it. */
  private volatile boolean stopping;

  DbRuntime(String instanceId, String deployment, DbOptions options, Path deviceDir, Path mounts, Clock clock) {
    this.instanceId = instanceId;
    this.deployment = deployment;
    this.options = options;
    this.deviceDir = deviceDir;
    this.mounts = mounts;
    this.clock = clock;
  }

  /** Starts looking for the volume (and then runs MariaDB) in the background: an agent is up before its volume. */
  @Override
  public void start() {
    vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(2));
    try {
      password = secret(options.dir());
    } catch (IOException e) {
      throw new IllegalStateException("cannot keep the DB agent's secret in " + options.dir() + ": " + e, e);
    }
    probe = new DbProbe(vertx, instanceId, deployment, options.getPort(), AGENT_USER, password);
    latest.set(DbStatus.unavailable(instanceId, deployment, clock.millis(), DbStatus.Server.NO_VOLUME,
        "looking for " + options.getDevice(), options.getPort()));
    vertx.runOnContext(x -> {
      tick();
      vertx.setPeriodic(Math.max(1, options.getStatusMs() / 2), t -> tick());
    });
  }

  /** The last status read. */
  DbStatus status() {
    return latest.get();
  }

  @Override
  public Future<?> deploy(Vertx fleetVertx, Optional<AgentBus> fleet) {
    if (fleet.isEmpty()) {
      return Future.succeededFuture();
    }
    return fleetVertx.deployVerticle(new FleetVerticle(fleet.get()));
  }

  @Override
  public void stop() {
    if (vertx == null) {
      return;
    }
    try {
      stopping = true;
      if (supervisor != null) {
        supervisor.stop().await(70, TimeUnit.SECONDS);
      }
      probe.close().await(5, TimeUnit.SECONDS);
      vertx.close().await(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.warn("{}: MariaDB or the DB runtime did not stop cleanly: {}", instanceId, e.toString());
    }
  }

  private void tick() {
    if (busy || stopping) {
      return;
    }
    busy = true;
    Future<DbStatus> reading = supervisor == null ? prepareAndStart() : read();
    reading.onComplete(done -> {
      busy = false;
      DbStatus next = done.succeeded() ? done.result() : down(done.cause().getMessage());
      DbStatus before = latest.getAndSet(next);
      if (before != null && !sameState(before, next)) {
        changed.run();
      }
    });
  }

  /** The same state as far as the leader's decisions go: MariaDB's, the replication threads', the roles'. */
  static boolean sameState(DbStatus a, DbStatus b) {
    return a.server() == b.server() && a.ioThread() == b.ioThread() && a.sqlThread() == b.sqlThread()
        && a.readOnly() == b.readOnly() && a.semiSyncMaster() == b.semiSyncMaster()
        && a.semiSyncSlave() == b.semiSyncSlave();
  }

  private Future<DbStatus> read() {
    if (supervisor.state() == ChildState.READY) {
      return probe.status(clock.millis());
    }
    return Future.succeededFuture(down("MariaDB is " + supervisor.state().name().toLowerCase(java.util.Locale.ROOT)
        + " (the agent restarts it)"));
  }

  /** Finds the volume; when it is there, makes the datadir if new, writes the configuration and starts MariaDB. */
  private Future<DbStatus> prepareAndStart() {
    return vertx.<Optional<MariaDbConfig>>executeBlocking(() -> {
      BlockDevices.Resolution volume = BlockDevices.resolve(deviceDir, options.getDevice(), mounts);
      if (volume.path().isEmpty()) {
        latest.set(DbStatus.unavailable(instanceId, deployment, clock.millis(), DbStatus.Server.NO_VOLUME,
            volume.why(), options.getPort()));
        return Optional.empty();
      }
      MariaDbConfig prepared = new MariaDbConfig(volume.path().get().resolve("mysql"), options.dir(),
          options.getPort(), options.serverId(instanceId)).setSemiSyncTimeoutMs(options.getSemiSyncTimeoutMs());
      Path cnf = options.dir().resolve("my.cnf");
      prepared.write(cnf, MariaDbConfig.initSql(AGENT_USER, password));
      if (!Files.isDirectory(prepared.dataDir().resolve("mysql"))) {
        install(prepared);
      }
      return Optional.of(prepared);
    }, false).compose(found -> {
      if (found.isEmpty() || stopping) {
        return Future.succeededFuture(latest.get());
      }
      config = found.get();
      LOG.info("{}: data volume at {}; starting MariaDB on port {} (server_id {})", instanceId,
          config.dataDir().getParent(), config.port(), config.serverId());
      MariaDbSupervisor started = new MariaDbSupervisor(vertx, options.getMariadbd(), options.dir().resolve("my.cnf"),
          options.dir().resolve("mariadb.log"), probe, config.serverId());
      supervisor = started;
      latest.set(DbStatus.unavailable(instanceId, deployment, clock.millis(), DbStatus.Server.STARTING,
          "starting on " + config.dataDir(), options.getPort()));
      return started.start()
          .onSuccess(id -> LOG.info("{}: MariaDB up (pid {}, server_id {})", instanceId, started.pid(), id))
          .compose(id -> probe.status(clock.millis()))
          .recover(e -> {
            LOG.warn("{}: {}", instanceId, e.getMessage());
            supervisor = null;
            return Future.succeededFuture(down(e.getMessage()));
          });
    });
  }

  /**
   * {@code mariadb-install-db} into the new volume's datadir, without any system configuration. Blocking. It installs
   * into a sibling directory renamed into place once complete, so an install cut short (a timeout, a killed agent)
   * leaves no half datadir that would later pass for a whole one: the next attempt starts over.
   */
  private void install(MariaDbConfig prepared) throws IOException, InterruptedException {
    Path dataDir = prepared.dataDir();
    Path staging = dataDir.resolveSibling(dataDir.getFileName() + ".installing");
    deleteTree(staging);
    Files.createDirectories(staging);
    List<String> command = List.of(options.getInstallDb(), "--no-defaults", "--datadir=" + staging,
        "--user=" + System.getProperty("user.name"), "--auth-root-authentication-method=socket", "--skip-test-db");
    LOG.info("{}: a new data volume: {}", instanceId, String.join(" ", command));
    Process run = LoggedProcess.builder(command, options.dir().resolve("install-db.log")).start();
    if (!run.waitFor(INSTALL_TIMEOUT_S, TimeUnit.SECONDS)) {
      run.destroyForcibly();
      throw new IOException("mariadb-install-db did not finish in " + INSTALL_TIMEOUT_S + " s");
    }
    if (run.exitValue() != 0) {
      throw new IOException("mariadb-install-db exited with " + run.exitValue() + "; see "
          + options.dir().resolve("install-db.log"));
    }
    if (Files.isDirectory(dataDir)) {
      try (Stream<Path> left = Files.list(dataDir)) {
        if (left.findAny().isPresent()) {
          throw new IOException(dataDir + " holds files but no system tables (mysql/): not a datadir this agent "
              + "installed; left alone");
        }
      }
      Files.delete(dataDir);
    }
    Files.move(staging, dataDir, StandardCopyOption.ATOMIC_MOVE);
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(path);
      }
    }
  }

  private DbStatus down(String why) {
    return DbStatus.unavailable(instanceId, deployment, clock.millis(), DbStatus.Server.DOWN,
        LogSafe.printable(why == null ? "unknown" : why, DbStatus.MAX_TEXT_LENGTH), options.getPort());
  }

  /** What the DB agent does on the fleet's bus: its status out every period, the leader's commands in. */
  private final class FleetVerticle extends VerticleBase {

    private final AgentBus bus;
    private DbControl control;
    private Rejections rejections;

    FleetVerticle(AgentBus bus) {
      this.bus = bus;
    }

    @Override
    public Future<?> start() {
      rejections = Rejections.of(Rejections.AGENT_METRIC, LOG, instanceId, clock);
      control = new DbControl(vertx, instanceId, options, new DbProbe(vertx, instanceId, deployment,
          options.getPort(), AGENT_USER, password), clock);
      vertx.setPeriodic(options.getStatusMs(), t -> publish());
      Context fleetContext = context;
      changed = () -> fleetContext.runOnContext(x -> publish());
      return bus.consumer(Addresses.dbControl(instanceId), this::command);
    }

    @Override
    public Future<?> stop() {
      changed = () -> { };
      return control.close();
    }

    private void publish() {
      bus.publish(Addresses.DB_STATUS, latest.get().toJson());
    }

    private void command(Message<Object> message) {
      Future.succeededFuture(message.body()).map(DbCommand::fromJson)
          .recover(e -> {
            rejections.reject(message.address(), "invalid", "a db command: " + e.getMessage());
            return Future.failedFuture(new ReplyException(ReplyFailure.RECIPIENT_FAILURE, 400,
                "db command refused: " + e.getMessage()));
          })
          .compose(this::carryOut)
          .onComplete(done -> {
            if (done.succeeded()) {
              message.reply(done.result().toJson());
            } else {
              message.fail(done.cause() instanceof ReplyException failure ? failure.failureCode() : DbControl.FAILED,
                  String.valueOf(done.cause().getMessage()));
            }
          });
    }

    private Future<DbStatus> carryOut(DbCommand command) {
      DbStatus now = latest.get();
      if (command.op() == DbCommand.Op.FENCE) {
        return now.server() != DbStatus.Server.UP
            ? fenceByKill(command, "MariaDB is " + describe(now.server()))
            : control.carryOut(command).timeout(FENCE_SQL_MS, TimeUnit.MILLISECONDS)
                .recover(e -> fenceByKill(command, "the fence by SQL failed (" + e.getMessage() + ")"));
      }
      if (now.server() == DbStatus.Server.UP) {
        return control.carryOut(command);
      }
      String why = "MariaDB is " + describe(now.server()) + ": " + now.problem();
      LOG.warn("{}: {} not carried out: {}", instanceId, command, why);
      return Future.failedFuture(new ReplyException(ReplyFailure.RECIPIENT_FAILURE, DbControl.UNAVAILABLE, why));
    }
  }

  /**
   * The fence of a MariaDB that does not answer the agent: SIGKILL to it when one runs (hung, stopped by a signal, or
   * refusing the agent); the supervisor starts it again read-only ({@code read_only=ON} in its configuration), so
   * either way it takes no write until the leader commands otherwise.
   */
  private Future<DbStatus> fenceByKill(DbCommand command, String why) {
    MariaDbSupervisor running = supervisor;
    boolean killed = running != null && running.kill();
    String done = why + ": " + (killed ? "MariaDB killed (SIGKILL); it starts again read-only"
        : "no MariaDB process runs; it starts read-only");
    LOG.warn("{}: {}: {}", instanceId, command, done);
    return Future.succeededFuture(down(done));
  }

  private static String describe(DbStatus.Server server) {
    return switch (server) {
      case UP -> "up";
      case STARTING -> "starting";
      case DOWN -> "down";
      case REFUSING -> "refusing the agent";
      case NO_VOLUME -> "without its data volume";
    };
  }

  /** The agent's MariaDB password: made once, kept owner-only in its own directory, never logged or sent. */
  private static String secret(Path dir) throws IOException {
    Files.createDirectories(dir);
    Path file = dir.resolve(SECRET_FILE);
    if (Files.exists(file)) {
      return Files.readString(file, StandardCharsets.US_ASCII).trim();
    }
    String password = Passwords.random(new SecureRandom(), 32);
    Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(file, password, StandardCharsets.US_ASCII);
    return password;
  }
}
