package io.fleetvote.coordinator.db;

import io.fleetvote.common.Ids;
import io.fleetvote.common.msg.DbCommand;
import io.fleetvote.common.msg.JsonFields;
import io.fleetvote.common.msg.MessageException;
import io.fleetvote.coordinator.scaling.GroupConfig;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The deployment's DB pair, as the groups file's {@code db} section describes it: a master and a replica, each an
 * instance of the image with its own data volume, launched or adopted by the leader coordinator.
 * <pre>
 * "db": {"imageId": "ami-...", "instanceType": "t3.small", "volumeGiB": 10, "database": "wiki",
 *        "credentials": {"source": "generate"},
 *        "failover": {"automatic": true, "confirmations": 3, "probeMillis": 500, "antiFlapSeconds": 3600,
 *                     "applyWaitSeconds": 5}}
 * </pre>
 * {@code failover}: whether the leader fails the master over by itself; how many probe rounds in a row (one every
 * {@code probeMillis}) must find it dead, its replica agreeing; and the anti-flap window, within which a second
 * automatic failover waits for an operator to acknowledge the first; and how long the replica may take to apply what it
 * received before its promotion fails (and is tried again, up to five times in all: a promotion never drops what the
 * replica holds).
 * {@code credentials.source} is {@code generate} (the coordinators make the passwords once and keep them in their
 * data directories and the cluster map, never in logs, user-data or tags). A bad field throws
 * {@link MessageException} naming it.
 */
public final class DbPairConfig {

  public static final String DEFAULT_NAME = "db";
  public static final String DEFAULT_INSTANCE_TYPE = "t3.small";
  public static final String DEFAULT_DEVICE = "/dev/sdf";
  public static final String DEFAULT_DATABASE = "wiki";
  public static final String REPLICATION_USER = "fleetvote_repl";
  public static final String APP_USER = "fleetvote_app";
  private static final Pattern INSTANCE_TYPE = Pattern.compile("[a-z][a-z0-9-]*\\.[a-z0-9]+");
  private static final Pattern DEVICE = Pattern.compile("/dev/(sd|xvd)[f-p]");
  private static final Set<String> FIELDS = Set.of("name", "imageId", "instanceType", "volumeGiB", "volumeType",
      "device", "database", "semiSync", "credentials", "agent", "failover");
  private static final Set<String> FAILOVER_FIELDS = Set.of("automatic", "confirmations", "probeMillis",
      "antiFlapSeconds", "applyWaitSeconds");

  private final String name;
  private final String imageId;
  private final String instanceType;
  private final int volumeGiB;
  private final String volumeType;
  private final String device;
  private final String database;
  private final boolean semiSync;
  private final JsonObject agent;
  private final boolean automaticFailover;
  private final int confirmations;
  private final long probeMillis;
  private final long antiFlapSeconds;
  private final int applyWaitSeconds;

