package io.fleetvote.agent.db;

import io.fleetvote.common.LogSafe;
import io.fleetvote.common.msg.DbCommand;
import io.fleetvote.common.msg.DbStatus;
import io.fleetvote.common.msg.Gtids;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.mysqlclient.MySQLException;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import java.util.stream.StreamSupport;

/**
 * Carries out the leader's {@link DbCommand}s on the agent's MariaDB, with the agent's own account (through a
 * {@link DbProbe}'s connection), and answers with the {@link DbStatus} read after. Idempotent: what is already as
 * the command says is left alone (no write, no new GTID), so a leader's retry changes nothing.
 * <ul>
 *   <li>MASTER: refused on a server that replicates from a master. Else semi-sync master on or off (first, so that
 *   the writes after it wait for the replica's acknowledgement, or do not wait for a missing one), the database, the
 *   replication account ({@code REPLICATION SLAVE}, all a replica's IO thread needs) and the app's account (DML and
 *   DDL on its database, never SUPER or READ_ONLY ADMIN: {@code read_only} fences it), each made or given its password
 *   again; these go to the binlog, so they reach the replica. {@code read_only=0} last: a command cut short leaves the
 *   server read-only, and the next one does it all again.</li>
 *   <li>REPLICA: refused on a writable server. Else, unless it already replicates from that master with that account
 *   (both threads running, or the IO thread connecting without being refused) and semi-sync as asked:
 *   {@code STOP SLAVE}, {@code CHANGE MASTER TO ... MASTER_USE_GTID=slave_pos, MASTER_DEMOTE_TO_SLAVE=1} (a server
 *   that was the master, the old one after a switchover or a clean failover, counts what it wrote itself as
 *   received: reference B2), semi-sync, {@code START SLAVE}. Semi-sync replica takes effect
 *   only when the IO thread starts, so a change of it restarts replication. Semi-sync master goes off: with
 *   {@code log_slave_updates} a replica's SQL thread would wait for an acknowledgement from replicas it does not
 *   have.</li>
 * </ul>
 * Epoch fencing: the highest epoch obeyed is kept in {@code <db dir>/epoch} (replaced atomically, before any
 * statement that changes something) and in memory; an older one is refused, the same one is a retry.
 * <p>
 * One command at a time: a command that arrives while another runs waits for it (a leader's retry of a slow command
 * then finds the work done). Every statement is bounded (the MySQL client has no timeout of its own); failures are
 * sentences without the passwords. Use from one Vert.x context.
 */
public final class DbControl {

  private static final Logger LOG = LoggerFactory.getLogger(DbControl.class);
  private static final String EPOCH_FILE = "epoch";
  /** A statement's bound beyond the semi-sync timeout, which a master's first write may wait for in full. */
  private static final long STATEMENT_MARGIN_MS = 5_000;
  /** What a SQL literal may hold without quoting: names, passwords, hosts (as {@link DbCommand} validates them). */
  private static final Pattern LITERAL = Pattern.compile("[A-Za-z0-9_.:-]{1,253}");
  private static final int ACCESS_DENIED = 1045;
  /** MariaDB's "unknown thread id": a connection that ended before its KILL. */
  private static final int UNKNOWN_THREAD = 1094;

  /** A refusal: the server is not what the command may act on, or the command's epoch is old. */
  public static final int REFUSED = 409;
  /** MariaDB is not up, or does not answer. */
  public static final int UNAVAILABLE = 503;
  /** A statement failed. */
  public static final int FAILED = 500;

  private final Vertx vertx;
  private final String instanceId;
  private final Path epochFile;
  private final DbProbe probe;
  private final Clock clock;
  private final long statementTimeoutMs;
  /** The highest epoch obeyed; null until read from its file. */
  private Long obeyed;
  private Future<?> queue = Future.succeededFuture();

