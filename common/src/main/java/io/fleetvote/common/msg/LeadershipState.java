package io.fleetvote.common.msg;

import io.vertx.core.json.JsonObject;

/**
 * What one coordinator knows about leadership now, as its autoscaler, API and dashboard show it and as it is
 * published on {@link io.fleetvote.common.Addresses#LEADERSHIP}.
 *
 * @param leader      this coordinator leads now (its lease renewed recently enough)
 * @param epoch       the fencing epoch it leads in (0 when standby)
 * @param quorum      a majority of the expected coordinators is in its view of the cluster
 * @param why         why it leads or not, for a person
 * @param holder      the coordinator the lease names, as last seen (null: none seen yet)
 * @param holderEpoch the epoch of that lease (0 when none)
 */
public record LeadershipState(boolean leader, long epoch, boolean quorum, String why, String holder,
                              long holderEpoch) {

  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("leader", leader).put("epoch", epoch).put("quorum", quorum).put("why", why);
    if (holder != null) {
      json.put("holder", holder).put("holderEpoch", holderEpoch);
    }
    return json;
  }

  /** Reads and validates a state; throws {@link MessageException} naming the first bad field. */
  public static LeadershipState fromJson(Object body) {
    JsonObject json = JsonFields.object(body, "leadership state");
    return new LeadershipState(JsonFields.booleanValue(json, "leader", false),
        JsonFields.longValue(json, "epoch", 0, Long.MAX_VALUE), JsonFields.booleanValue(json, "quorum", false),
        JsonFields.string(json, "why", 4000, null), JsonFields.optionalString(json, "holder", 300, null),
        JsonFields.longValue(json, "holderEpoch", 0, Long.MAX_VALUE, 0));
  }
}
