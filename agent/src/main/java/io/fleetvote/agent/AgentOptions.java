package io.fleetvote.agent;

import io.fleetvote.agent.db.DbOptions;
import io.fleetvote.agent.lb.LbOptions;
import io.fleetvote.agent.link.LinkOptions;
import io.fleetvote.common.Ids;
import io.fleetvote.common.msg.JsonFields;
import io.fleetvote.common.msg.MessageException;
import io.fleetvote.common.msg.Role;
import io.fleetvote.common.msg.Vote;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * What one agent is and does: the deployment, group and roles it reports, how often it gossips, its ports, how it
 * reaches the coordinators, and (role app) how it measures its load and votes. The JSON shape is the {@code fleetvote}
 * object of the user-data and of {@code --config}; {@link AgentOptionSources} merges those sources. The voting
 * defaults are production's, in minutes like AWS's and RightScale's; a demo puts seconds in its user-data.
 */
public final class AgentOptions {

  /** Where an app agent's load comes from. */
  public enum Sensor {
    /** The whole host's CPU and load average: an instance with a VM of its own. */
    HOST,
    /** The CPU of one process tree, named by {@code sensorPidFile}: an instance that shares its host. */
    PROCESS,
    /**
     * The CPU of the cgroup of the process named by {@code sensorPidFile}, in percent of its CPU quota: an instance
     * with a quota of its own (the sandbox, a container); without a quota, the process tree on {@code sensorCores}.
     */
    CGROUP
  }

  public static final String DEFAULT_DEPLOYMENT = "default";
  public static final String DEFAULT_GROUP = "default";
  public static final Set<Role> DEFAULT_ROLES = Set.of(Role.APP);
  public static final long DEFAULT_GOSSIP_PERIOD_MS = 1000;
  public static final int DEFAULT_AGENT_PORT = 9110;
  public static final int DEFAULT_APP_PORT = 8080;
  public static final Sensor DEFAULT_SENSOR = Sensor.HOST;
  public static final double DEFAULT_SENSOR_CORES = 1;
  public static final long DEFAULT_SAMPLE_MS = 1000;
  public static final double DEFAULT_GROW_ABOVE = 70;
  public static final long DEFAULT_GROW_AFTER_MS = 180_000;
  public static final double DEFAULT_SHRINK_BELOW = 30;
  public static final long DEFAULT_SHRINK_AFTER_MS = 900_000;
  public static final long DEFAULT_WARMUP_MS = 120_000;
  public static final boolean DEFAULT_PROTECTED_FROM_SCALE_IN = false;
  /** How long an app agent that is stopped waits for its LBs to drain it (its supervisor's stop timeout must be longer). */
  public static final long DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

  private static final long MIN_GOSSIP_PERIOD_MS = 100;
  private static final long MAX_GOSSIP_PERIOD_MS = 60_000;
  private static final long MIN_SAMPLE_MS = 100;
  private static final long MAX_SAMPLE_MS = 60_000;
  private static final long MAX_WINDOW_MS = 86_400_000;
  private static final double MIN_SENSOR_CORES = 0.01;
  private static final double MAX_SENSOR_CORES = 1024;

  private String deployment = DEFAULT_DEPLOYMENT;
  private String group = DEFAULT_GROUP;
  private Set<Role> roles = DEFAULT_ROLES;
  private long gossipPeriodMs = DEFAULT_GOSSIP_PERIOD_MS;
  private int agentPort = DEFAULT_AGENT_PORT;
  private int appPort = DEFAULT_APP_PORT;
  private int checkPort;
  private LinkOptions coordinators = LinkOptions.none();
  private Sensor sensor = DEFAULT_SENSOR;
  private String sensorPidFile;
  private String dbClientFile;
  private double sensorCores = DEFAULT_SENSOR_CORES;
  private long sampleMs = DEFAULT_SAMPLE_MS;
  private double growAbove = DEFAULT_GROW_ABOVE;
  private long growAfterMs = DEFAULT_GROW_AFTER_MS;
  private double shrinkBelow = DEFAULT_SHRINK_BELOW;
  private long shrinkAfterMs = DEFAULT_SHRINK_AFTER_MS;
  private long warmupMs = DEFAULT_WARMUP_MS;
  private boolean protectedFromScaleIn = DEFAULT_PROTECTED_FROM_SCALE_IN;
  private LbOptions lb;
  private DbOptions db;
  private long drainTimeoutMs = DEFAULT_DRAIN_TIMEOUT_MS;

