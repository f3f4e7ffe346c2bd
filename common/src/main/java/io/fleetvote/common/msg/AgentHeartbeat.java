package io.fleetvote.common.msg;

import io.fleetvote.common.Ids;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * An agent saying "I am alive, this is who I am and where I listen". Published on
 * {@link io.fleetvote.common.Addresses#AGENT_HEARTBEATS} every gossip period.
 *
 * @param instanceId the EC2 instance id the agent read from instance metadata
 * @param deployment the Fleetvote deployment the instance belongs to
 * @param group      the group (server array) of the instance
 * @param roles      what the instance does
 * @param address    the instance's private IPv4 address
 * @param appPort    the port the instance's web application listens on (0 when it runs none)
 * @param agentPort  the port of the agent's own HTTP endpoint ({@code /health}, {@code /metrics})
 * @param checkPort  the port where the agent answers HAProxy's agent-check (0 when it does not)
 * @param startedAt  when the agent started, epoch milliseconds
 * @param sentAt     when this heartbeat was sent, epoch milliseconds
 * @param appReady   the instance's web application answers its health check (an LB may route to it)
 * @param appProblem why the application is not ready, in a few words (empty when it is)
 * @param leaving    the instance is draining or shutting down: no LB may add it again
 */
public record AgentHeartbeat(String instanceId, String deployment, String group, Set<Role> roles, String address,
                             int appPort, int agentPort, int checkPort, long startedAt, long sentAt,
                             boolean appReady, String appProblem, boolean leaving) {

  /** Long enough for an exception's message, short enough for a dashboard cell. */
  public static final int MAX_PROBLEM_LENGTH = 200;

  public AgentHeartbeat {
    roles = Set.copyOf(roles);
    appProblem = appProblem == null ? "" : appProblem;
  }

  public JsonObject toJson() {
    JsonArray roleNames = new JsonArray();
    roles.stream().sorted().forEach(r -> roleNames.add(r.name().toLowerCase(Locale.ROOT)));
    return new JsonObject()
        .put("instanceId", instanceId)
        .put("deployment", deployment)
        .put("group", group)
        .put("roles", roleNames)
        .put("address", address)
        .put("appPort", appPort)
        .put("agentPort", agentPort)
        .put("checkPort", checkPort)
        .put("startedAt", startedAt)
        .put("sentAt", sentAt)
        .put("appReady", appReady)
        .put("appProblem", appProblem)
        .put("leaving", leaving);
  }

  /** Reads and validates a heartbeat; throws {@link MessageException} naming the first bad field. */
  public static AgentHeartbeat fromJson(Object body) {
    JsonObject json = JsonFields.object(body, "heartbeat");
    long startedAt = JsonFields.longValue(json, "startedAt", 0, Long.MAX_VALUE);
    long sentAt = JsonFields.longValue(json, "sentAt", 0, Long.MAX_VALUE);
    if (sentAt < startedAt) {
      throw new MessageException("sentAt", "is before startedAt");
    }
    return new AgentHeartbeat(
        JsonFields.string(json, "instanceId", 19, Ids.INSTANCE_ID),
        JsonFields.string(json, "deployment", 63, Ids.NAME),
        JsonFields.string(json, "group", 63, Ids.NAME),
        JsonFields.enumValues(json, "roles", Role.class),
        JsonFields.string(json, "address", 15, Ids.IPV4),
        JsonFields.intValue(json, "appPort", 0, 65535),
        JsonFields.intValue(json, "agentPort", 1, 65535),
        JsonFields.intValue(json, "checkPort", 0, 65535, 0),
        startedAt,
        sentAt,
        JsonFields.booleanValue(json, "appReady", false),
        Objects.requireNonNullElse(JsonFields.optionalString(json, "appProblem", MAX_PROBLEM_LENGTH, null), ""),
        JsonFields.booleanValue(json, "leaving", false));
  }
}
