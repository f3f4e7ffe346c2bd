package io.fleetvote.coordinator.leader;

import io.vertx.core.json.JsonObject;

/**
 * The leader lease as stored in the cluster: who holds it, on which Hazelcast member, with which fencing epoch, until
 * when (cluster time). A new holder always gets a higher epoch than any before it.
 *
 * @param holder    the coordinator's id (its API address)
 * @param member    the Hazelcast member UUID of the holder
 * @param epoch     the fencing epoch: every action names it
 * @param expiresAt cluster time, milliseconds
 */
public record Lease(String holder, String member, long epoch, long expiresAt) {

  public String toJson() {
    return new JsonObject().put("holder", holder).put("member", member).put("epoch", epoch)
        .put("expiresAt", expiresAt).encode();
  }

  public static Lease fromJson(String json) {
    JsonObject object = new JsonObject(json);
    return new Lease(object.getString("holder"), object.getString("member"), object.getLong("epoch"),
        object.getLong("expiresAt"));
  }
}
