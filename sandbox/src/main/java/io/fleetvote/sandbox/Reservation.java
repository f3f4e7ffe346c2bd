package io.fleetvote.sandbox;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * What one RunInstances call created. A call with a client token is remembered with the fingerprint of its
 * parameters, so a retry gets the same reservation back and a different call with the same token is refused.
 *
 * @param id          {@code r-...}
 * @param instanceIds in launch order
 * @param clientToken null when the caller sent none
 * @param fingerprint the canonical parameters of the call
 */
public record Reservation(String id, List<String> instanceIds, String clientToken, String fingerprint) {

  public Reservation {
    instanceIds = List.copyOf(instanceIds);
  }

  JsonObject toJson() {
    return new JsonObject().put("id", id).put("instanceIds", new JsonArray(instanceIds))
        .put("clientToken", clientToken).put("fingerprint", fingerprint);
  }

  @SuppressWarnings("unchecked")
  static Reservation fromJson(JsonObject json) {
    return new Reservation(json.getString("id"), (List<String>) json.getJsonArray("instanceIds").getList(),
        json.getString("clientToken"), json.getString("fingerprint"));
  }
}
