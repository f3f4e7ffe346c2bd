package io.fleetvote.coordinator;

import io.fleetvote.common.Ids;
import io.fleetvote.common.cluster.ClusterOptions;
import io.fleetvote.coordinator.gateway.GatewayOptions;
import io.fleetvote.common.msg.JsonFields;
import io.fleetvote.common.msg.MessageException;
import io.fleetvote.coordinator.scaling.ScalingOptions;
import io.vertx.core.json.JsonObject;

import java.util.Objects;

/**
 * What one coordinator serves and how: its deployment, where its HTTP API listens, how the live registry judges
 * heartbeats, how it joins the cluster, and how the coordinators elect the one that acts (how many there are, the
 * lease, where each keeps its copy of the decision ledger): one leadership and one ledger for every component.
 */
public final class CoordinatorOptions {

  public static final String DEFAULT_DEPLOYMENT = "default";
  public static final String DEFAULT_HTTP_HOST = "127.0.0.1";
  public static final int DEFAULT_HTTP_PORT = 9100;
  /** Three of the agents' default gossip periods: one lost heartbeat does not drop an instance. */
  public static final long DEFAULT_EXPIRE_AFTER_MILLIS = 3000;
  public static final long DEFAULT_FUTURE_TOLERANCE_MILLIS = 5000;
  public static final int DEFAULT_COORDINATORS = 1;
  public static final String DEFAULT_DATA_DIR = "coordinator-data";
  public static final long DEFAULT_LEASE_MILLIS = 5000;
  public static final long DEFAULT_RENEW_MILLIS = 1000;
  public static final long DEFAULT_OP_TIMEOUT_MILLIS = 2000;
  public static final int DEFAULT_LEDGER_CAPACITY = 5000;

  private String deployment = DEFAULT_DEPLOYMENT;
  private String httpHost = DEFAULT_HTTP_HOST;
  private int httpPort = DEFAULT_HTTP_PORT;
  private long expireAfterMillis = DEFAULT_EXPIRE_AFTER_MILLIS;
  private long futureToleranceMillis = DEFAULT_FUTURE_TOLERANCE_MILLIS;
  private ClusterOptions cluster = new ClusterOptions();
  private int coordinators = DEFAULT_COORDINATORS;
  private String dataDir = DEFAULT_DATA_DIR;
  private long leaseMillis = DEFAULT_LEASE_MILLIS;
  private long renewMillis = DEFAULT_RENEW_MILLIS;
  private long opTimeoutMillis = DEFAULT_OP_TIMEOUT_MILLIS;
  private int ledgerCapacity = DEFAULT_LEDGER_CAPACITY;
  private ScalingOptions scaling;
  private GatewayOptions gateway;
  private String usersFile;

  public CoordinatorOptions() {
  }

  public CoordinatorOptions(CoordinatorOptions other) {
    this(other.toJson());
  }

  /** Reads options from JSON; absent fields keep their defaults, bad ones throw {@link MessageException}. */
  public CoordinatorOptions(JsonObject json) {
    deployment = Objects.requireNonNullElse(JsonFields.optionalString(json, "deployment", 63, Ids.NAME),
        DEFAULT_DEPLOYMENT);
    httpHost = Objects.requireNonNullElse(JsonFields.optionalString(json, "httpHost", 15, Ids.IPV4), DEFAULT_HTTP_HOST);
    httpPort = JsonFields.intValue(json, "httpPort", 0, 65535, DEFAULT_HTTP_PORT);
    expireAfterMillis = JsonFields.longValue(json, "expireAfterMillis", 100, 600_000, DEFAULT_EXPIRE_AFTER_MILLIS);
    futureToleranceMillis = JsonFields.longValue(json, "futureToleranceMillis", 0, 600_000,
        DEFAULT_FUTURE_TOLERANCE_MILLIS);
    try {
      cluster = new ClusterOptions(JsonFields.object(json, "cluster"));
    } catch (MessageException e) {
      throw e.within("cluster");
    }
    usersFile = JsonFields.optionalString(json, "usersFile", 4096, null);
    coordinators = JsonFields.intValue(json, "coordinators", 1, 7, DEFAULT_COORDINATORS);
    dataDir = Objects.requireNonNullElse(JsonFields.optionalString(json, "dataDir", 4096, null), DEFAULT_DATA_DIR);
    leaseMillis = JsonFields.longValue(json, "leaseMillis", 500, 600_000, DEFAULT_LEASE_MILLIS);
    renewMillis = JsonFields.longValue(json, "renewMillis", 100, 300_000, DEFAULT_RENEW_MILLIS);
    if (renewMillis * 2 >= leaseMillis) {
      throw new MessageException("renewMillis", renewMillis + " must be less than half of leaseMillis (" + leaseMillis
          + ")");
    }
    opTimeoutMillis = JsonFields.longValue(json, "opTimeoutMillis", 100, 60_000, DEFAULT_OP_TIMEOUT_MILLIS);
    ledgerCapacity = JsonFields.intValue(json, "ledgerCapacity", 100, 1_000_000, DEFAULT_LEDGER_CAPACITY);
    if (json.getValue("gateway") != null) {
      try {
        gateway = GatewayOptions.fromJson(JsonFields.object(json, "gateway"));
      } catch (MessageException e) {
        throw e.within("gateway");
      }
    }
    if (json.getValue("scaling") != null) {
      try {
        scaling = new ScalingOptions(JsonFields.object(json, "scaling"));
      } catch (MessageException e) {
        throw e.within("scaling");
      }
    }
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("deployment", deployment)
        .put("httpHost", httpHost)
        .put("httpPort", httpPort)
        .put("expireAfterMillis", expireAfterMillis)
        .put("futureToleranceMillis", futureToleranceMillis)
        .put("cluster", cluster.toJson())
        .put("scaling", scaling == null ? null : scaling.toJson())
        .put("gateway", gateway == null ? null : gateway.toJson())
        .put("usersFile", usersFile)
        .put("coordinators", coordinators)
        .put("dataDir", dataDir)
        .put("leaseMillis", leaseMillis)
        .put("renewMillis", renewMillis)
        .put("opTimeoutMillis", opTimeoutMillis)
        .put("ledgerCapacity", ledgerCapacity);
  }

