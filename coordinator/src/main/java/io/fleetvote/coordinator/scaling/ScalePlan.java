package io.fleetvote.coordinator.scaling;

import java.util.List;
import java.util.function.IntFunction;

/**
 * An operator's "scale by N": the decision it makes, or why it is refused. Pure: the caller gives the group's
 * instances that count, whether an action is under way, and how to choose victims.
 */
public final class ScalePlan {

  private ScalePlan() {
  }

  /**
   * @param size    the instances that count in the group now (alive, not leaving)
   * @param busy    whether the group has an action in progress (a launch in flight, an unfinished order)
   * @param victims chooses up to N instances to terminate (protected ones never)
   * @throws CommandRefused (409) when busy, outside the bounds, or when too few instances may go
   */
  public static Decision plan(GroupConfig config, int size, int by, boolean busy, IntFunction<List<String>> victims,
                              String user, long now) {
    String group = config.name();
    if (busy) {
      throw new CommandRefused(409, group + " has an action in progress; try again when it is done");
    }
    int target = size + by;
    if (target > config.max() || target < config.min()) {
      throw new CommandRefused(409, String.format(
          "scaling %s by %+d would take it from %d to %d, outside min %d and max %d: change the bounds first", group,
          by, size, target, config.min(), config.max()));
    }
    List<String> chosen = by < 0 ? victims.apply(-by) : List.of();
    if (chosen.size() < -by) {
      throw new CommandRefused(409, String.format(
          "only %d instance(s) of %s may go: the others protect themselves or are protected", chosen.size(), group));
    }
    return new Decision(group, now, by > 0 ? Decision.Outcome.GROW : Decision.Outcome.SHRINK, Decision.Rule.OPERATOR,
        Decision.Counts.NONE, size, 0, by, chosen,
        String.format("%s asked to scale %s by %+d (%d -> %d)%s", user, group, by, size, target,
            chosen.isEmpty() ? "" : ": terminate " + chosen));
  }
}
