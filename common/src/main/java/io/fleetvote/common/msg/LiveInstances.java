package io.fleetvote.common.msg;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * A coordinator's live registry as it answers {@link io.fleetvote.common.Addresses#REGISTRY_QUERY}: each live agent's
 * last heartbeat and how long ago it came, sorted by instance id. On the wire each entry is the heartbeat's JSON plus
 * {@code lastSeenMillisAgo}, as {@code GET /api/instances} shows it.
 */
public record LiveInstances(List<Entry> instances) {

  /** More instances than one deployment runs. */
  public static final int MAX_INSTANCES = 100_000;

  public LiveInstances {
    instances = List.copyOf(instances);
  }

  /** One live agent. */
  public record Entry(AgentHeartbeat heartbeat, long lastSeenMillisAgo) {

    public JsonObject toJson() {
      return heartbeat.toJson().put("lastSeenMillisAgo", lastSeenMillisAgo);
    }

    public static Entry fromJson(Object body) {
      JsonObject json = JsonFields.object(body, "instance");
      return new Entry(AgentHeartbeat.fromJson(json), JsonFields.longValue(json, "lastSeenMillisAgo", 0,
          Long.MAX_VALUE));
    }
  }

  public JsonObject toJson() {
    JsonArray list = new JsonArray();
    instances.forEach(e -> list.add(e.toJson()));
    return new JsonObject().put("instances", list);
  }

  /** Reads and validates a registry's answer; throws {@link MessageException} naming the first bad field. */
  public static LiveInstances fromJson(Object body) {
    JsonObject json = JsonFields.object(body, "live instances");
    return new LiveInstances(JsonFields.objects(json, "instances", MAX_INSTANCES, Entry::fromJson));
  }
}
