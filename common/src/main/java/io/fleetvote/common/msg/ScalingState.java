package io.fleetvote.common.msg;

import io.fleetvote.common.Ids;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Optional;

/**
 * What one coordinator's autoscaler knows now ({@link io.fleetvote.common.Addresses#SCALING_STATE}), for the API
 * and the dashboard: its leadership, and per group the bounds, size, launches in flight, calm time left, votes,
 * operators' controls and each member's health and vote.
 */
public record ScalingState(String coordinator, LeadershipState leadership, List<GroupState> groups) {

  /** More groups than any deployment configures. */
  public static final int MAX_GROUPS = 1000;
  /** {@code GroupConfig.MAX_SIZE}, and more. */
  public static final int MAX_MEMBERS = 10_000;

  public ScalingState {
    groups = List.copyOf(groups);
  }

  /** How a group's members voted: a vote past its lease is expired. */
  public record Votes(int grow, int shrink, int none, int expired) {

    public JsonObject toJson() {
      return new JsonObject().put("grow", grow).put("shrink", shrink).put("none", none).put("expired", expired);
    }

    public static Votes fromJson(Object body) {
      JsonObject json = JsonFields.object(body, "votes");
      return new Votes(JsonFields.intValue(json, "grow", 0, MAX_MEMBERS), JsonFields.intValue(json, "shrink", 0,
          MAX_MEMBERS), JsonFields.intValue(json, "none", 0, MAX_MEMBERS),
          JsonFields.intValue(json, "expired", 0, MAX_MEMBERS));
    }
  }

  /**
   * One alive member of a group.
   *
   * @param health         {@code ok}, or why it fails
   * @param unhealthySince when it began to fail (null when ok)
   * @param vote           grow, shrink, none, expired, or null (no vote heard)
   * @param load           its last live vote's load (null when none)
   */
  public record Member(String instanceId, String state, String health, Long unhealthySince, boolean drained,
                       String privateIp, long launchTime, String vote, Double load, boolean warm,
                       boolean protectedFromScaleIn) {

    public JsonObject toJson() {
      return new JsonObject().put("instanceId", instanceId).put("state", state).put("health", health)
          .put("unhealthySince", unhealthySince).put("drained", drained).put("privateIp", privateIp)
          .put("launchTime", launchTime).put("vote", vote).put("load", load).put("warm", warm)
          .put("protected", protectedFromScaleIn);
    }

    public static Member fromJson(Object body) {
      JsonObject json = JsonFields.object(body, "member");
      return new Member(JsonFields.string(json, "instanceId", 19, Ids.INSTANCE_ID),
          JsonFields.string(json, "state", 32, null), JsonFields.string(json, "health", 1000, null),
          JsonFields.optionalLong(json, "unhealthySince", 0, Long.MAX_VALUE),
          JsonFields.booleanValue(json, "drained", false), JsonFields.optionalString(json, "privateIp", 15, Ids.IPV4),
          JsonFields.longValue(json, "launchTime", 0, Long.MAX_VALUE), JsonFields.optionalString(json, "vote", 16, null),
          JsonFields.optionalDouble(json, "load", 0, 1_000_000), JsonFields.booleanValue(json, "warm", false),
          JsonFields.booleanValue(json, "protected", false));
    }
  }

  /** One group. {@code calmLeftMs}: how long until it may resize again (0: now). */
  public record GroupState(String name, int min, int max, int size, int launchesInFlight, long lastResizeAt,
                           long calmLeftMs, Votes votes, List<Member> members, boolean paused,
                           List<String> protectedInstances, List<String> drained, List<String> instances) {

    public GroupState {
      members = List.copyOf(members);
      protectedInstances = List.copyOf(protectedInstances);
      drained = List.copyOf(drained);
      instances = List.copyOf(instances);
    }

    public JsonObject toJson() {
      JsonArray memberList = new JsonArray();
      members.forEach(m -> memberList.add(m.toJson()));
      return new JsonObject().put("name", name).put("min", min).put("max", max).put("size", size)
          .put("launchesInFlight", launchesInFlight).put("lastResizeAt", lastResizeAt).put("calmLeftMs", calmLeftMs)
          .put("votes", votes.toJson()).put("members", memberList).put("paused", paused)
          .put("protected", new JsonArray(protectedInstances)).put("drained", new JsonArray(drained))
          .put("instances", new JsonArray(instances));
    }

    public static GroupState fromJson(Object body) {
      JsonObject json = JsonFields.object(body, "group");
      Votes votes;
      try {
        votes = Votes.fromJson(json.getValue("votes"));
      } catch (MessageException e) {
        throw e.within("votes");
      }
      return new GroupState(JsonFields.string(json, "name", 63, Ids.NAME), JsonFields.intValue(json, "min", 0,
          MAX_MEMBERS), JsonFields.intValue(json, "max", 0, MAX_MEMBERS), JsonFields.intValue(json, "size", 0,
          MAX_MEMBERS), JsonFields.intValue(json, "launchesInFlight", -MAX_MEMBERS, MAX_MEMBERS),
          JsonFields.longValue(json, "lastResizeAt", 0, Long.MAX_VALUE),
          JsonFields.longValue(json, "calmLeftMs", 0, Long.MAX_VALUE), votes,
          JsonFields.objects(json, "members", MAX_MEMBERS, Member::fromJson),
          JsonFields.booleanValue(json, "paused", false),
          JsonFields.strings(json, "protected", MAX_MEMBERS, 19, Ids.INSTANCE_ID),
          JsonFields.strings(json, "drained", MAX_MEMBERS, 19, Ids.INSTANCE_ID),
          JsonFields.strings(json, "instances", MAX_MEMBERS, 19, Ids.INSTANCE_ID));
    }
  }

  /** The group of that name, if the autoscaler scales it. */
  public Optional<GroupState> group(String name) {
    return groups.stream().filter(g -> g.name().equals(name)).findFirst();
  }

  public JsonObject toJson() {
    JsonArray groupList = new JsonArray();
    groups.forEach(g -> groupList.add(g.toJson()));
    return new JsonObject().put("coordinator", coordinator).put("leadership", leadership.toJson())
        .put("groups", groupList);
  }

  /** Reads and validates a state; throws {@link MessageException} naming the first bad field. */
  public static ScalingState fromJson(Object body) {
    JsonObject json = JsonFields.object(body, "scaling state");
    LeadershipState leadership;
    try {
      leadership = LeadershipState.fromJson(json.getValue("leadership"));
    } catch (MessageException e) {
      throw e.within("leadership");
    }
    return new ScalingState(JsonFields.string(json, "coordinator", 300, null), leadership,
        JsonFields.objects(json, "groups", MAX_GROUPS, GroupState::fromJson));
  }
}
