package io.fleetvote.coordinator.scaling;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * What operators changed of a group, kept in a replicated map under split-brain protection so every coordinator
 * (and the next leader) applies it: bounds that replace the groups file's, whether autoscaling is paused, and the
 * instances protected from scale-in. Null bounds: the file's.
 */
public record GroupControl(Integer min, Integer max, boolean paused, Set<String> protectedInstances, String by,
                           long at) {

  public static final GroupControl NONE = new GroupControl(null, null, false, Set.of(), null, 0);

  public GroupControl {
    protectedInstances = Set.copyOf(protectedInstances);
  }

  public GroupControl withBounds(int newMin, int newMax, String who, long when) {
    return new GroupControl(newMin, newMax, paused, protectedInstances, who, when);
  }

  public GroupControl withPaused(boolean pause, String who, long when) {
    return new GroupControl(min, max, pause, protectedInstances, who, when);
  }

  public GroupControl withProtected(String instanceId, boolean protect, String who, long when) {
    Set<String> ids = new TreeSet<>(protectedInstances);
    if (protect) {
      ids.add(instanceId);
    } else {
      ids.remove(instanceId);
    }
    return new GroupControl(min, max, paused, ids, who, when);
  }

  /** The group's configuration with these bounds. */
  public GroupConfig apply(GroupConfig file) {
    return min == null ? file : file.withBounds(min, max);
  }

  public JsonObject toJson() {
    return new JsonObject().put("min", min).put("max", max).put("paused", paused)
        .put("protected", new JsonArray(List.copyOf(new TreeSet<>(protectedInstances)))).put("by", by).put("at", at);
  }

  @SuppressWarnings("unchecked")
  public static GroupControl fromJson(JsonObject json) {
    return new GroupControl(json.getInteger("min"), json.getInteger("max"), json.getBoolean("paused", false),
        Set.copyOf((List<String>) json.getJsonArray("protected", new JsonArray()).getList()), json.getString("by"),
        json.getLong("at", 0L));
  }
}
