package io.fleetvote.common.msg;

import io.vertx.core.json.JsonObject;

import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The leader coordinator telling a DB agent what its MariaDB is in the pair (request/reply on
 * {@link io.fleetvote.common.Addresses#dbControl}, over the agent's attested connection alone: the body carries the
 * pair's passwords). The agent carries it out idempotently (a second identical command changes nothing) and answers
 * with its {@link DbStatus} after it, or fails the request with a sentence naming what was in the way. A command of
 * a fence older than one the agent has already obeyed is refused: a deposed leader cannot undo its successor.
 *
 * <ul>
 *   <li>{@link Op#MASTER}: the database and both accounts exist (replicated to the replica through the binlog),
 *   semi-sync master on or off, {@code read_only} cleared. Refused on a server replicating from a master: making a
 *   replica master is a promotion, not this command.</li>
 *   <li>{@link Op#REPLICA}: {@code read_only} on, replication from {@code masterHost:masterPort} with the replication
 *   account, {@code MASTER_USE_GTID=slave_pos}, semi-sync replica on or off. Refused on a server whose
 *   {@code read_only} is off (a writable master is never demoted by it), and, when {@code gtid} names a position (an
 *   old master's rejoin: the position its replica was promoted at), on a server that replicates from nothing and
 *   whose binlog holds a transaction past it: an errant one, which the new master never had.</li>
 *   <li>{@link Op#PROMOTE}: the replica becomes the master (reference B1.3-4): first, when {@code gtid} names a
 *   position (a switchover's: the old master's binlog position once fenced), that position applied within a bound
 *   ({@code MASTER_GTID_WAIT}; not within it, the command fails and nothing changed: the switchover aborts); then its
 *   IO thread stopped, what it received applied (a bounded {@code MASTER_GTID_WAIT}; longer and it fails, replicating
 *   again as before), replication stopped and reset, semi-sync master on or off and replica off, {@code read_only}
 *   cleared, and a row of the command's fence in {@code fleetvote.epochs}, so the new master's GTIDs move past the
 *   old one's. The leader sends it
 *   only once the old master is fenced. Refused on a server that replicates from nothing and is read-only; a server
 *   already promoted (writable, replicating from nothing) changes nothing.</li>
 *   <li>{@link Op#FENCE}: the server stops taking the application's writes: {@code read_only} on, then every
 *   connection of the application's account killed (a transaction under way is rolled back, not committed later).
 *   Always allowed: fencing is never unsafe; a fenced server changes nothing.</li>
 * </ul>
 *
 * @param op                  what the server is to be
 * @param epoch               the fencing token of the leader that decided it: the pair's fence, raised by each new
 *                            leader before its first command and kept across restarts of the whole cluster
 * @param database            the application's database
 * @param replicationUser     the replication account
 * @param replicationPassword its password
 * @param appUser             the application's account (no SUPER, no READ_ONLY ADMIN: {@code read_only} fences it)
 * @param appPassword         its password
 * @param masterHost          for {@link Op#REPLICA}: the master's address (empty otherwise)
 * @param masterPort          for {@link Op#REPLICA}: its MariaDB port (0 otherwise)
 * @param semiSync            semi-synchronous replication (AFTER_SYNC) on
 * @param gtid                for {@link Op#PROMOTE}: the GTID position it must have applied before it takes writes
 *                            (empty: none, a failover's promotion of what the replica received); for
 *                            {@link Op#REPLICA}: the position its binlog must not be past when it starts replicating
 *                            (empty: not checked); empty otherwise
 * @param applyWaitSeconds    for {@link Op#PROMOTE}: each bounded {@code MASTER_GTID_WAIT}'s bound, in seconds
 *                            (1 to {@value #MAX_APPLY_WAIT_S}; {@value #DEFAULT_APPLY_WAIT_S} when a command has none)
 */
public record DbCommand(Op op, long epoch, String database, String replicationUser, String replicationPassword,
                        String appUser, String appPassword, String masterHost, int masterPort, boolean semiSync,
                        String gtid, int applyWaitSeconds) {

  /** How long a promotion waits for the replica to apply a position, by default, in seconds. */
  public static final int DEFAULT_APPLY_WAIT_S = 5;
  public static final int MAX_APPLY_WAIT_S = 300;

  /** A database or account name: letters, digits and underscores, so that it needs no quoting in SQL. */
  public static final Pattern NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_]{0,31}");
  /** A password: letters and digits, 16 to 64 of them (what the coordinator generates; no quoting in SQL). */
  public static final Pattern PASSWORD = Pattern.compile("[A-Za-z0-9]{16,64}");
  private static final Pattern HOST = Pattern.compile("[A-Za-z0-9.:-]{1,253}");

  /** What the server is to be. */
  public enum Op {
    MASTER, REPLICA, PROMOTE, FENCE
  }

  public DbCommand {
    if (op != Op.REPLICA && (!masterHost.isEmpty() || masterPort != 0)) {
      throw new MessageException("masterHost", "is for a replica only");
    }
    if (op != Op.PROMOTE && op != Op.REPLICA && !gtid.isEmpty()) {
      throw new MessageException("gtid", "is for a promotion or a replica only");
    }
    if (!DbStatus.GTID_LIST.matcher(gtid).matches()) {
      throw new MessageException("gtid", "must be a GTID position (domain-server-sequence, a comma between domains)");
    }
    if (applyWaitSeconds < 1 || applyWaitSeconds > MAX_APPLY_WAIT_S) {
      throw new MessageException("applyWaitSeconds", "must be 1 to " + MAX_APPLY_WAIT_S);
    }
  }

  /** A command with the default apply bound. */
  public DbCommand(Op op, long epoch, String database, String replicationUser, String replicationPassword,
                   String appUser, String appPassword, String masterHost, int masterPort, boolean semiSync,
                   String gtid) {
    this(op, epoch, database, replicationUser, replicationPassword, appUser, appPassword, masterHost, masterPort,
        semiSync, gtid, DEFAULT_APPLY_WAIT_S);
  }

  /** A command without a position to wait for. */
  public DbCommand(Op op, long epoch, String database, String replicationUser, String replicationPassword,
                   String appUser, String appPassword, String masterHost, int masterPort, boolean semiSync) {
    this(op, epoch, database, replicationUser, replicationPassword, appUser, appPassword, masterHost, masterPort,
        semiSync, "");
  }

  public JsonObject toJson() {
    return new JsonObject().put("op", op.name().toLowerCase(Locale.ROOT)).put("epoch", epoch).put("database", database)
        .put("replicationUser", replicationUser).put("replicationPassword", replicationPassword)
        .put("appUser", appUser).put("appPassword", appPassword).put("masterHost", masterHost)
        .put("masterPort", masterPort).put("semiSync", semiSync).put("gtid", gtid)
        .put("applyWaitSeconds", applyWaitSeconds);
  }

  /** Reads and validates a command; throws {@link MessageException} naming the first bad field (never its value). */
  public static DbCommand fromJson(Object body) {
    JsonObject json = JsonFields.object(body, "db command");
    Op op = JsonFields.enumValue(json, "op", Op.class);
    boolean replica = op == Op.REPLICA;
    return new DbCommand(op, JsonFields.longValue(json, "epoch", 0, Long.MAX_VALUE),
        JsonFields.string(json, "database", 32, NAME),
        JsonFields.string(json, "replicationUser", 32, NAME), secret(json, "replicationPassword"),
        JsonFields.string(json, "appUser", 32, NAME), secret(json, "appPassword"),
        replica ? JsonFields.string(json, "masterHost", 253, HOST) : "",
        replica ? JsonFields.intValue(json, "masterPort", 1, 65_535) : 0,
        JsonFields.booleanValue(json, "semiSync", true),
        op == Op.PROMOTE || replica ? Objects.requireNonNullElse(JsonFields.optionalString(json, "gtid",
            DbStatus.MAX_GTID_LENGTH, DbStatus.GTID_LIST), "") : "",
        JsonFields.intValue(json, "applyWaitSeconds", 1, MAX_APPLY_WAIT_S, DEFAULT_APPLY_WAIT_S));
  }

  /** A password field as {@link #PASSWORD} allows; a bad one is named, its value never shown. */
  public static String secret(JsonObject json, String field) {
    if (!(json.getValue(field) instanceof String text) || !PASSWORD.matcher(text).matches()) {
      throw new MessageException(field, "must be 16 to 64 letters and digits");
    }
    return text;
  }

  /** Without the passwords: safe to log. */
  @Override
  public String toString() {
    return "DbCommand[" + op + ", epoch " + epoch + ", database " + database + ", users " + replicationUser + "/"
        + appUser + (op == Op.REPLICA ? ", master " + masterHost + ":" + masterPort : "") + ", semi-sync "
        + semiSync + (gtid.isEmpty() ? "" : op == Op.REPLICA ? ", its binlog not past " + gtid
        : ", once " + gtid + " is applied") + (op == Op.PROMOTE ? ", applying within " + applyWaitSeconds + " s"
        : "") + "]";
  }
}
