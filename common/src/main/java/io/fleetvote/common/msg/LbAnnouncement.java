package io.fleetvote.common.msg;

import io.fleetvote.common.Ids;
import io.vertx.core.json.JsonObject;

/**
 * An LB agent saying which group its HAProxy serves and where clients reach it. Published on
 * {@link io.fleetvote.common.Addresses#LB_ANNOUNCEMENTS} every gossip period; app agents of that group register with
 * every LB they hear from.
 *
 * @param instanceId   the LB instance
 * @param deployment   the Fleetvote deployment
 * @param serves       the group whose app instances its backend balances
 * @param address      the address of its frontend
 * @param frontendPort the port of its frontend
 * @param sentAt       when this was sent, epoch milliseconds
 * @param leaseMillis  how long the announcement counts after it is received
 * @param dbWritePort  the port of its TCP frontend to the DB pair's master (applications write there), 0 for none
 * @param dbReadPort   the port of its TCP frontend to the pair's replicas, 0 for none
 */
public record LbAnnouncement(String instanceId, String deployment, String serves, String address, int frontendPort,
                             long sentAt, long leaseMillis, int dbWritePort, int dbReadPort) {

  /** Without DB frontends. */
  public LbAnnouncement(String instanceId, String deployment, String serves, String address, int frontendPort,
                        long sentAt, long leaseMillis) {
    this(instanceId, deployment, serves, address, frontendPort, sentAt, leaseMillis, 0, 0);
  }

  public JsonObject toJson() {
    return new JsonObject().put("instanceId", instanceId).put("deployment", deployment).put("serves", serves)
        .put("address", address).put("frontendPort", frontendPort).put("sentAt", sentAt)
        .put("leaseMillis", leaseMillis).put("dbWritePort", dbWritePort).put("dbReadPort", dbReadPort);
  }

  /** Reads and validates an announcement; throws {@link MessageException} naming the first bad field. */
  public static LbAnnouncement fromJson(Object body) {
    JsonObject json = JsonFields.object(body, "announcement");
    return new LbAnnouncement(
        JsonFields.string(json, "instanceId", 19, Ids.INSTANCE_ID),
        JsonFields.string(json, "deployment", 63, Ids.NAME),
        JsonFields.string(json, "serves", 63, Ids.NAME),
        JsonFields.string(json, "address", 15, Ids.IPV4),
        JsonFields.intValue(json, "frontendPort", 1, 65535),
        JsonFields.longValue(json, "sentAt", 0, Long.MAX_VALUE),
        JsonFields.longValue(json, "leaseMillis", 1, Vote.MAX_LEASE_MILLIS),
        JsonFields.intValue(json, "dbWritePort", 0, 65535, 0),
        JsonFields.intValue(json, "dbReadPort", 0, 65535, 0));
  }
}
