package io.fleetvote.coordinator.scaling;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * What operators changed of a group, kept in a replicated map under split-brain protection so every coordinator
 * (and the next leader) applies it: bounds that replace the groups file's, whether autoscaling is paused, the
 * instances protected from scale-in, and the instances drained out of rotation (they no longer count in the group
 * until undrained). Null bounds: the file's.
 */
public record GroupControl(Integer min, Integer max, boolean paused, Set<String> protectedInstances,
                           Set<String> drained, String by, long at) {

  public static final GroupControl NONE = new GroupControl(null, null, false, Set.of(), Set.of(), null, 0);

  public GroupControl {
    protectedInstances = Set.copyOf(protectedInstances);
    drained = Set.copyOf(drained);
  }

  public GroupControl withBounds(int newMin, int newMax, String who, long when) {
    return new GroupControl(newMin, newMax, paused, protectedInstances, drained, who, when);
  }

  public GroupControl withPaused(boolean pause, String who, long when) {
    return new GroupControl(min, max, pause, protectedInstances, drained, who, when);
  }

  public GroupControl withProtected(String instanceId, boolean protect, String who, long when) {
    return new GroupControl(min, max, paused, toggled(protectedInstances, instanceId, protect), drained, who, when);
  }

  public GroupControl withDrained(String instanceId, boolean drain, String who, long when) {
    return new GroupControl(min, max, paused, protectedInstances, toggled(drained, instanceId, drain), who, when);
  }

  /** The same without the instances that are gone from the fleet. */
  public GroupControl retaining(Set<String> instanceIds) {
    Set<String> kept = new TreeSet<>(drained);
    kept.retainAll(instanceIds);
    Set<String> protectedKept = new TreeSet<>(protectedInstances);
    protectedKept.retainAll(instanceIds);
    return new GroupControl(min, max, paused, protectedKept, kept, by, at);
  }

  private static Set<String> toggled(Set<String> ids, String instanceId, boolean in) {
    Set<String> changed = new TreeSet<>(ids);
    if (in) {
      changed.add(instanceId);
    } else {
      changed.remove(instanceId);
    }
    return changed;
  }

  /** The group's configuration with these bounds. */
  public GroupConfig apply(GroupConfig file) {
    return min == null ? file : file.withBounds(min, max);
  }

  public JsonObject toJson() {
    return new JsonObject().put("min", min).put("max", max).put("paused", paused)
        .put("protected", new JsonArray(List.copyOf(new TreeSet<>(protectedInstances))))
        .put("drained", new JsonArray(List.copyOf(new TreeSet<>(drained)))).put("by", by).put("at", at);
  }

  @SuppressWarnings("unchecked")
  public static GroupControl fromJson(JsonObject json) {
    return new GroupControl(json.getInteger("min"), json.getInteger("max"), json.getBoolean("paused", false),
        Set.copyOf((List<String>) json.getJsonArray("protected", new JsonArray()).getList()),
        Set.copyOf((List<String>) json.getJsonArray("drained", new JsonArray()).getList()), json.getString("by"),
        json.getLong("at", 0L));
  }
}
