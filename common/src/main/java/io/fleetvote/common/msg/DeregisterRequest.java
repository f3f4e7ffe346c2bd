package io.fleetvote.common.msg;

import io.fleetvote.common.Ids;
import io.vertx.core.json.JsonObject;

/**
 * An app agent asking an LB agent to take its instance out of HAProxy gracefully (request/reply on
 * {@link io.fleetvote.common.Addresses#lbDeregister}): drain, wait for sessions and queue to reach 0 (at most
 * {@code drainTimeoutMillis}, then close what is left), maintenance, delete.
 *
 * @param instanceId         the server's name in HAProxy
 * @param drainTimeoutMillis how long sessions may take to finish before they are shut
 */
public record DeregisterRequest(String instanceId, long drainTimeoutMillis) {

  public static final long MAX_DRAIN_TIMEOUT_MILLIS = 3_600_000;

  public JsonObject toJson() {
    return new JsonObject().put("instanceId", instanceId).put("drainTimeoutMillis", drainTimeoutMillis);
  }

  /** Reads and validates a request; throws {@link MessageException} naming the first bad field. */
  public static DeregisterRequest fromJson(Object body) {
    JsonObject json = JsonFields.object(body, "deregistration");
    return new DeregisterRequest(
        JsonFields.string(json, "instanceId", 19, Ids.INSTANCE_ID),
        JsonFields.longValue(json, "drainTimeoutMillis", 0, MAX_DRAIN_TIMEOUT_MILLIS));
  }
}
