package io.fleetvote.coordinator.scaling;

import io.fleetvote.coordinator.fleet.FleetInstance;
import io.fleetvote.coordinator.scaling.Decision.Counts;
import io.fleetvote.coordinator.scaling.Decision.Outcome;
import io.fleetvote.coordinator.scaling.Decision.Rule;
import io.fleetvote.coordinator.scaling.HealthTracker.Health;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Which unhealthy instance to replace, as AWS Auto Scaling's health replacement does but bounded the way its users
 * learned to want (reference/overload-and-capacity.md, c): pure logic on the caller's clock.
 * <ul>
 *   <li>An instance is due when it has been failing (app failing its agent's probe, or agent silent) for longer than
 *   {@code healthGraceMs}; one that has never been healthy yet (booting) only once it was launched longer than
 *   {@code bootGraceMs} ago.</li>
 *   <li>Never while most of the group (more than half) is failing at once: that is an outage to alert on; replacing
 *   instances would only churn the group (a broken dependency, a bad deploy).</li>
 *   <li>At most {@code maxReplacements} per {@code replacementWindowMs}, and one at a time: the next waits until the
 *   previous replacement is done.</li>
 *   <li>The one failing longest goes first.</li>
 * </ul>
 */
public final class HealingPolicy {

  private static final Counts NO_VOTES = new Counts(0, 0, 0, 0, 0, 0, 0, 0);

  private HealingPolicy() {
  }

  /**
   * @param members        the group's instances that count (alive, not leaving, not drained by an operator)
   * @param health         each member's health now
   * @param replacementsAt when the group's earlier replacements were decided (epoch ms)
   * @param replacing      a replacement of the group is under way
   * @return a replacement, a hold saying why there is none although an instance is due, or nothing
   */
  public static Optional<Decision> decide(GroupConfig config, List<FleetInstance> members,
                                          Map<String, Health> health, List<Long> replacementsAt, boolean replacing,
                                          long now) {
    if (!config.autoHeal() || replacing) {
      return Optional.empty();
    }
    List<FleetInstance> failing = members.stream()
        .filter(i -> health.getOrDefault(i.instanceId(), Health.OK).unhealthy(now, i.launchTime().toEpochMilli(),
            config.bootGraceMs()))
        .sorted(Comparator.comparingLong((FleetInstance i) -> health.get(i.instanceId()).since())
            .thenComparing(FleetInstance::instanceId))
        .toList();
    List<FleetInstance> due = failing.stream().filter(i -> health.get(i.instanceId()).due(now,
        i.launchTime().toEpochMilli(), config.healthGraceMs(), config.bootGraceMs())).toList();
    if (due.isEmpty()) {
      return Optional.empty();
    }
    String group = config.name();
    JsonArray unhealthy = new JsonArray();
    failing.forEach(i -> unhealthy.add(new JsonObject().put("instanceId", i.instanceId())
        .put("since", health.get(i.instanceId()).since()).put("why", health.get(i.instanceId()).why())));
    JsonObject details = new JsonObject().put("unhealthy", unhealthy);
    if (failing.size() * 2 > members.size()) {
      String list = failing.stream().map(i -> i.instanceId() + ": " + health.get(i.instanceId()).why())
          .collect(Collectors.joining("; "));
      return Optional.of(new Decision(group, now, Outcome.HOLD, Rule.OUTAGE, NO_VOTES, members.size(), 0, 0,
          List.of(), String.format("%d of %d instances of %s are unhealthy at once (%s): an outage to alert on, not "
              + "instances to replace", failing.size(), members.size(), group, list), details));
    }
    FleetInstance victim = due.get(0);
    Health sick = health.get(victim.instanceId());
    String unhealthyFor = String.format("%s has been unhealthy for %s (%s; grace %s)", victim.instanceId(),
        HealthTracker.seconds(now - sick.since()), sick.why(), HealthTracker.seconds(config.healthGraceMs()));
    long recent = replacementsAt.stream().filter(at -> now - at < config.replacementWindowMs()).count();
    if (recent >= config.maxReplacements()) {
      return Optional.of(new Decision(group, now, Outcome.HOLD, Rule.REPLACEMENT_LIMIT, NO_VOTES, members.size(), 0, 0,
          List.of(victim.instanceId()), String.format("%s, but %s had %d replacement(s) in the last %s (at most %d): "
              + "not replacing it yet", unhealthyFor, group, recent, HealthTracker.seconds(config.replacementWindowMs()),
              config.maxReplacements()), details));
    }
    return Optional.of(new Decision(group, now, Outcome.REPLACE, Rule.UNHEALTHY, NO_VOTES, members.size(), 0, 0,
        List.of(victim.instanceId()), unhealthyFor + ": replace it (launch first, then drain and terminate it)",
        details));
  }
}
