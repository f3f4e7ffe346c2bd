package io.fleetvote.common.msg;

import io.fleetvote.common.Ids;
import io.vertx.core.json.JsonObject;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * An LB agent's answer to a {@link RegisterRequest} or {@link DeregisterRequest}.
 *
 * @param lb         the LB instance that answers
 * @param instanceId the server it is about
 * @param outcome    what happened
 * @param message    what HAProxy or the registrar said, for people
 * @param millis     how long it took
 */
public record RegistrationReply(String lb, String instanceId, Outcome outcome, String message, long millis) {

  private static final Pattern LB = Pattern.compile(Ids.INSTANCE_ID.pattern() + "|[a-z0-9.:-]{1,64}");

  /** What a registrar did. */
  public enum Outcome {
    /** In the backend and taking traffic: its first health check passed. */
    READY,
    /** Drained and deleted: {@code Server deleted.} */
    DELETED,
    /** Deleted after the drain timeout, its remaining sessions shut. */
    FORCED,
    /** There was no such server to remove. */
    NOT_REGISTERED,
    /** It could not be done; the message says why. */
    FAILED
  }

  public boolean succeeded() {
    return outcome != Outcome.FAILED;
  }

  public JsonObject toJson() {
    return new JsonObject().put("lb", lb).put("instanceId", instanceId)
        .put("outcome", outcome.name().toLowerCase(Locale.ROOT)).put("message", message).put("millis", millis);
  }

  /** Reads and validates a reply; throws {@link MessageException} naming the first bad field. */
  public static RegistrationReply fromJson(Object body) {
    JsonObject json = JsonFields.object(body, "reply");
    return new RegistrationReply(
        JsonFields.string(json, "lb", 64, LB),
        JsonFields.string(json, "instanceId", 19, Ids.INSTANCE_ID),
        JsonFields.enumValue(json, "outcome", Outcome.class),
        JsonFields.string(json, "message", 1000, null),
        JsonFields.longValue(json, "millis", 0, Long.MAX_VALUE));
  }
}