  public AgentOptions() {
  }

  public AgentOptions(AgentOptions other) {
    this(other.toJson());
  }

  /** Reads options from JSON; absent fields keep their defaults, bad ones throw {@link MessageException}. */
  public AgentOptions(JsonObject json) {
    deployment = Objects.requireNonNullElse(JsonFields.optionalString(json, "deployment", 63, Ids.NAME),
        DEFAULT_DEPLOYMENT);
    group = Objects.requireNonNullElse(JsonFields.optionalString(json, "group", 63, Ids.NAME), DEFAULT_GROUP);
    if (json.getValue("roles") != null) {
      roles = Set.copyOf(JsonFields.enumValues(json, "roles", Role.class));
      if (roles.isEmpty()) {
        throw new MessageException("roles", "must name at least one of " + roleNames(EnumSet.allOf(Role.class)));
      }
    }
    gossipPeriodMs = JsonFields.longValue(json, "gossipPeriodMs", MIN_GOSSIP_PERIOD_MS, MAX_GOSSIP_PERIOD_MS,
        DEFAULT_GOSSIP_PERIOD_MS);
    agentPort = JsonFields.intValue(json, "agentPort", 1, 65535, DEFAULT_AGENT_PORT);
    appPort = JsonFields.intValue(json, "appPort", 0, 65535, DEFAULT_APP_PORT);
    checkPort = JsonFields.intValue(json, "checkPort", 0, 65535, 0);
    JsonObject linkJson = JsonFields.object(json, "coordinators");
    try {
      coordinators = LinkOptions.fromJson(linkJson);
    } catch (MessageException e) {
      throw e.within("coordinators");
    }
    if (json.getValue("cluster") != null) {
      // A user-data written for agents that joined the coordinators' Hazelcast cluster: they no longer do, and an
      // agent that ignored it would run standalone, unseen.
      throw new MessageException("cluster", "agents no longer join the coordinators' cluster: give 'coordinators' "
          + "(the coordinators' agent gateways, as a coordinator writes them into the user-data of what it launches)");
    }
    if (json.getValue("sensor") != null) {
      sensor = JsonFields.enumValue(json, "sensor", Sensor.class);
    }
    sensorPidFile = JsonFields.optionalString(json, "sensorPidFile", 4096, null);
    dbClientFile = JsonFields.optionalString(json, "dbClientFile", 4096, null);
    sensorCores = JsonFields.doubleValue(json, "sensorCores", MIN_SENSOR_CORES, MAX_SENSOR_CORES, DEFAULT_SENSOR_CORES);
    sampleMs = JsonFields.longValue(json, "sampleMs", MIN_SAMPLE_MS, MAX_SAMPLE_MS, DEFAULT_SAMPLE_MS);
    growAbove = JsonFields.doubleValue(json, "growAbove", 0, Vote.MAX_LOAD, DEFAULT_GROW_ABOVE);
    growAfterMs = JsonFields.longValue(json, "growAfterMs", 0, MAX_WINDOW_MS, DEFAULT_GROW_AFTER_MS);
    shrinkBelow = JsonFields.doubleValue(json, "shrinkBelow", 0, Vote.MAX_LOAD, DEFAULT_SHRINK_BELOW);
    shrinkAfterMs = JsonFields.longValue(json, "shrinkAfterMs", 0, MAX_WINDOW_MS, DEFAULT_SHRINK_AFTER_MS);
    warmupMs = JsonFields.longValue(json, "warmupMs", 0, MAX_WINDOW_MS, DEFAULT_WARMUP_MS);
    protectedFromScaleIn = JsonFields.booleanValue(json, "protectedFromScaleIn", DEFAULT_PROTECTED_FROM_SCALE_IN);
    drainTimeoutMs = JsonFields.longValue(json, "drainTimeoutMs", 0, 3_600_000, DEFAULT_DRAIN_TIMEOUT_MS);
    if (json.getValue("lb") != null) {
      try {
        lb = new LbOptions(JsonFields.object(json, "lb"));
      } catch (MessageException e) {
        throw e.within("lb");
      }
    }
    if (json.getValue("db") != null) {
      try {
        db = new DbOptions(JsonFields.object(json, "db"));
      } catch (MessageException e) {
        throw e.within("db");
      }
    }
    validate();
  }

