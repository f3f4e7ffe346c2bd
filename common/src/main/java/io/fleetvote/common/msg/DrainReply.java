package io.fleetvote.common.msg;

import io.fleetvote.common.Ids;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * An app agent's answer to a {@link DrainRequest}: what each of its LBs did.
 *
 * @param instanceId the instance that left (or came back)
 * @param replies    each LB's answer (none when the instance knows no LB)
 */
public record DrainReply(String instanceId, List<RegistrationReply> replies) {

  /** An instance has one LB per LB instance of its group; a few are plenty, hundreds are not an LB tier. */
  public static final int MAX_REPLIES = 100;

  public DrainReply {
    replies = List.copyOf(replies);
  }

  /** Every LB did what was asked (or had nothing to do). */
  public boolean succeeded() {
    return replies.stream().allMatch(RegistrationReply::succeeded);
  }

  /** What happened, for a person: {@code LB i-0b1 deleted it in 12 ms; LB i-0b2 failed: ...}. */
  public String sentence() {
    if (replies.isEmpty()) {
      return "no LB knew it";
    }
    return replies.stream().map(r -> "LB " + r.lb() + " " + switch (r.outcome()) {
      case READY -> "registered it";
      case DELETED -> "deleted it";
      case FORCED -> "deleted it after shutting its last sessions";
      case NOT_REGISTERED -> "did not have it";
      case FAILED -> "failed (" + r.message() + ")";
    } + " in " + r.millis() + " ms").collect(Collectors.joining("; "));
  }

  public JsonObject toJson() {
    JsonArray list = new JsonArray();
    replies.forEach(r -> list.add(r.toJson()));
    return new JsonObject().put("instanceId", instanceId).put("replies", list);
  }

  /** Reads and validates a reply; throws {@link MessageException} naming the first bad field. */
  public static DrainReply fromJson(Object body) {
    JsonObject json = JsonFields.object(body, "drain reply");
    if (!(json.getValue("replies") instanceof JsonArray array)) {
      throw new MessageException("replies", "must be a list");
    }
    if (array.size() > MAX_REPLIES) {
      throw new MessageException("replies", "lists " + array.size() + " replies, more than " + MAX_REPLIES);
    }
    List<RegistrationReply> replies = new ArrayList<>();
    for (int i = 0; i < array.size(); i++) {
      try {
        replies.add(RegistrationReply.fromJson(array.getValue(i)));
      } catch (MessageException e) {
        throw e.within("replies[" + i + "]");
      }
    }
    return new DrainReply(JsonFields.string(json, "instanceId", 19, Ids.INSTANCE_ID), replies);
  }
}
