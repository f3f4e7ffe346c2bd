package io.fleetvote.agent.lb;

import io.fleetvote.common.Ids;
import io.fleetvote.common.msg.DeregisterRequest;
import io.fleetvote.common.msg.JsonFields;
import io.fleetvote.common.msg.MessageException;
import io.vertx.core.json.JsonObject;

import java.util.Objects;

/**
 * What an LB agent's HAProxy serves and how the agent keeps it: the {@code lb} object of the agent's options.
 * With {@code haproxyDir} set the agent renders the configuration there and runs HAProxy itself (the sandbox, or a
 * host where nothing else runs it); with {@code socket} set it only drives a HAProxy someone else runs.
 */
public final class LbOptions {

  public static final int DEFAULT_FRONTEND_PORT = 80;
  public static final String DEFAULT_HAPROXY_BINARY = "/usr/sbin/haproxy";
  public static final long DEFAULT_DRAIN_TIMEOUT_MS = 30_000;
  public static final int DEFAULT_CHECK_INTER_MS = 1000;
  /**
   * HAProxy's {@code downinter}: how often a server that is down is checked. A new server counts as down, so this is
   * also how soon its first check comes after {@code enable health} (one {@code inter} without it).
   */
  public static final int DEFAULT_CHECK_DOWN_INTER_MS = 200;
  public static final int DEFAULT_RISE = 2;
  public static final int DEFAULT_FALL = 2;
  public static final long DEFAULT_RECONCILE_MS = 2000;
  /** How long a server a registration added is safe from the reaper before the instance's heartbeats arrive. */
  public static final long DEFAULT_REGISTRATION_GRACE_MS = 10_000;
  /** How long a registration waits for the server's first passing check. */
  public static final long DEFAULT_FIRST_CHECK_TIMEOUT_MS = 15_000;

  private String serves;
  private String frontendAddress;
  private int frontendPort = DEFAULT_FRONTEND_PORT;
  private String haproxyDir;
  private String haproxyBinary = DEFAULT_HAPROXY_BINARY;
  private String socket;
  private long drainTimeoutMs = DEFAULT_DRAIN_TIMEOUT_MS;
  private int checkInterMs = DEFAULT_CHECK_INTER_MS;
  private int checkDownInterMs = DEFAULT_CHECK_DOWN_INTER_MS;
  private int rise = DEFAULT_RISE;
  private int fall = DEFAULT_FALL;
  private long reconcileMs = DEFAULT_RECONCILE_MS;
  private long registrationGraceMs = DEFAULT_REGISTRATION_GRACE_MS;
  private long firstCheckTimeoutMs = DEFAULT_FIRST_CHECK_TIMEOUT_MS;
  private int dbWritePort;
  private int dbReadPort;

  public LbOptions() {
  }

  public LbOptions(LbOptions other) {
    this(other.toJson());
  }

  /** Reads options from JSON; bad fields throw {@link MessageException} naming them. */
  public LbOptions(JsonObject json) {
    serves = JsonFields.string(json, "serves", 63, Ids.NAME);
    frontendAddress = JsonFields.optionalString(json, "frontendAddress", 15, Ids.IPV4);
    frontendPort = JsonFields.intValue(json, "frontendPort", 1, 65535, DEFAULT_FRONTEND_PORT);
    haproxyDir = JsonFields.optionalString(json, "haproxyDir", 4096, null);
    haproxyBinary = Objects.requireNonNullElse(JsonFields.optionalString(json, "haproxyBinary", 4096, null),
        DEFAULT_HAPROXY_BINARY);
    socket = JsonFields.optionalString(json, "socket", 4096, null);
    if ((haproxyDir == null) == (socket == null)) {
      throw new MessageException("haproxyDir", "set either haproxyDir (the agent runs HAProxy) or socket (someone "
          + "else does), not both and not neither");
    }
    drainTimeoutMs = JsonFields.longValue(json, "drainTimeoutMs", 0, DeregisterRequest.MAX_DRAIN_TIMEOUT_MILLIS,
        DEFAULT_DRAIN_TIMEOUT_MS);
    checkInterMs = JsonFields.intValue(json, "checkInterMs", 100, 60_000, DEFAULT_CHECK_INTER_MS);
    checkDownInterMs = JsonFields.intValue(json, "checkDownInterMs", 100, 60_000,
        Math.min(checkInterMs, DEFAULT_CHECK_DOWN_INTER_MS));
    rise = JsonFields.intValue(json, "rise", 1, 10, DEFAULT_RISE);
    fall = JsonFields.intValue(json, "fall", 1, 10, DEFAULT_FALL);
    reconcileMs = JsonFields.longValue(json, "reconcileMs", 200, 600_000, DEFAULT_RECONCILE_MS);
    registrationGraceMs = JsonFields.longValue(json, "registrationGraceMs", 0, 600_000, DEFAULT_REGISTRATION_GRACE_MS);
    firstCheckTimeoutMs = JsonFields.longValue(json, "firstCheckTimeoutMs", 100, 600_000,
        DEFAULT_FIRST_CHECK_TIMEOUT_MS);
    dbWritePort = JsonFields.intValue(json, "dbWritePort", 0, 65535, 0);
    dbReadPort = JsonFields.intValue(json, "dbReadPort", 0, 65535, 0);
    if ((dbWritePort == 0) != (dbReadPort == 0)) {
      throw new MessageException(dbWritePort == 0 ? "dbWritePort" : "dbReadPort", "is needed with the other: the DB "
          + "pair's write and read frontends come together");
    }
    if (dbWritePort != 0 && (dbWritePort == dbReadPort || dbWritePort == frontendPort || dbReadPort == frontendPort)) {
      throw new MessageException("dbWritePort", "the frontend, the DB write and the DB read ports must differ");
    }
  }