  /** Checks the rules that span fields; the JSON constructor calls it. */
  public AgentOptions validate() {
    if (sensor != Sensor.HOST && (sensorPidFile == null || sensorPidFile.isBlank())) {
      throw new MessageException("sensorPidFile", "is required when sensor is process or cgroup");
    }
    if (sensor == Sensor.HOST && sensorPidFile != null) {
      throw new MessageException("sensorPidFile", "applies only when sensor is process or cgroup (the host sensor "
          + "measures the whole host)");
    }
    votePolicy();
    if (roles.contains(Role.LB) && lb == null) {
      throw new MessageException("lb", "is required for role lb (at least lb.serves and lb.haproxyDir or lb.socket)");
    }
    if (roles.contains(Role.DB) && db == null) {
      throw new MessageException("db", "is required for role db (at least db.dir)");
    }
    return this;
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject()
        .put("deployment", deployment)
        .put("group", group)
        .put("roles", roleNames(roles))
        .put("gossipPeriodMs", gossipPeriodMs)
        .put("agentPort", agentPort)
        .put("appPort", appPort)
        .put("checkPort", checkPort)
        .put("coordinators", coordinators.toJson())
        .put("sensor", sensor.name().toLowerCase(Locale.ROOT))
        .put("sensorCores", sensorCores)
        .put("sampleMs", sampleMs)
        .put("growAbove", growAbove)
        .put("growAfterMs", growAfterMs)
        .put("shrinkBelow", shrinkBelow)
        .put("shrinkAfterMs", shrinkAfterMs)
        .put("warmupMs", warmupMs)
        .put("protectedFromScaleIn", protectedFromScaleIn);
    if (sensorPidFile != null) {
      json.put("sensorPidFile", sensorPidFile);
    }
    if (dbClientFile != null) {
      json.put("dbClientFile", dbClientFile);
    }
    if (lb != null) {
      json.put("lb", lb.toJson());
    }
    if (db != null) {
      json.put("db", db.toJson());
    }
    return json.put("drainTimeoutMs", drainTimeoutMs);
  }

  /** How long, when the agent is stopped, it waits for its LBs to drain its instance. */
  public long getDrainTimeoutMs() {
    return drainTimeoutMs;
  }

  public AgentOptions setDrainTimeoutMs(long drainTimeoutMs) {
    this.drainTimeoutMs = drainTimeoutMs;
    return this;
  }

  /** What the LB agent's HAProxy serves (role lb); null for other roles. */
  public LbOptions getLb() {
    return lb;
  }

  public AgentOptions setLb(LbOptions lb) {
    this.lb = lb;
    return this;
  }

  /** Where the DB agent runs MariaDB (role db); null for other roles. */
  public DbOptions getDb() {
    return db;
  }

  public AgentOptions setDb(DbOptions db) {
    this.db = db;
    return this;
  }

  /** The thresholds and windows of this agent's vote; throws {@link MessageException} when they contradict. */
  public VotePolicy.Settings votePolicy() {
    return new VotePolicy.Settings(growAbove, Duration.ofMillis(growAfterMs), shrinkBelow,
        Duration.ofMillis(shrinkAfterMs), Duration.ofMillis(warmupMs));
  }

  /** Roles the way they travel in JSON: lowercase names, in declaration order. */
  static JsonArray roleNames(Set<Role> roles) {
    JsonArray names = new JsonArray();
    roles.stream().sorted().forEach(role -> names.add(role.name().toLowerCase(Locale.ROOT)));
    return names;
  }

  /** The Fleetvote deployment (one cluster, one set of coordinators) the instance belongs to. */
  public String getDeployment() {
    return deployment;
  }

  public AgentOptions setDeployment(String deployment) {
    this.deployment = deployment;
    return this;
  }

  /** The group (server array) the instance belongs to. */
  public String getGroup() {
    return group;
  }

  public AgentOptions setGroup(String group) {
    this.group = group;
    return this;
  }

  public Set<Role> getRoles() {
    return roles;
  }

  public AgentOptions setRoles(Set<Role> roles) {
    this.roles = Set.copyOf(roles);
    return this;
  }

  /** How often the agent publishes its heartbeat (and, role app, renews its vote) to the coordinators. */
  public long getGossipPeriodMs() {
    return gossipPeriodMs;
  }

