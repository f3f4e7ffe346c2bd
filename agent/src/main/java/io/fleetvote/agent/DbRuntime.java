package io.fleetvote.agent;

import io.fleetvote.agent.db.DbOptions;
import io.fleetvote.agent.db.DbProbe;
import io.fleetvote.agent.db.MariaDbConfig;
import io.fleetvote.agent.db.MariaDbSupervisor;
import io.fleetvote.common.Addresses;
import io.fleetvote.common.LogSafe;
import io.fleetvote.common.imds.BlockDevices;
import io.fleetvote.common.msg.DbStatus;
import io.fleetvote.common.process.ChildState;
import io.fleetvote.common.process.LoggedProcess;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Role {@code db}: the instance's MariaDB, on its data volume. Once a second it looks for the volume at its device
 * ({@link BlockDevices}: the same code on EC2 and in the sandbox) until it is there; then it makes the datadir when
 * the volume is new ({@code mariadb-install-db}), writes my.cnf and the init file into its own directory, starts
 * MariaDB ({@link MariaDbSupervisor}: restarted when it dies) and from then on reads its status
 * ({@link DbProbe}). The status ({@link DbStatus}) goes to the coordinators once a second, whatever state MariaDB is
 * in: no volume, starting, down, refusing the agent, or up with its replication.
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
  private Vertx vertx;
  private DbProbe probe;
  private MariaDbSupervisor supervisor;
  private MariaDbConfig config;
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
    String password;
    try {
      password = secret(options.dir());
    } catch (IOException e) {
      throw new IllegalStateException("cannot keep the DB agent's secret in " + options.dir() + ": " + e, e);
    }
    probe = new DbProbe(vertx, instanceId, deployment, options.getPort(), AGENT_USER, password);
    latest.set(DbStatus.unavailable(instanceId, deployment, clock.millis(), DbStatus.Server.NO_VOLUME,
        "looking for " + options.getDevice(), options.getPort()));
    vertx.runOnContext(x -> {
      tick(password);
      vertx.setPeriodic(options.getStatusMs(), t -> tick(password));
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
    AgentBus bus = fleet.get();
    return fleetVertx.deployVerticle(new VerticleBase() {
      @Override
      public Future<?> start() {
        vertx.setPeriodic(options.getStatusMs(), t -> bus.publish(Addresses.DB_STATUS, latest.get().toJson()));
        return Future.succeededFuture();
      }
    });
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

  private void tick(String password) {
    if (busy || stopping) {
      return;
    }
    busy = true;
    Future<DbStatus> next = supervisor == null ? prepareAndStart(password) : read();
    next.onComplete(done -> {
      busy = false;
      latest.set(done.succeeded() ? done.result() : down(done.cause().getMessage()));
    });
  }

  private Future<DbStatus> read() {
    if (supervisor.state() == ChildState.READY) {
      return probe.status(clock.millis());
    }
    return Future.succeededFuture(down("MariaDB is " + supervisor.state().name().toLowerCase(java.util.Locale.ROOT)
        + " (the agent restarts it)"));
  }

  /** Finds the volume; when it is there, makes the datadir if new, writes the configuration and starts MariaDB. */
  private Future<DbStatus> prepareAndStart(String password) {
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

  /** {@code mariadb-install-db} into the new volume's datadir, without any system configuration. Blocking. */
  private void install(MariaDbConfig prepared) throws IOException, InterruptedException {
    Files.createDirectories(prepared.dataDir());
    List<String> command = List.of(options.getInstallDb(), "--no-defaults", "--datadir=" + prepared.dataDir(),
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
  }

  private DbStatus down(String why) {
    return DbStatus.unavailable(instanceId, deployment, clock.millis(), DbStatus.Server.DOWN,
        LogSafe.printable(why == null ? "unknown" : why, DbStatus.MAX_TEXT_LENGTH), options.getPort());
  }

  /** The agent's MariaDB password: made once, kept owner-only in its own directory, never logged or sent. */
  private static String secret(Path dir) throws IOException {
    Files.createDirectories(dir);
    Path file = dir.resolve(SECRET_FILE);
    if (Files.exists(file)) {
      return Files.readString(file, StandardCharsets.US_ASCII).trim();
    }
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    SecureRandom random = new SecureRandom();
    StringBuilder password = new StringBuilder();
    for (int i = 0; i < 32; i++) {
      password.append(alphabet.charAt(random.nextInt(alphabet.length())));
    }
    Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(file, password, StandardCharsets.US_ASCII);
    return password.toString();
  }
}