  /** How many coordinators the deployment runs: a majority of them must see each other to act (1, or 3). */
  public int getCoordinators() {
    return coordinators;
  }

  public CoordinatorOptions setCoordinators(int coordinators) {
    this.coordinators = coordinators;
    return this;
  }

  /** Where this coordinator keeps its copy of the ledger ({@code ledger.jsonl}). */
  public String getDataDir() {
    return dataDir;
  }

  public CoordinatorOptions setDataDir(String dataDir) {
    this.dataDir = dataDir;
    return this;
  }

  /** How long a leader's lease lasts without renewal. */
  public long getLeaseMillis() {
    return leaseMillis;
  }

  public CoordinatorOptions setLeaseMillis(long leaseMillis) {
    this.leaseMillis = leaseMillis;
    return this;
  }

  /** How often the leader renews its lease (and standbys try for it). */
  public long getRenewMillis() {
    return renewMillis;
  }

  public CoordinatorOptions setRenewMillis(long renewMillis) {
    this.renewMillis = renewMillis;
    return this;
  }

  /** The timeout of every cluster-map call (a frozen member makes them hang otherwise). */
  public long getOpTimeoutMillis() {
    return opTimeoutMillis;
  }

  public CoordinatorOptions setOpTimeoutMillis(long opTimeoutMillis) {
    this.opTimeoutMillis = opTimeoutMillis;
    return this;
  }

  /** How many entries the ledger keeps (the oldest go first). */
  public int getLedgerCapacity() {
    return ledgerCapacity;
  }

  public CoordinatorOptions setLedgerCapacity(int ledgerCapacity) {
    this.ledgerCapacity = ledgerCapacity;
    return this;
  }

  /** The users file ({@link io.fleetvote.coordinator.auth.UsersFile}); null: the API is open (a trusted network). */
  public String getUsersFile() {
    return usersFile;
  }

  public CoordinatorOptions setUsersFile(String usersFile) {
    this.usersFile = usersFile;
    return this;
  }

  /** The Fleetvote deployment this coordinator runs; heartbeats of any other are rejected. */
  public String getDeployment() {
    return deployment;
  }

  public CoordinatorOptions setDeployment(String deployment) {
    this.deployment = deployment;
    return this;
  }

  /** The address the HTTP API binds to. */
  public String getHttpHost() {
    return httpHost;
  }

  public CoordinatorOptions setHttpHost(String httpHost) {
    this.httpHost = httpHost;
    return this;
  }

  /** The HTTP API's port; 0 picks a free one. */
  public int getHttpPort() {
    return httpPort;
  }

  public CoordinatorOptions setHttpPort(int httpPort) {
    this.httpPort = httpPort;
    return this;
  }

  /** How long after its last heartbeat an instance drops out of the live registry. */
  public long getExpireAfterMillis() {
    return expireAfterMillis;
  }

  public CoordinatorOptions setExpireAfterMillis(long expireAfterMillis) {
    this.expireAfterMillis = expireAfterMillis;
    return this;
  }

  /** How far ahead of this coordinator's clock a heartbeat may be stamped (clock skew) and still be accepted. */
  public long getFutureToleranceMillis() {
    return futureToleranceMillis;
  }

  public CoordinatorOptions setFutureToleranceMillis(long futureToleranceMillis) {
    this.futureToleranceMillis = futureToleranceMillis;
    return this;
  }

  public ClusterOptions getCluster() {
    return cluster;
  }

  public CoordinatorOptions setCluster(ClusterOptions cluster) {
    this.cluster = cluster;
    return this;
  }

  /** How this coordinator scales the deployment's groups; null for a coordinator that only keeps the registry. */
  /** Where agents connect (TLS, attested); null: agents join the cluster instead. Needs {@link #getScaling()}. */
  public GatewayOptions getGateway() {
    return gateway;
  }

  public CoordinatorOptions setGateway(GatewayOptions gateway) {
    this.gateway = gateway;
    return this;
  }

  public ScalingOptions getScaling() {
    return scaling;
  }

  public CoordinatorOptions setScaling(ScalingOptions scaling) {
    this.scaling = scaling;
    return this;
  }
}
