package io.fleetvote.common.msg;

import io.fleetvote.common.Ids;
import io.vertx.core.json.JsonObject;

import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A DB agent's report on its MariaDB, every second: whether it answers, what it is (a master, a replica, or not
 * replicating), and where its replication stands. MariaDB down, refusing or without its data volume is a report
 * ({@link Server}), never a missing one. Published on {@link io.fleetvote.common.Addresses#DB_STATUS}.
 *
 * @param instanceId     the instance the agent runs on
 * @param deployment     its deployment
 * @param sentAt         when the report was made, epoch milliseconds
 * @param server         whether MariaDB answers
 * @param problem        why it does not, in a few words (empty when it does)
 * @param port           the port MariaDB listens on
 * @param serverId       its {@code @@server_id} (0 when it does not answer)
 * @param readOnly       its {@code @@read_only}
 * @param ioThread       {@code Slave_IO_Running}; {@link Thread#NONE} when it replicates from nothing
 * @param sqlThread      {@code Slave_SQL_Running}; {@link Thread#NONE} likewise
 * @param gtidIoPos      {@code Gtid_IO_Pos}: what the replica received
 * @param gtidSlavePos   {@code @@gtid_slave_pos}: what the replica applied
 * @param gtidBinlogPos  {@code @@gtid_binlog_pos}: what this server wrote to its binlog
 * @param lagSeconds     {@code Seconds_Behind_Master}; -1 when unknown (not replicating, or the SQL thread stopped)
 * @param heartbeats     {@code Slave_received_heartbeats}
 * @param semiSyncMaster {@code Rpl_semi_sync_master_status}: commits wait for a replica's acknowledgement
 * @param semiSyncSlave  {@code Rpl_semi_sync_slave_status}
 * @param semiSyncClients {@code Rpl_semi_sync_master_clients}: replicas acknowledging
 * @param lastSqlError   {@code Last_SQL_Error} (empty when none)
 */
public record DbStatus(String instanceId, String deployment, long sentAt, Server server, String problem, int port,
                       long serverId, boolean readOnly, Thread ioThread, Thread sqlThread, String gtidIoPos,
                       String gtidSlavePos, String gtidBinlogPos, long lagSeconds, long heartbeats,
                       boolean semiSyncMaster, boolean semiSyncSlave, int semiSyncClients, String lastSqlError) {

  /** Whether MariaDB answers, and if not, what is in the way. */
  public enum Server {
    /** It answers. */
    UP,
    /** It is starting (first start of an empty datadir, crash recovery). */
    STARTING,
    /** Its process is not running, or it does not answer. */
    DOWN,
    /** It answers but refuses the agent (credentials, privileges). */
    REFUSING,
    /** The instance has no data volume attached (yet): MariaDB is not started without it. */
    NO_VOLUME
  }

  /** A replication thread's state, as {@code SHOW SLAVE STATUS} says it. */
  public enum Thread {
    YES, NO, CONNECTING, NONE;

    /** {@code Yes}, {@code No}, {@code Connecting}, or absent. */
    public static Thread of(String text) {
      if (text == null || text.isEmpty()) {
        return NONE;
      }
      return switch (text.toLowerCase(Locale.ROOT)) {
        case "yes" -> YES;
        case "connecting", "preparing" -> CONNECTING;
        default -> NO;
      };
    }
  }

  /** A GTID list: {@code domain-server-seq}, comma-separated; empty when none. */
  public static final Pattern GTID_LIST = Pattern.compile("|\\d{1,10}-\\d{1,10}-\\d{1,20}(,\\d{1,10}-\\d{1,10}-\\d{1,20}){0,31}");
  public static final int MAX_TEXT_LENGTH = 200;
  public static final int MAX_GTID_LENGTH = 1500;

  public DbStatus {
    problem = problem == null ? "" : problem;
    gtidIoPos = gtidIoPos == null ? "" : gtidIoPos;
    gtidSlavePos = gtidSlavePos == null ? "" : gtidSlavePos;
    gtidBinlogPos = gtidBinlogPos == null ? "" : gtidBinlogPos;
    lastSqlError = lastSqlError == null ? "" : lastSqlError;
  }

  /** A report of a MariaDB that does not answer. */
  public static DbStatus unavailable(String instanceId, String deployment, long sentAt, Server server, String problem,
                                     int port) {
    return new DbStatus(instanceId, deployment, sentAt, server, problem, port, 0, true, Thread.NONE, Thread.NONE, "",
        "", "", -1, 0, false, false, 0, "");
  }

  /** Whether it replicates from a master (it has a replication configured, running or not). */
  public boolean replica() {
    return ioThread != Thread.NONE || sqlThread != Thread.NONE;
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("instanceId", instanceId).put("deployment", deployment).put("sentAt", sentAt)
        .put("server", server.name().toLowerCase(Locale.ROOT)).put("problem", problem).put("port", port)
        .put("serverId", serverId).put("readOnly", readOnly)
        .put("ioThread", ioThread.name().toLowerCase(Locale.ROOT))
        .put("sqlThread", sqlThread.name().toLowerCase(Locale.ROOT))
        .put("gtidIoPos", gtidIoPos).put("gtidSlavePos", gtidSlavePos).put("gtidBinlogPos", gtidBinlogPos)
        .put("lagSeconds", lagSeconds).put("heartbeats", heartbeats)
        .put("semiSyncMaster", semiSyncMaster).put("semiSyncSlave", semiSyncSlave)
        .put("semiSyncClients", semiSyncClients).put("lastSqlError", lastSqlError);
  }

  /**
   * Reads and validates a report; throws {@link MessageException} naming the first bad field, also for positions no
   * MariaDB reports: a GTID list {@link Gtids#sequences} refuses, or a replica whose IO thread runs having applied
   * ({@code gtidSlavePos}) past what it received ({@code gtidIoPos}) in a domain both list (its agent reads the
   * applied position first, so a report of a sound replica never shows it).
   */
  public static DbStatus fromJson(Object body) {
    JsonObject json = JsonFields.object(body, "db status");
    DbStatus status = new DbStatus(
        JsonFields.string(json, "instanceId", 19, Ids.INSTANCE_ID),
        JsonFields.string(json, "deployment", 63, Ids.NAME),
        JsonFields.longValue(json, "sentAt", 0, Long.MAX_VALUE),
        JsonFields.enumValue(json, "server", Server.class),
        text(json, "problem"),
        JsonFields.intValue(json, "port", 1, 65535),
        JsonFields.longValue(json, "serverId", 0, 4_294_967_295L),
        JsonFields.booleanValue(json, "readOnly", true),
        JsonFields.enumValue(json, "ioThread", Thread.class),
        JsonFields.enumValue(json, "sqlThread", Thread.class),
        gtid(json, "gtidIoPos"),
        gtid(json, "gtidSlavePos"),
        gtid(json, "gtidBinlogPos"),
        JsonFields.longValue(json, "lagSeconds", -1, Long.MAX_VALUE, -1),
        JsonFields.longValue(json, "heartbeats", 0, Long.MAX_VALUE, 0),
        JsonFields.booleanValue(json, "semiSyncMaster", false),
        JsonFields.booleanValue(json, "semiSyncSlave", false),
        JsonFields.intValue(json, "semiSyncClients", 0, 1_000_000, 0),
        text(json, "lastSqlError"));
    if (status.ioThread() == Thread.YES && Gtids.pastInShared(status.gtidSlavePos(), status.gtidIoPos()) > 0) {
      throw new MessageException("gtidSlavePos", "is past gtidIoPos (applied " + status.gtidSlavePos()
          + ", received " + status.gtidIoPos() + "): a replica cannot have applied what it has not received");
    }
    return status;
  }

  private static String text(JsonObject json, String field) {
    return Objects.requireNonNullElse(JsonFields.optionalString(json, field, MAX_TEXT_LENGTH, null), "");
  }

  private static String gtid(JsonObject json, String field) {
    String gtids = Objects.requireNonNullElse(JsonFields.optionalString(json, field, MAX_GTID_LENGTH, GTID_LIST), "");
    try {
      Gtids.sequences(gtids);
    } catch (MessageException e) {
      throw new MessageException(field, e.problem());
    }
    return gtids;
  }
}
