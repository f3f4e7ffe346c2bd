package io.fleetvote.agent.db;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * A DB instance's MariaDB 10.11 configuration ({@code reference/mariadb-failover-snapshots.md} (b)): GTID replication
 * with the binlog and relay logs on the data volume, {@code read_only} at every start (only the coordinator clears
 * it), semi-sync with {@code AFTER_SYNC} on both sides (a master's commits wait for a replica's acknowledgement, up
 * to {@link #setSemiSyncTimeoutMs}), short heartbeat and net timeouts; its own port, socket and pid file, never a
 * system MariaDB's. The file lives in the agent's directory, not on the volume: the {@code server_id} is the
 * instance's, and a volume attached to another instance takes that one's.
 */
public final class MariaDbConfig {

  private static final Pattern SAFE_PATH = Pattern.compile("/[A-Za-z0-9._/+-]{1,300}");

  private final Path dataDir;
  private final Path runDir;
  private final int port;
  private final long serverId;
  private String bindAddress = "127.0.0.1";
  private long semiSyncTimeoutMs = 2_000;
  private String bufferPool = "64M";

  /**
   * @param dataDir  the datadir, on the data volume
   * @param runDir   where the socket, the pid file and the init file go (the agent's own directory)
   * @param serverId the instance's {@code server_id} (1 .. 2^32-1)
   */
  public MariaDbConfig(Path dataDir, Path runDir, int port, long serverId) {
    this.dataDir = safe(dataDir.toAbsolutePath().normalize(), "datadir");
    this.runDir = safe(runDir.toAbsolutePath().normalize(), "run dir");
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port " + port + " is not a TCP port");
    }
    if (serverId < 1 || serverId > 4_294_967_295L) {
      throw new IllegalArgumentException("server_id " + serverId + " is outside 1..4294967295");
    }
    this.port = port;
    this.serverId = serverId;
  }

  public MariaDbConfig setBindAddress(String bindAddress) {
    this.bindAddress = bindAddress;
    return this;
  }

  public MariaDbConfig setSemiSyncTimeoutMs(long semiSyncTimeoutMs) {
    this.semiSyncTimeoutMs = semiSyncTimeoutMs;
    return this;
  }

  public MariaDbConfig setBufferPool(String bufferPool) {
    this.bufferPool = bufferPool;
    return this;
  }

  public Path dataDir() {
    return dataDir;
  }

  public int port() {
    return port;
  }

  public long serverId() {
    return serverId;
  }

  public Path socket() {
    return runDir.resolve("mariadb.sock");
  }

  public Path pidFile() {
    return runDir.resolve("mariadb.pid");
  }

  /** Run at every start, before MariaDB serves: the agent's own account (see {@link #initSql}). */
  public Path initFile() {
    return runDir.resolve("init.sql");
  }

  /** The my.cnf text. */
  public String render() {
    return String.join("\n",
        "# Written by the Fleetvote DB agent at every start; edits are lost.",
        "[mariadbd]",
        "datadir=" + dataDir,
        "socket=" + socket(),
        "pid-file=" + pidFile(),
        "port=" + port,
        "bind-address=" + bindAddress,
        "skip-name-resolve",
        "init-file=" + initFile(),
        "server_id=" + serverId,
        "log_bin=" + dataDir.resolve("mariadb-bin"),
        "relay_log=" + dataDir.resolve("relay-bin"),
        "log_slave_updates=ON",
        "binlog_format=ROW",
        "gtid_strict_mode=ON",
        "read_only=ON",
        "relay_log_recovery=ON",
        "slave_net_timeout=4",
        "rpl_semi_sync_master_enabled=ON",
        "rpl_semi_sync_slave_enabled=ON",
        "rpl_semi_sync_master_wait_point=AFTER_SYNC",
        "rpl_semi_sync_master_timeout=" + semiSyncTimeoutMs,
        "innodb_buffer_pool_size=" + bufferPool,
        "innodb_log_file_size=32M",
        "character_set_server=utf8mb4",
        "",
        "[client]",
        "socket=" + socket(),
        "port=" + port,
        "");
  }

  /**
   * The init file: the agent's account on 127.0.0.1 with {@code password}, made or given its password again at each
   * start, outside the binlog (a replica writing its own GTIDs would hold errant transactions).
   */
  public static String initSql(String user, String password) {
    if (!user.matches("[a-z_]{1,32}") || !password.matches("[A-Za-z0-9]{16,64}")) {
      throw new IllegalArgumentException("the agent's account must be a plain name and an alphanumeric password");
    }
    return String.join("\n",
        "SET sql_log_bin=0;",
        "CREATE USER IF NOT EXISTS '" + user + "'@'127.0.0.1' IDENTIFIED BY '" + password + "';",
        "ALTER USER '" + user + "'@'127.0.0.1' IDENTIFIED BY '" + password + "';",
        "GRANT ALL PRIVILEGES ON *.* TO '" + user + "'@'127.0.0.1' WITH GRANT OPTION;",
        "");
  }

  /** Writes my.cnf ({@code file}) and the init file (owner-only: it holds a password). */
  public void write(Path file, String initSql) throws IOException {
    Files.createDirectories(runDir);
    Files.writeString(file, render(), StandardCharsets.UTF_8);
    Path init = initFile();
    Files.deleteIfExists(init);
    Files.createFile(init, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
        java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
    Files.writeString(init, initSql, StandardCharsets.UTF_8);
  }

  private static Path safe(Path path, String what) {
    if (!SAFE_PATH.matcher(path.toString()).matches()) {
      throw new IllegalArgumentException("the " + what + " " + path + " has characters my.cnf cannot hold");
    }
    return path;
  }
}
