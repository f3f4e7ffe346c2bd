package io.fleetvote.agent;

import io.fleetvote.agent.db.DbOptions;
import io.fleetvote.common.msg.DbStatus;
import io.fleetvote.testkit.Await;
import io.vertx.core.Vertx;
import io.vertx.mysqlclient.MySQLConnectOptions;
import io.vertx.mysqlclient.MySQLConnection;
import io.vertx.mysqlclient.SslMode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * DB agents of the tests' own, each running a real MariaDB (Debian's) in its own directory with its own port, socket
 * and datadir, never a system MariaDB's. {@link #close()} stops them all and kills, by the pid it wrote, any MariaDB of
 * theirs still there, whether the test passed or not.
 */
final class TestDbRuntimes implements AutoCloseable {

  private final Vertx vertx = Vertx.vertx();
  /** Each runtime started and not yet stopped, with its agent directory. */
  private final Map<DbRuntime, Path> runtimes = new LinkedHashMap<>();

  /** The options of a DB agent in {@code agentDir} on {@code port}, reporting five times a second. */
  static DbOptions options(Path agentDir, int port) {
    return new DbOptions().setDir(agentDir.toString()).setPort(port).setStatusMs(200);
  }

  /** Starts a DB agent that looks for its volume in {@code devices}. */
  DbRuntime start(String instanceId, DbOptions options, Path devices) {
    DbRuntime runtime = new DbRuntime(instanceId, "it", options, devices, Path.of("/proc/mounts"), Clock.systemUTC());
    runtimes.put(runtime, options.dir());
    runtime.start();
    return runtime;
  }

  /** Attaches a new volume {@code volume} at {@code devices}/sdf, where a runtime with the default device finds it. */
  static void attach(Path devices, Path volume) throws IOException {
    Files.createDirectories(volume);
    Files.createSymbolicLink(devices.resolve("sdf"), volume);
  }

  /** Stops {@code runtime} (and its MariaDB) now. */
  void stop(DbRuntime runtime) {
    runtime.stop();
    runtimes.remove(runtime);
  }

  static DbStatus awaitUp(DbRuntime runtime) {
    return Await.until("MariaDB up", Duration.ofSeconds(90), runtime::status,
        s -> s.server() == DbStatus.Server.UP);
  }

  /** The agent's own MariaDB password. */
  static String agentPassword(Path agentDir) throws IOException {
    return Files.readString(agentDir.resolve("agent.secret")).trim();
  }

  /** Runs the statements (split on {@code "; "}) as {@code user}; the first column of the last result, if any. */
  String sql(int port, String user, String password, String statements) {
    MySQLConnection connection = MySQLConnection.connect(vertx, new MySQLConnectOptions().setHost("127.0.0.1")
        .setPort(port).setUser(user).setPassword(password).setSslMode(SslMode.DISABLED)).await();
    try {
      String last = null;
      for (String statement : statements.split("; ")) {
        var rows = connection.query(statement).execute().await();
        if (rows.size() > 0 && rows.columnsNames() != null && !rows.columnsNames().isEmpty()) {
          last = String.valueOf(rows.iterator().next().getValue(0));
        }
      }
      return last;
    } finally {
      connection.close().await();
    }
  }

  static long mariadbPid(Path agentDir) throws IOException {
    return Long.parseLong(Files.readString(agentDir.resolve("mariadb.pid")).trim());
  }

  @Override
  public void close() {
    try {
      runtimes.keySet().forEach(DbRuntime::stop);
    } finally {
      runtimes.values().forEach(TestDbRuntimes::killLeftOver);
      vertx.close().await();
    }
  }

  private static void killLeftOver(Path agentDir) {
    String config = agentDir.resolve("my.cnf").toString();
    try {
      ProcessHandle.of(mariadbPid(agentDir))
          .filter(p -> p.info().commandLine().orElse("").contains(config))
          .ifPresent(ProcessHandle::destroyForcibly);
    } catch (IOException | NumberFormatException gone) {
      // No pid file: MariaDB was never started, or stopped cleanly (it removes its pid file).
    }
  }
}