  /** @param probe on {@code vertx}: its connection carries the statements, then reads the status */
  public DbControl(Vertx vertx, String instanceId, DbOptions options, DbProbe probe, Clock clock) {
    this.vertx = vertx;
    this.instanceId = instanceId;
    this.epochFile = options.dir().resolve(EPOCH_FILE);
    this.probe = probe;
    this.clock = clock;
    this.statementTimeoutMs = options.getSemiSyncTimeoutMs() + STATEMENT_MARGIN_MS;
  }

  /**
   * Carries out {@code command} once those before it are done (a FENCE at once: it must not wait behind a command
   * that waits for the old master): its status after, or a {@link ReplyException} whose
   * code is {@link #REFUSED}, {@link #UNAVAILABLE} or {@link #FAILED}, ready to fail the request with.
   */
  public Future<DbStatus> carryOut(DbCommand command) {
    if (command.op() == DbCommand.Op.FENCE) {
      return obey(command);
    }
    Future<DbStatus> done = queue.transform(previous -> obey(command));
    queue = done.otherwiseEmpty();
    return done;
  }

  public Future<Void> close() {
    return probe.close();
  }

  private Future<DbStatus> obey(DbCommand command) {
    LOG.info("{}: {}", instanceId, command);
    return highestEpoch()
        .compose(highest -> command.epoch() < highest
            ? Future.failedFuture(failure(REFUSED, "epoch " + command.epoch() + " is older than " + highest
            + ", already obeyed"))
            : probe.pool().withConnection(connection -> switch (command.op()) {
              case MASTER -> master(connection, command);
              case REPLICA -> replica(connection, command);
              case PROMOTE -> promote(connection, command);
              case FENCE -> fence(connection, command);
            }))
        .compose(changed -> probe.status(clock.millis()).map(status -> {
          LOG.info("{}: {} {}", instanceId, command, changed ? "carried out" : "already so: nothing changed");
          return status;
        }))
        .recover(e -> {
          ReplyException failure = failure(command, e);
          LOG.warn("{}: {} not carried out: {}", instanceId, command, failure.getMessage());
          return Future.failedFuture(failure);
        });
  }

  /** Whether it changed something. */
  private Future<Boolean> master(SqlConnection connection, DbCommand command) {
    return query(connection, "SHOW ALL SLAVES STATUS").compose(slaves -> {
      Optional<String> master = replicatesFrom(slaves);
      if (master.isPresent()) {
        return refused("is a replica of " + master.get() + ": making it master is a promotion, not this command");
      }
      return query(connection, "SELECT @@read_only AS ro, @@rpl_semi_sync_master_enabled AS semi, "
          + "(SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = " + literal(command.database())
          + ") AS db, (SELECT COUNT(*) FROM mysql.user WHERE Host = '%' AND (" + hasPassword(command.replicationUser(),
          command.replicationPassword()) + " OR " + hasPassword(command.appUser(), command.appPassword())
          + ")) AS accounts");
    }).compose(rows -> {
      Row now = rows.iterator().next();
      boolean already = !now.getBoolean("ro") && now.getBoolean("semi") == command.semiSync()
          && now.getLong("db") == 1 && now.getLong("accounts") == 2;
      return keepEpoch(command.epoch()).compose(x -> already ? Future.succeededFuture(false)
          : execute(connection, masterStatements(command)).map(true));
    });
  }

  private static List<String> masterStatements(DbCommand command) {
    String database = "`" + checked(command.database()) + "`";
    List<String> statements = new ArrayList<>();
    statements.add("SET GLOBAL rpl_semi_sync_master_enabled=" + onOff(command.semiSync()));
    statements.add("CREATE DATABASE IF NOT EXISTS " + database);
    statements.addAll(accountWithPassword(command.replicationUser(), command.replicationPassword()));
    statements.add("GRANT REPLICATION SLAVE ON *.* TO " + account(command.replicationUser()));
    statements.addAll(accountWithPassword(command.appUser(), command.appPassword()));
    statements.add("GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, DROP ON " + database + ".* TO "
        + account(command.appUser()));
    statements.add("SET GLOBAL read_only=0");
    return statements;
  }