  public AgentOptions setGossipPeriodMs(long gossipPeriodMs) {
    this.gossipPeriodMs = gossipPeriodMs;
    return this;
  }

  /** The port of the agent's own HTTP endpoint ({@code /health}, {@code /metrics}). */
  public int getAgentPort() {
    return agentPort;
  }

  public AgentOptions setAgentPort(int agentPort) {
    this.agentPort = agentPort;
    return this;
  }

  /** The port the instance's web application listens on; 0 when it runs none. */
  public int getAppPort() {
    return appPort;
  }

  public AgentOptions setAppPort(int appPort) {
    this.appPort = appPort;
    return this;
  }

  /**
   * The port where the agent answers HAProxy's agent-check with the instance's weight (role app); 0: no agent-check,
   * HAProxy's health check alone decides.
   */
  public int getCheckPort() {
    return checkPort;
  }

  public AgentOptions setCheckPort(int checkPort) {
    this.checkPort = checkPort;
    return this;
  }

  /** The coordinators' gateways the agent connects to; none: it is standalone. */
  public LinkOptions getCoordinators() {
    return coordinators;
  }

  public AgentOptions setCoordinators(LinkOptions coordinators) {
    this.coordinators = coordinators;
    return this;
  }

  /** Where an app agent's load comes from. */
  public Sensor getSensor() {
    return sensor;
  }

  public AgentOptions setSensor(Sensor sensor) {
    this.sensor = sensor;
    return this;
  }

  /** With the process or cgroup sensor: the file whose first token is the pid of the process to measure. */
  public String getSensorPidFile() {
    return sensorPidFile;
  }

  public AgentOptions setSensorPidFile(String sensorPidFile) {
    this.sensorPidFile = sensorPidFile;
    return this;
  }

  /**
   * Role app: the file where the agent keeps the DB pair's application account and the LBs' DB write and read ports
   * for its app (a properties file, mode 0600); null for an app without a database.
   */
  public String getDbClientFile() {
    return dbClientFile;
  }

  public AgentOptions setDbClientFile(String dbClientFile) {
    this.dbClientFile = dbClientFile;
    return this;
  }

  /**
   * With the process sensor (or the cgroup sensor on a process without a quota): how many cores the tree is entitled
   * to; its CPU time is a percentage of these.
   */
  public double getSensorCores() {
    return sensorCores;
  }

  public AgentOptions setSensorCores(double sensorCores) {
    this.sensorCores = sensorCores;
    return this;
  }

  /** How often an app agent samples its load. */
  public long getSampleMs() {
    return sampleMs;
  }

  public AgentOptions setSampleMs(long sampleMs) {
    this.sampleMs = sampleMs;
    return this;
  }

  /** Load in percent above which a sample counts towards a grow vote. */
  public double getGrowAbove() {
    return growAbove;
  }

  public AgentOptions setGrowAbove(double growAbove) {
    this.growAbove = growAbove;
    return this;
  }

  /** How long the load must stay above {@link #getGrowAbove()} for a grow vote. */
  public long getGrowAfterMs() {
    return growAfterMs;
  }

  public AgentOptions setGrowAfterMs(long growAfterMs) {
    this.growAfterMs = growAfterMs;
    return this;
  }

  /** Load in percent below which a sample counts towards a shrink vote. */
  public double getShrinkBelow() {
    return shrinkBelow;
  }

  public AgentOptions setShrinkBelow(double shrinkBelow) {
    this.shrinkBelow = shrinkBelow;
    return this;
  }

  /** How long the load must stay below {@link #getShrinkBelow()} for a shrink vote. */
  public long getShrinkAfterMs() {
    return shrinkAfterMs;
  }

  public AgentOptions setShrinkAfterMs(long shrinkAfterMs) {
    this.shrinkAfterMs = shrinkAfterMs;
    return this;
  }

  /** How long after the agent starts it does not vote (its votes say warm = false). */
  public long getWarmupMs() {
    return warmupMs;
  }

  public AgentOptions setWarmupMs(long warmupMs) {
    this.warmupMs = warmupMs;
    return this;
  }

  /** The instance asks, in its votes, not to be chosen when its group shrinks. */
  public boolean isProtectedFromScaleIn() {
    return protectedFromScaleIn;
  }

  public AgentOptions setProtectedFromScaleIn(boolean protectedFromScaleIn) {
    this.protectedFromScaleIn = protectedFromScaleIn;
    return this;
  }
}
