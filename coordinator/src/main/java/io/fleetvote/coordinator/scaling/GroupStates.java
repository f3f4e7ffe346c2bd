package io.fleetvote.coordinator.scaling;

import io.fleetvote.common.msg.ScalingState.GroupState;
import io.fleetvote.common.msg.ScalingState.Member;
import io.fleetvote.common.msg.ScalingState.Votes;
import io.fleetvote.common.msg.Vote;
import io.fleetvote.coordinator.fleet.FleetInstance;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToLongFunction;

/** The groups of an {@link io.fleetvote.common.msg.ScalingState}, from what the autoscaler holds. Pure. */
final class GroupStates {

  private static final List<String> VOTE_KINDS = List.of("grow", "shrink", "none", "expired");

  private GroupStates() {
  }

  /**
   * One group's state: its alive members with their votes and health, and the calm time left.
   *
   * @param members      the group's instances the fleet view lists (the alive ones are shown)
   * @param lastResizeAt when the group last grew or shrank (0: never)
   */
  static GroupState of(VoteTally tally, Collection<FleetInstance> members, int launchesInFlight, long lastResizeAt,
                       GroupControl control, HealthTracker health, long now) {
    GroupConfig config = tally.config();
    List<FleetInstance> alive = members.stream().filter(FleetInstance::alive).toList();
    Map<String, Vote> held = tally.heldVotes();
    int[] counts = new int[VOTE_KINDS.size()];
    List<Member> detail = new ArrayList<>();
    for (FleetInstance member : alive) {
      Vote vote = held.get(member.instanceId());
      boolean expired = vote != null && tally.voteExpired(member.instanceId());
      String kind = vote == null ? null : expired ? "expired" : vote.vote().name().toLowerCase(Locale.ROOT);
      if (kind != null) {
        counts[VOTE_KINDS.indexOf(kind)]++;
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
  static List<GroupState> of(Collection<VoteTally> tallies, FleetView view, OrdersInFlight inFlight,
                             ToLongFunction<String> lastResizeAt, Controls controls, HealthTracker health, long now) {
    return tallies.stream().map(t -> {
      String name = t.config().name();
      return of(t, view.members(name), inFlight.launches(name), lastResizeAt.applyAsLong(name), controls.of(name),
          health, now);
    }).toList();
  }
}