  private Future<Boolean> replica(SqlConnection connection, DbCommand command) {
    Future<RowSet<Row>> globals = query(connection, "SELECT @@read_only AS ro, @@rpl_semi_sync_slave_enabled AS "
        + "semi, @@rpl_semi_sync_master_enabled AS master_semi");
    Future<RowSet<Row>> slaves = globals.compose(x -> query(connection, "SHOW ALL SLAVES STATUS"));
    Future<RowSet<Row>> semiSync = slaves.compose(x -> query(connection,
        "SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_slave_status'"));
    return semiSync.compose(x -> {
      Row now = globals.result().iterator().next();
      if (!now.getBoolean("ro")) {
        return refused("is writable: a master is never demoted by this command");
      }
      boolean semiSyncOn = "ON".equalsIgnoreCase(semiSync.result().iterator().next().getString(1));
      boolean already = replicating(command, slaves.result(), now.getBoolean("semi"), semiSyncOn)
          && !now.getBoolean("master_semi");
      Future<Void> checked = already || command.gtid().isEmpty() || replicatesFrom(slaves.result()).isPresent()
          ? Future.succeededFuture() : notPast(connection, command.gtid());
      return checked.compose(z -> keepEpoch(command.epoch())).compose(y -> already ? Future.succeededFuture(false)
          : execute(connection, List.of("STOP SLAVE",
              "CHANGE MASTER TO MASTER_HOST=" + literal(command.masterHost()) + ", MASTER_PORT=" + command.masterPort()
                  + ", MASTER_USER=" + literal(command.replicationUser()) + ", MASTER_PASSWORD="
                  + literal(command.replicationPassword())
                  + ", MASTER_USE_GTID=slave_pos, MASTER_DEMOTE_TO_SLAVE=1, MASTER_CONNECT_RETRY=1, "
                  + "MASTER_HEARTBEAT_PERIOD=2",
              "SET GLOBAL rpl_semi_sync_master_enabled=OFF",
              "SET GLOBAL rpl_semi_sync_slave_enabled=" + onOff(command.semiSync()),
              "START SLAVE")).map(true));
    });
  }

  /**
   * The errant check of a server about to replicate from nothing (reference B2): its binlog holds no transaction past
   * {@code gtid}, the position the new master was promoted at; else refused, naming how many it holds past it. The
   * leader checks the same on the server's report before it sends the command; this closes the moment between.
   */
  private Future<Void> notPast(SqlConnection connection, String gtid) {
    return query(connection, "SELECT @@gtid_binlog_pos AS pos").compose(rows -> {
      String binlog = rows.iterator().next().getString("pos");
      long past = Gtids.past(binlog, gtid);
      return past == 0 ? Future.succeededFuture() : refused("holds " + past + " transaction(s) in its binlog ("
          + binlog + ") past " + gtid + ", the position the new master was promoted at: errant, it does not "
          + "replicate");
    });
  }

