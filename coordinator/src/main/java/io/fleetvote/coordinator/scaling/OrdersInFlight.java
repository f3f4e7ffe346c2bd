package io.fleetvote.coordinator.scaling;

import io.fleetvote.coordinator.ledger.LedgerEntry;
import io.fleetvote.coordinator.ledger.LedgerEntry.Action;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The orders the leader has sent and not finished, as the tally must see them: instances being launched (not in the
 * group yet, but counted so the next tick does not order them again), instances leaving (no longer capacity, never
 * chosen again), and the groups with a replacement under way (one at a time). Pure bookkeeping.
 */
public final class OrdersInFlight {

  private final Map<String, Integer> launches = new HashMap<>();
  private final Set<String> leaving = new HashSet<>();
  private final Set<String> replacing = new HashSet<>();
  /** Replacements whose launch is done (no longer a launch in flight) while their victim still goes. */
  private final Set<String> replacementsLaunched = new HashSet<>();

  /** An order is about to go out (or is carried on by a new leader). */
  public void started(LedgerEntry entry) {
    count(entry, true);
  }

  /** An order finished, done or failed, or was never sent. */
  public void finished(LedgerEntry entry) {
    count(entry, false);
  }

  /** A replacement's instances are in the fleet now: no longer a launch in flight, or the group would look too big. */
  public void replacementLaunched(LedgerEntry entry) {
    if (replacementsLaunched.add(entry.id())) {
      launches.merge(entry.group(), -entry.action().count(), Integer::sum);
    }
  }

  /** Instances ordered by launches that have not answered yet. */
  public int launches(String group) {
    return launches.getOrDefault(group, 0);
  }

  /** Instances being drained or terminated. */
  public Set<String> leaving() {
    return Set.copyOf(leaving);
  }

  public boolean isLeaving(String instanceId) {
    return leaving.contains(instanceId);
  }

  /** Whether the group has a replacement under way. */
  public boolean replacing(String group) {
    return replacing.contains(group);
  }

  private void count(LedgerEntry entry, boolean starting) {
    Action action = entry.action();
    boolean launchOver = !starting && replacementsLaunched.remove(entry.id());
    if (!action.kind().equals("terminate") && !launchOver) {
      launches.merge(entry.group(), starting ? action.count() : -action.count(), Integer::sum);
    }
    if (!action.kind().equals("launch")) {
      if (starting) {
        leaving.addAll(action.instances());
      } else {
        action.instances().forEach(leaving::remove);
      }
    }
    if (action.kind().equals("replace")) {
      if (starting) {
        replacing.add(entry.group());
      } else {
        replacing.remove(entry.group());
      }
    }
  }
}