  public DbPairConfig(JsonObject json) {
    for (String field : json.fieldNames()) {
      if (!FIELDS.contains(field)) {
        throw new MessageException(field, "is not a db setting (known: " + new TreeSet<>(FIELDS) + ")");
      }
    }
    name = Objects.requireNonNullElse(JsonFields.optionalString(json, "name", 40, Ids.NAME), DEFAULT_NAME);
    imageId = JsonFields.string(json, "imageId", 21, Ids.IMAGE_ID);
    instanceType = Objects.requireNonNullElse(JsonFields.optionalString(json, "instanceType", 32, INSTANCE_TYPE),
        DEFAULT_INSTANCE_TYPE);
    volumeGiB = JsonFields.intValue(json, "volumeGiB", 1, 16_384, 10);
    volumeType = Objects.requireNonNullElse(JsonFields.optionalString(json, "volumeType", 8,
        Pattern.compile("gp2|gp3|io1|io2|st1|sc1|standard")), "gp3");
    device = Objects.requireNonNullElse(JsonFields.optionalString(json, "device", 12, DEVICE), DEFAULT_DEVICE);
    database = Objects.requireNonNullElse(JsonFields.optionalString(json, "database", 32, DbCommand.NAME),
        DEFAULT_DATABASE);
    semiSync = JsonFields.booleanValue(json, "semiSync", true);
    JsonObject credentials = JsonFields.object(json, "credentials");
    for (String field : credentials.fieldNames()) {
      if (!field.equals("source")) {
        throw new MessageException("credentials." + field, "is not a credentials setting (known: [source])");
      }
    }
    Object source = credentials.getValue("source", "generate");
    if (!"generate".equals(source)) {
      throw new MessageException("credentials.source", "must be \"generate\" (the coordinators make the pair's "
          + "passwords and keep them out of logs, user-data and tags)");
    }
    JsonObject failover = JsonFields.object(json, "failover");
    for (String field : failover.fieldNames()) {
      if (!FAILOVER_FIELDS.contains(field)) {
        throw new MessageException("failover." + field, "is not a failover setting (known: "
            + new TreeSet<>(FAILOVER_FIELDS) + ")");
      }
    }
    try {
      automaticFailover = JsonFields.booleanValue(failover, "automatic", true);
      confirmations = JsonFields.intValue(failover, "confirmations", 1, 20, 3);
      probeMillis = JsonFields.longValue(failover, "probeMillis", 100, 10_000, 500);
      antiFlapSeconds = JsonFields.longValue(failover, "antiFlapSeconds", 0, 7 * 24 * 3600, 3600);
      applyWaitSeconds = JsonFields.intValue(failover, "applyWaitSeconds", 1, DbCommand.MAX_APPLY_WAIT_S,
          DbCommand.DEFAULT_APPLY_WAIT_S);
    } catch (MessageException e) {
      throw e.within("failover");
    }
    agent = JsonFields.object(json, "agent").copy();
    for (String reserved : new String[] {"deployment", "group", "cluster", "roles", "db"}) {
      if (agent.containsKey(reserved)) {
        throw new MessageException("agent." + reserved, "is set by the coordinator, not by the db section");
      }
    }
  }

  /** The group the pair's instances are tagged with: an agent's role (db) comes from it, as for any group. */
  public GroupConfig group() {
    return new GroupConfig(new JsonObject().put("name", name).put("imageId", imageId).put("instanceType", instanceType)
        .put("min", 0).put("max", 2).put("autoHeal", false)
        .put("agent", agent.copy().put("roles", new JsonArray().add("db"))));
  }

  public JsonObject toJson() {
    return new JsonObject().put("name", name).put("imageId", imageId).put("instanceType", instanceType)
        .put("volumeGiB", volumeGiB).put("volumeType", volumeType).put("device", device).put("database", database)
        .put("semiSync", semiSync).put("credentials", new JsonObject().put("source", "generate"))
        .put("agent", agent.copy()).put("failover", new JsonObject().put("automatic", automaticFailover)
            .put("confirmations", confirmations).put("probeMillis", probeMillis)
            .put("antiFlapSeconds", antiFlapSeconds).put("applyWaitSeconds", applyWaitSeconds));
  }

  /** Whether the leader fails a dead master over by itself (else it only says so). */
  public boolean automaticFailover() {
    return automaticFailover;
  }

  /** Probe rounds in a row that must find the master dead, its replica agreeing. */
  public int confirmations() {
    return confirmations;
  }

  /** How often the leader probes the master. */
  public long probeMillis() {
    return probeMillis;
  }

  /** How long a promotion's replica may take to apply what it received (each bounded MASTER_GTID_WAIT), seconds. */
  public int applyWaitSeconds() {
    return applyWaitSeconds;
  }

  /** Within this long of an automatic failover, the next waits for an operator's acknowledgement. */
  public long antiFlapSeconds() {
    return antiFlapSeconds;
  }

  public String name() {
    return name;
  }

  public String imageId() {
    return imageId;
  }

  public String instanceType() {
    return instanceType;
  }

  public int volumeGiB() {
    return volumeGiB;
  }

  public String volumeType() {
    return volumeType;
  }

  public String device() {
    return device;
  }

  public String database() {
    return database;
  }

  public boolean semiSync() {
    return semiSync;
  }
}