  /**
   * The replica made master (B1.3-4), whether it changed something: what it received applied within the command's
   * {@code applyWaitSeconds} (else replicating again as before, and a failure), replication reset, semi-sync master
   * as the command says and replica off, {@code read_only} off, the fence's row in {@code fleetvote.epochs}.
   */
  private Future<Boolean> promote(SqlConnection connection, DbCommand command) {
    Future<RowSet<Row>> globals = query(connection, "SELECT @@read_only AS ro");
    Future<RowSet<Row>> slaves = globals.compose(x -> query(connection, "SHOW ALL SLAVES STATUS"));
    return slaves.compose(x -> {
      boolean readOnly = globals.result().iterator().next().getBoolean("ro");
      Optional<String> master = replicatesFrom(slaves.result());
      if (master.isEmpty()) {
        return !readOnly ? keepEpoch(command.epoch()).map(false)
            : refused("replicates from nothing and is read-only: there is nothing to promote");
      }
      return keepEpoch(command.epoch())
          .compose(y -> command.gtid().isEmpty() ? Future.succeededFuture()
              : applied(connection, command.gtid(), command.applyWaitSeconds()))
          .compose(y -> execute(connection, List.of("STOP SLAVE IO_THREAD")))
          .compose(y -> query(connection, "SHOW SLAVE STATUS"))
          .compose(status -> {
            String received = status.iterator().next().getString("Gtid_IO_Pos");
            return gtidWait(connection, received, command.applyWaitSeconds()).compose(waited -> waited.iterator()
                .next().getInteger("applied") == 0
                ? Future.succeededFuture()
                : execute(connection, List.of("START SLAVE IO_THREAD")).compose(z -> Future.failedFuture(failure(
                    FAILED, "the replica did not apply what it had received (" + received + ") within "
                    + command.applyWaitSeconds() + " s: not promoted, replicating again"))));
          })
          .compose(y -> execute(connection, List.of("STOP SLAVE", "RESET SLAVE ALL",
              "SET GLOBAL rpl_semi_sync_slave_enabled=OFF",
              "SET GLOBAL rpl_semi_sync_master_enabled=" + onOff(command.semiSync()),
              "SET GLOBAL read_only=0",
              "CREATE DATABASE IF NOT EXISTS fleetvote",
              "CREATE TABLE IF NOT EXISTS fleetvote.epochs (fence BIGINT PRIMARY KEY, server_id INT UNSIGNED NOT NULL, "
                  + "promoted_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6))",
              "INSERT IGNORE INTO fleetvote.epochs (fence, server_id) VALUES (" + command.epoch() + ", @@server_id)")))
          .map(true);
    });
  }

  /**
   * {@code gtid} applied within {@code waitSeconds}, before anything changes: a switchover's fenced position,
   * which the replica receives from the old master (fenced, still its master) and applies. Not within it, a failure
   * naming what it had received and applied; the replica replicates on as before.
   */
  private Future<Void> applied(SqlConnection connection, String gtid, int waitSeconds) {
    return gtidWait(connection, gtid, waitSeconds)
        .compose(waited -> waited.iterator().next().getInteger("applied") == 0 ? Future.succeededFuture()
            : query(connection, "SHOW SLAVE STATUS").compose(status -> query(connection,
                "SELECT @@gtid_slave_pos AS pos").compose(slavePos -> {
                  String received = status.iterator().hasNext() ? status.iterator().next().getString("Gtid_IO_Pos")
                      : "nothing";
                  return Future.failedFuture(failure(FAILED, "had not applied " + gtid + " within " + waitSeconds
                      + " s (received " + received + ", applied " + slavePos.iterator().next().getString("pos")
                      + "): not promoted, replicating on"));
                })));
  }

  /**
   * The server fenced from the application's writes, whether it changed something: {@code read_only} on, then each
   * connection of the application's account killed (one already gone is no error).
   */
  private Future<Boolean> fence(SqlConnection connection, DbCommand command) {
    Future<RowSet<Row>> globals = query(connection, "SELECT @@read_only AS ro");
    Future<RowSet<Row>> clients = globals.compose(x -> query(connection, "SELECT ID AS id FROM "
        + "information_schema.PROCESSLIST WHERE USER = " + literal(command.appUser())));
    return clients.compose(x -> keepEpoch(command.epoch())).compose(x -> {
      boolean readOnly = globals.result().iterator().next().getBoolean("ro");
      List<Long> ids = StreamSupport.stream(clients.result().spliterator(), false).map(r -> r.getLong("id")).toList();
      if (readOnly && ids.isEmpty()) {
        return Future.succeededFuture(false);
      }
      Future<?> done = readOnly ? Future.succeededFuture() : execute(connection, List.of("SET GLOBAL read_only=1"));
      for (long id : ids) {
        done = done.compose(y -> query(connection, "KILL CONNECTION " + id).recover(e -> e instanceof MySQLException
            mysql && mysql.getErrorCode() == UNKNOWN_THREAD ? Future.succeededFuture() : Future.failedFuture(e)));
      }
      return done.map(true);
    });
  }

