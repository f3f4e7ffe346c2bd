package io.fleetvote.agent;

import io.fleetvote.common.Ids;
import io.fleetvote.common.cluster.ClusterOptions;
import io.fleetvote.common.msg.JsonFields;
import io.fleetvote.common.msg.MessageException;
import io.fleetvote.common.msg.Role;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * What one agent is and does: the deployment, group and roles it reports, how often it gossips, its ports and
 * how it joins the cluster. The JSON shape is the {@code fleetvote} object of the user-data and of
 * {@code --config}; {@link AgentOptionSources} merges those sources.
 */
public final class AgentOptions {

  public static final String DEFAULT_DEPLOYMENT = "default";
  public static final String DEFAULT_GROUP = "default";
  public static final Set<Role> DEFAULT_ROLES = Set.of(Role.APP);
  public static final long DEFAULT_GOSSIP_PERIOD_MS = 1000;
  public static final int DEFAULT_AGENT_PORT = 9110;
  public static final int DEFAULT_APP_PORT = 8080;

  private static final long MIN_GOSSIP_PERIOD_MS = 100;
  private static final long MAX_GOSSIP_PERIOD_MS = 60_000;

  private String deployment = DEFAULT_DEPLOYMENT;
  private String group = DEFAULT_GROUP;
  private Set<Role> roles = DEFAULT_ROLES;
  private long gossipPeriodMs = DEFAULT_GOSSIP_PERIOD_MS;
  private int agentPort = DEFAULT_AGENT_PORT;
  private int appPort = DEFAULT_APP_PORT;
  private ClusterOptions cluster = new ClusterOptions();

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
    JsonObject clusterJson = JsonFields.object(json, "cluster");
    try {
      cluster = new ClusterOptions(clusterJson);
    } catch (MessageException e) {
      throw e.within("cluster");
    }
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("deployment", deployment)
        .put("group", group)
        .put("roles", roleNames(roles))
        .put("gossipPeriodMs", gossipPeriodMs)
        .put("agentPort", agentPort)
        .put("appPort", appPort)
        .put("cluster", cluster.toJson());
  }

  /** Roles the way they travel in JSON: lowercase names, in declaration order. */
  static JsonArray roleNames(Set<Role> roles) {
    JsonArray names = new JsonArray();
    roles.stream().sorted().forEach(role -> names.add(role.name().toLowerCase(Locale.ROOT)));
    return names;
  }

  /** True when the cluster options say how to find peers (members or AWS discovery): then the agent joins. */
  public boolean isClustered() {
    return !cluster.getMembers().isEmpty() || cluster.isAwsDiscovery();
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

  /** How often the agent publishes its heartbeat when clustered. */
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

  public ClusterOptions getCluster() {
    return cluster;
  }

  public AgentOptions setCluster(ClusterOptions cluster) {
    this.cluster = cluster;
    return this;
  }
}