  public JsonObject toJson() {
    return new JsonObject().put("serves", serves).put("frontendAddress", frontendAddress)
        .put("frontendPort", frontendPort).put("haproxyDir", haproxyDir).put("haproxyBinary", haproxyBinary)
        .put("socket", socket).put("drainTimeoutMs", drainTimeoutMs).put("checkInterMs", checkInterMs)
        .put("checkDownInterMs", checkDownInterMs)
        .put("rise", rise).put("fall", fall).put("reconcileMs", reconcileMs)
        .put("registrationGraceMs", registrationGraceMs).put("firstCheckTimeoutMs", firstCheckTimeoutMs)
        .put("dbWritePort", dbWritePort).put("dbReadPort", dbReadPort);
  }

  /** The DB pair's write frontend (TCP, to the master alone); 0 when this LB has none. */
  public int getDbWritePort() {
    return dbWritePort;
  }

  /** The DB pair's read frontend (TCP, to the replicas); 0 when this LB has none. */
  public int getDbReadPort() {
    return dbReadPort;
  }

  /** The group whose app instances the backend balances. */
  public String getServes() {
    return serves;
  }

  /** The address HAProxy's frontend binds to; null: the instance's private IP. */
  public String getFrontendAddress() {
    return frontendAddress;
  }

  public int getFrontendPort() {
    return frontendPort;
  }

  /** Where the agent renders haproxy.cfg and the admin socket and runs HAProxy; null when it does not run it. */
  public String getHaproxyDir() {
    return haproxyDir;
  }

  public String getHaproxyBinary() {
    return haproxyBinary;
  }

  /** The admin socket of a HAProxy someone else runs; null when the agent runs its own. */
  public String getSocket() {
    return socket;
  }

  /** How long a deregistration waits for sessions to finish before it shuts them. */
  public long getDrainTimeoutMs() {
    return drainTimeoutMs;
  }

  public int getCheckInterMs() {
    return checkInterMs;
  }

  /** HAProxy's {@code downinter}: checks of a server that is down, and a new server's first check, come this often. */
  public int getCheckDownInterMs() {
    return checkDownInterMs;
  }

  public int getRise() {
    return rise;
  }

  public int getFall() {
    return fall;
  }

  /** How often HAProxy is compared with the cluster's registry. */
  public long getReconcileMs() {
    return reconcileMs;
  }

  public long getRegistrationGraceMs() {
    return registrationGraceMs;
  }

  public long getFirstCheckTimeoutMs() {
    return firstCheckTimeoutMs;
  }

  /** The frontend's name in HAProxy. */
  public String frontend() {
    return "fe_" + serves;
  }

  /** The backend's name in HAProxy. */
  public String backend() {
    return "be_" + serves;
  }

  /**
   * The fail-open backend: the same servers with checks that only connect. The frontend uses it only while no server
   * of {@link #backend()} passes its health checks, so a group too busy to answer its checks in time is still served.
   */
  public String openBackend() {
    return "fo_" + serves;
  }
}
