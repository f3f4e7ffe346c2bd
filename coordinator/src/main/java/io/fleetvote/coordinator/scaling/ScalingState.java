package io.fleetvote.coordinator.scaling;

import io.fleetvote.common.msg.Vote;
import io.fleetvote.coordinator.fleet.FleetInstance;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToLongFunction;

/**
 * What one coordinator's autoscaler knows now, for the API and the dashboard: its leadership, and per group the
 * bounds, size, launches in flight, calm time left, votes, operators' controls and each member's health and vote.
 */
public record ScalingState(String coordinator, JsonObject leadership, List<GroupState> groups) {

  public ScalingState {
    groups = List.copyOf(groups);
  }

  /** How the group's members voted: a vote past its lease is expired. */
  public record Votes(int grow, int shrink, int none, int expired) {

    JsonObject toJson() {
      return new JsonObject().put("grow", grow).put("shrink", shrink).put("none", none).put("expired", expired);
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

    JsonObject toJson() {
      return new JsonObject().put("instanceId", instanceId).put("state", state).put("health", health)
          .put("unhealthySince", unhealthySince).put("drained", drained).put("privateIp", privateIp)
          .put("launchTime", launchTime).put("vote", vote).put("load", load).put("warm", warm)
          .put("protected", protectedFromScaleIn);
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

    JsonObject toJson() {
      JsonArray memberList = new JsonArray();
      members.forEach(m -> memberList.add(m.toJson()));
      return new JsonObject().put("name", name).put("min", min).put("max", max).put("size", size)
          .put("launchesInFlight", launchesInFlight).put("lastResizeAt", lastResizeAt).put("calmLeftMs", calmLeftMs)
          .put("votes", votes.toJson()).put("members", memberList).put("paused", paused)
          .put("protected", new JsonArray(protectedInstances)).put("drained", new JsonArray(drained))
          .put("instances", new JsonArray(instances));
    }
  }

  public JsonObject toJson() {
    JsonArray groupList = new JsonArray();
    groups.forEach(g -> groupList.add(g.toJson()));
    return new JsonObject().put("coordinator", coordinator).put("leadership", leadership).put("groups", groupList);
  }

  /**
   * One group's state from what the autoscaler holds. Pure: everything comes in.
   *
   * @param members      the group's instances the fleet view lists (the alive ones are shown)
   * @param lastResizeAt when the group last grew or shrank (0: never)
   */
  static GroupState group(VoteTally tally, Collection<FleetInstance> members, int launchesInFlight, long lastResizeAt,
                          GroupControl control, HealthTracker health, long now) {
    GroupConfig config = tally.config();
    List<FleetInstance> alive = members.stream().filter(FleetInstance::alive).toList();
    Map<String, Vote> held = tally.heldVotes();
    int[] counts = new int[4];
    List<Member> detail = new ArrayList<>();
    for (FleetInstance member : alive) {
      Vote vote = held.get(member.instanceId());
      boolean expired = vote != null && tally.voteExpired(member.instanceId());
      String kind = vote == null ? null : expired ? "expired" : vote.vote().name().toLowerCase(Locale.ROOT);
      if (kind != null) {
        counts[List.of("grow", "shrink", "none", "expired").indexOf(kind)]++;
      }
      HealthTracker.Health memberHealth = health.health(member, now);
      detail.add(new Member(member.instanceId(), member.state(), memberHealth.failing() ? memberHealth.why() : "ok",
          memberHealth.failing() ? memberHealth.since() : null, control.drained().contains(member.instanceId()),
          member.privateIp(), member.launchTime().toEpochMilli(), kind,
          vote == null || expired || Double.isNaN(vote.load()) ? null : vote.load(), vote != null && vote.warm(),
          vote != null && vote.protectedFromScaleIn()));
    }
    long calmLeft = lastResizeAt <= 0 ? 0 : Math.max(0, lastResizeAt + config.calmTimeMs() - now);
    return new GroupState(config.name(), config.min(), config.max(), alive.size(), launchesInFlight, lastResizeAt,
        calmLeft, new Votes(counts[0], counts[1], counts[2], counts[3]), detail, control.paused(),
        control.protectedInstances().stream().sorted().toList(), control.drained().stream().sorted().toList(),
        alive.stream().map(FleetInstance::instanceId).sorted().toList());
  }

  /** Every group's state, in the order of {@code tallies}. */
  static List<GroupState> groups(Collection<VoteTally> tallies, FleetView view, OrdersInFlight inFlight,
                                 ToLongFunction<String> lastResizeAt, Controls controls, HealthTracker health,
                                 long now) {
    return tallies.stream().map(t -> {
      String name = t.config().name();
      return group(t, view.members(name), inFlight.launches(name), lastResizeAt.applyAsLong(name), controls.of(name),
          health, now);
    }).toList();
  }
}
