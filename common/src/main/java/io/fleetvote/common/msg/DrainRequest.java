package io.fleetvote.common.msg;

import io.vertx.core.json.JsonObject;

import java.util.Locale;

/**
 * The leader coordinator asking an app instance's agent to leave its LBs, or to come back (request/reply on
 * {@link io.fleetvote.common.Addresses#agentDrain}); answered with a {@link DrainReply} once every LB answered.
 *
 * @param kind               what the instance is to do
 * @param drainTimeoutMillis how long sessions may take to finish at each LB before they are shut (not used by
 *                           {@link Kind#UNDRAIN})
 */
public record DrainRequest(Kind kind, long drainTimeoutMillis) {

  /** Why the instance leaves its LBs, or that it comes back. */
  public enum Kind {
    /** It is about to be terminated (scale-in, replacement): it leaves for good. */
    LEAVE,
    /** An operator takes it out of rotation; it keeps running and can come back. */
    DRAIN,
    /** An operator puts a drained instance back in rotation. */
    UNDRAIN
  }

  public JsonObject toJson() {
    return new JsonObject().put("kind", kind.name().toLowerCase(Locale.ROOT))
        .put("drainTimeoutMillis", drainTimeoutMillis);
  }

  /** Reads and validates a request; throws {@link MessageException} naming the first bad field. */
  public static DrainRequest fromJson(Object body) {
    JsonObject json = JsonFields.object(body, "drain");
    return new DrainRequest(JsonFields.enumValue(json, "kind", Kind.class),
        JsonFields.longValue(json, "drainTimeoutMillis", 0, DeregisterRequest.MAX_DRAIN_TIMEOUT_MILLIS));
  }
}
