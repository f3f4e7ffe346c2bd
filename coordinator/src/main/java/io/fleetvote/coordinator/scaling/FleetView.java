package io.fleetvote.coordinator.scaling;

import io.fleetvote.coordinator.fleet.FleetInstance;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The fleet as this coordinator last knew it: what DescribeInstances answered, plus the instances this coordinator
 * launched since (the API may not list them yet) and minus those it terminated. Pure: the caller describes the fleet
 * and says when. Indexed by group, rebuilt only when the view changes (every decision asks for its group's).
 */
public final class FleetView {

  private final long keepUndescribedMillis;
  private final Map<String, FleetInstance> instances = new HashMap<>();
  private Map<String, List<FleetInstance>> byGroup = Map.of();
  private boolean changed;
  private boolean known;
  private long describedAt;

  /** @param keepUndescribedMillis how long a launch this coordinator saw stays in the view while describes miss it */
  public FleetView(long keepUndescribedMillis) {
    this.keepUndescribedMillis = keepUndescribedMillis;
  }

  /**
   * What a DescribeInstances sent at {@code sentAt} answered, at {@code now}. A live instance it does not list, launched
   * less than {@code keepUndescribedMillis} ago, stays: a launch this coordinator was just told of. Returns the ids now
   * in the view.
   */
  public Set<String> described(List<FleetInstance> described, long sentAt, long now) {
    describedAt = Math.max(describedAt, sentAt);
    Map<String, FleetInstance> fresh = new HashMap<>();
    described.forEach(i -> fresh.put(i.instanceId(), i));
    instances.values().stream().filter(i -> !fresh.containsKey(i.instanceId()) && i.alive()
            && now - i.launchTime().toEpochMilli() < keepUndescribedMillis)
        .forEach(i -> fresh.put(i.instanceId(), i));
    instances.clear();
    instances.putAll(fresh);
    changed = true;
    known = true;
    return Set.copyOf(instances.keySet());
  }

  /** Instances a launch answered with: in the view at once. */
  public void launched(Collection<FleetInstance> launched) {
    launched.forEach(i -> instances.put(i.instanceId(), i));
    changed = true;
  }

  /** Instances terminated: out of the view at once. */
  public void terminated(Collection<String> ids) {
    ids.forEach(instances::remove);
    changed = true;
  }

  public Optional<FleetInstance> get(String instanceId) {
    return Optional.ofNullable(instances.get(instanceId));
  }

  /** The group's instances, in any state the cloud still lists. */
  public List<FleetInstance> members(String group) {
    if (changed) {
      Map<String, List<FleetInstance>> index = new HashMap<>();
      instances.values().forEach(i -> index.computeIfAbsent(i.group(), g -> new ArrayList<>()).add(i));
      byGroup = index;
      changed = false;
    }
    return byGroup.getOrDefault(group, List.of());
  }

  /** Whether the fleet has been described at least once. */
  public boolean known() {
    return known;
  }

  /** When the newest successful describe was sent, epoch milliseconds (0: never). */
  public long describedAt() {
    return describedAt;
  }
}