  /** A GTID list as an SQL literal: digits, dashes and commas only (as MariaDB reports them). */
  private static String gtidLiteral(String gtids) {
    if (gtids == null || !DbStatus.GTID_LIST.matcher(gtids).matches()) {
      throw new IllegalStateException("the replica reported a GTID position that is not one: " + gtids);
    }
    return "'" + gtids + "'";
  }

  /**
   * Whether the default connection already replicates as {@code command} says, semi-sync included: the running IO
   * thread's ({@code semiSyncStatus}), else the variable it starts with. An IO thread refused by the master (a
   * password changed since) is not replicating.
   */
  private static boolean replicating(DbCommand command, RowSet<Row> slaves, boolean semiSyncVariable,
                                     boolean semiSyncStatus) {
    Optional<Row> found = StreamSupport.stream(slaves.spliterator(), false)
        .filter(row -> row.getString("Connection_name").isEmpty()).findFirst();
    if (found.isEmpty()) {
      return false;
    }
    Row row = found.get();
    DbStatus.Thread io = DbStatus.Thread.of(row.getString("Slave_IO_Running"));
    boolean running = DbStatus.Thread.of(row.getString("Slave_SQL_Running")) == DbStatus.Thread.YES
        && (io == DbStatus.Thread.YES
        || io == DbStatus.Thread.CONNECTING && row.getLong("Last_IO_Errno") != ACCESS_DENIED);
    boolean semiSync = io == DbStatus.Thread.YES ? semiSyncStatus : semiSyncVariable;
    return running && semiSync == command.semiSync() && command.masterHost().equals(row.getString("Master_Host"))
        && row.getLong("Master_Port") == command.masterPort()
        && command.replicationUser().equals(row.getString("Master_User"))
        && "Slave_Pos".equalsIgnoreCase(row.getString("Using_Gtid"));
  }

  /** The master of any replication configured or running, as {@code host:port}. */
  private static Optional<String> replicatesFrom(RowSet<Row> slaves) {
    for (Row row : slaves) {
      String host = row.getString("Master_Host");
      if (running(row.getString("Slave_IO_Running")) || running(row.getString("Slave_SQL_Running"))
          || host != null && !host.isEmpty()) {
        return Optional.of(host + ":" + row.getLong("Master_Port"));
      }
    }
    return Optional.empty();
  }

  private static boolean running(String thread) {
    DbStatus.Thread state = DbStatus.Thread.of(thread);
    return state == DbStatus.Thread.YES || state == DbStatus.Thread.CONNECTING;
  }

  private Future<RowSet<Row>> query(SqlConnection connection, String statement) {
    return connection.query(statement).execute().timeout(statementTimeoutMs, TimeUnit.MILLISECONDS);
  }

  /** {@code MASTER_GTID_WAIT(gtid, seconds) AS applied}: bounded by its own wait, then the statements' margin. */
  private Future<RowSet<Row>> gtidWait(SqlConnection connection, String gtid, int seconds) {
    return connection.query("SELECT MASTER_GTID_WAIT(" + gtidLiteral(gtid) + ", " + seconds + ") AS applied").execute()
        .timeout(TimeUnit.SECONDS.toMillis(seconds) + statementTimeoutMs, TimeUnit.MILLISECONDS);
  }

  private Future<Void> execute(SqlConnection connection, List<String> statements) {
    Future<?> done = Future.succeededFuture();
    for (String statement : statements) {
      done = done.compose(x -> query(connection, statement).recover(e -> Future.failedFuture(
          new StatementException(statement, e))));
    }
    return done.mapEmpty();
  }

  private Future<Long> highestEpoch() {
    if (obeyed != null) {
      return Future.succeededFuture(obeyed);
    }
    return vertx.executeBlocking(() -> Files.exists(epochFile)
        ? Long.parseLong(Files.readString(epochFile, StandardCharsets.US_ASCII).trim()) : 0L, false)
        .recover(e -> Future.failedFuture(failure(FAILED, "cannot read the epoch obeyed from "
            + epochFile + ": " + e)))
        .onSuccess(epoch -> obeyed = epoch);
  }

