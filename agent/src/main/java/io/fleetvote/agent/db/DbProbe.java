package io.fleetvote.agent.db;

import io.fleetvote.common.LogSafe;
import io.fleetvote.common.msg.DbStatus;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClientOptions;
import io.vertx.mysqlclient.MySQLAuthenticationPlugin;
import io.vertx.mysqlclient.MySQLBuilder;
import io.vertx.mysqlclient.MySQLConnectOptions;
import io.vertx.mysqlclient.MySQLException;
import io.vertx.mysqlclient.SslMode;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;

import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * What the DB agent reads of its MariaDB, over TCP on 127.0.0.1 with its own account: {@code @@server_id},
 * {@code read_only}, the GTID positions, {@code SHOW ALL SLAVES STATUS} and the semi-sync status, as one
 * {@link DbStatus}. Every call is bounded ({@link #TIMEOUT_MS}): the MySQL client has no timeout of its own, and a
 * stalled server still accepts connections. A server that refuses the account, or does not answer, is a status.
 */
public final class DbProbe {

  /** A probe's bound: a status a second must not wait on a stalled server. */
  static final long TIMEOUT_MS = 800;
  /** MariaDB's "access denied". */
  private static final int ACCESS_DENIED = 1045;

  private final Pool pool;
  private final String instanceId;
  private final String deployment;
  private final int port;

  public DbProbe(Vertx vertx, String instanceId, String deployment, int port, String user, String password) {
    this.instanceId = instanceId;
    this.deployment = deployment;
    this.port = port;
    this.pool = MySQLBuilder.pool()
        .with(new PoolOptions().setMaxSize(1).setConnectionTimeout((int) TIMEOUT_MS)
            .setConnectionTimeoutUnit(TimeUnit.MILLISECONDS))
        .with(new NetClientOptions().setConnectTimeout((int) TIMEOUT_MS))
        .connectingTo(new MySQLConnectOptions().setHost("127.0.0.1").setPort(port).setUser(user).setPassword(password)
            .setSslMode(SslMode.DISABLED).setAuthenticationPlugin(MySQLAuthenticationPlugin.MYSQL_NATIVE_PASSWORD))
        .using(vertx)
        .build();
  }

  /** Its {@code @@server_id}, or a failure when it does not answer: the supervisor's readiness check. */
  public Future<Long> serverId() {
    return pool.query("SELECT @@server_id AS id").execute().timeout(TIMEOUT_MS, TimeUnit.MILLISECONDS)
        .map(rows -> rows.iterator().next().getLong("id"));
  }

  /** The status now; never fails: MariaDB not answering or refusing is a status. */
  public Future<DbStatus> status(long now) {
    Future<RowSet<Row>> globals = pool.query("SELECT @@server_id AS id, @@read_only AS ro, @@gtid_binlog_pos AS b, "
        + "@@gtid_slave_pos AS s").execute();
    Future<RowSet<Row>> replication = globals.compose(x -> pool.query("SHOW ALL SLAVES STATUS").execute());
    Future<RowSet<Row>> semiSync = replication.compose(x -> pool.query("SHOW GLOBAL STATUS WHERE Variable_name IN "
        + "('Rpl_semi_sync_master_status', 'Rpl_semi_sync_slave_status', 'Rpl_semi_sync_master_clients')").execute());
    return semiSync.timeout(TIMEOUT_MS, TimeUnit.MILLISECONDS)
        .map(x -> status(now, globals.result().iterator().next(), first(replication.result()), values(x)))
        .recover(e -> Future.succeededFuture(unavailable(now, e)));
  }

  public Future<Void> close() {
    return pool.close();
  }

  /** Its one connection, for {@link DbControl}'s statements (which then read the status through the same). */
  Pool pool() {
    return pool;
  }

  private DbStatus status(long now, Row globals, Row replica, Map<String, String> semiSync) {
    String io = replica == null ? null : replica.getString("Slave_IO_Running");
    String sql = replica == null ? null : replica.getString("Slave_SQL_Running");
    Long lag = replica == null ? null : replica.getLong("Seconds_Behind_Master");
    Long heartbeats = replica == null ? null : replica.getLong("Slave_received_heartbeats");
    String error = replica == null ? "" : replica.getString("Last_SQL_Error");
    return new DbStatus(instanceId, deployment, now, DbStatus.Server.UP, "", port, globals.getLong("id"),
        globals.getBoolean("ro"), DbStatus.Thread.of(io), DbStatus.Thread.of(sql),
        replica == null ? "" : nonNull(replica.getString("Gtid_IO_Pos")), nonNull(globals.getString("s")),
        nonNull(globals.getString("b")), lag == null ? -1 : lag, heartbeats == null ? 0 : heartbeats,
        "ON".equalsIgnoreCase(semiSync.get("rpl_semi_sync_master_status")),
        "ON".equalsIgnoreCase(semiSync.get("rpl_semi_sync_slave_status")),
        parse(semiSync.get("rpl_semi_sync_master_clients")),
        LogSafe.printable(nonNull(error), DbStatus.MAX_TEXT_LENGTH));
  }

  private DbStatus unavailable(long now, Throwable e) {
    boolean refused = e instanceof MySQLException mysql && mysql.getErrorCode() == ACCESS_DENIED;
    return DbStatus.unavailable(instanceId, deployment, now, refused ? DbStatus.Server.REFUSING : DbStatus.Server.DOWN,
        LogSafe.printable(e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage(),
            DbStatus.MAX_TEXT_LENGTH), port);
  }

  private static Row first(RowSet<Row> rows) {
    Iterator<Row> it = rows.iterator();
    return it.hasNext() ? it.next() : null;
  }

  private static Map<String, String> values(RowSet<Row> rows) {
    Map<String, String> values = new HashMap<>();
    for (Row row : rows) {
      values.put(row.getString(0).toLowerCase(java.util.Locale.ROOT), row.getString(1));
    }
    return values;
  }

  private static int parse(String number) {
    try {
      return number == null ? 0 : Integer.parseInt(number.trim());
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  private static String nonNull(String text) {
    return text == null ? "" : text;
  }
}