  /** Keeps {@code epoch} as the highest obeyed, in the file first (through a rename), then in memory. */
  private Future<Void> keepEpoch(long epoch) {
    if (obeyed != null && obeyed == epoch) {
      return Future.succeededFuture();
    }
    return vertx.<Void>executeBlocking(() -> {
      Path partial = epochFile.resolveSibling(EPOCH_FILE + ".new");
      Files.writeString(partial, Long.toString(epoch), StandardCharsets.US_ASCII);
      Files.move(partial, epochFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      return null;
    }, false).recover(e -> Future.failedFuture(failure(FAILED, "cannot keep epoch " + epoch + " in "
        + epochFile + ": " + e))).onSuccess(x -> obeyed = epoch);
  }

  private static <T> Future<T> refused(String why) {
    return Future.failedFuture(failure(REFUSED, "the server " + why));
  }

  /** What went wrong, as a sentence without the command's passwords. */
  private ReplyException failure(DbCommand command, Throwable e) {
    if (e instanceof ReplyException failure) {
      return failure;
    }
    String statement = e instanceof StatementException failed ? failed.statement : null;
    Throwable cause = statement == null ? e : e.getCause();
    String at = statement == null ? "" : " at " + redact(statement, command);
    if (cause instanceof MySQLException mysql && mysql.getErrorCode() != ACCESS_DENIED) {
      // MariaDB may quote the statement back, cut anywhere: not from one that held a password.
      boolean quotable = statement == null || !at.contains("***");
      return failure(FAILED, safe(command.op() + " failed" + at + ": MariaDB error "
          + mysql.getErrorCode() + (quotable ? " (" + mysql.getMessage() + ")" : ""), command));
    }
    String why = cause instanceof TimeoutException ? "no answer within " + statementTimeoutMs + " ms"
        : String.valueOf(cause.getMessage());
    return failure(UNAVAILABLE, safe(command.op() + ": MariaDB does not answer" + at + ": " + why,
        command));
  }

  private static ReplyException failure(int code, String sentence) {
    return new ReplyException(ReplyFailure.RECIPIENT_FAILURE, code, sentence);
  }

  private static String safe(String sentence, DbCommand command) {
    return LogSafe.printable(redact(sentence, command), 400);
  }

  private static String redact(String text, DbCommand command) {
    return text.replace(command.replicationPassword(), "***").replace(command.appPassword(), "***");
  }

  /** {@code CREATE USER IF NOT EXISTS}, then {@code ALTER USER}: a changed password takes. */
  private static List<String> accountWithPassword(String user, String password) {
    return List.of("CREATE USER IF NOT EXISTS " + account(user) + " IDENTIFIED BY " + literal(password),
        "ALTER USER " + account(user) + " IDENTIFIED BY " + literal(password));
  }

  private static String account(String user) {
    return literal(user) + "@'%'";
  }

  private static String hasPassword(String user, String password) {
    return "User = " + literal(user) + " AND authentication_string = PASSWORD(" + literal(password) + ")";
  }

  /** {@code 'value'}: only for text that needs no quoting ({@link #LITERAL}), as {@link DbCommand#fromJson} checks. */
  private static String literal(String value) {
    return "'" + checked(value) + "'";
  }

  private static String checked(String value) {
    if (!LITERAL.matcher(value).matches()) {
      throw new IllegalArgumentException("a value that SQL would need quoted: the command was not validated");
    }
    return value;
  }

  private static String onOff(boolean on) {
    return on ? "ON" : "OFF";
  }

  /** A statement that failed: named in the failure, its passwords redacted. */
  private static final class StatementException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final String statement;

    StatementException(String statement, Throwable cause) {
      super(cause.getMessage(), cause, false, false);
      this.statement = statement;
    }
  }
}
