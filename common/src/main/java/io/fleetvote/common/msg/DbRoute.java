package io.fleetvote.common.msg;

import io.fleetvote.common.Ids;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * Where the DB pair's writes and reads go, as the leader coordinator sees it: the master (the one server of the LBs'
 * write backend; none while no server may take writes) and the replicas that replicate (the read backend). Published
 * on {@link io.fleetvote.common.Addresses#DB_ROUTES} every tick; an LB agent follows the route of the highest fence it
 * has heard (a deposed leader's older route is ignored).
 *
 * @param deployment the deployment
 * @param pair       the pair's name
 * @param fence      the pair's fence when the leader sent it ({@link DbCommand#epoch})
 * @param sentAt     when, epoch milliseconds
 * @param master     the master; null when none may take writes
 * @param replicas   the replicas that replicate
 */
public record DbRoute(String deployment, String pair, long fence, long sentAt, Endpoint master,
                      List<Endpoint> replicas) {

  /** A MariaDB server: the instance and where it listens. */
  public record Endpoint(String instanceId, String host, int port) {

    public JsonObject toJson() {
      return new JsonObject().put("instanceId", instanceId).put("host", host).put("port", port);
    }

    static Endpoint fromJson(Object body) {
      JsonObject json = JsonFields.object(body, "endpoint");
      return new Endpoint(JsonFields.string(json, "instanceId", 19, Ids.INSTANCE_ID),
          JsonFields.string(json, "host", 15, Ids.IPV4), JsonFields.intValue(json, "port", 1, 65_535));
    }
  }

  public DbRoute {
    replicas = List.copyOf(replicas);
  }

  public JsonObject toJson() {
    JsonArray reads = new JsonArray();
    replicas.forEach(r -> reads.add(r.toJson()));
    return new JsonObject().put("deployment", deployment).put("pair", pair).put("fence", fence).put("sentAt", sentAt)
        .put("master", master == null ? null : master.toJson()).put("replicas", reads);
  }

  /** Reads and validates a route; throws {@link MessageException} naming the first bad field. */
  public static DbRoute fromJson(Object body) {
    JsonObject json = JsonFields.object(body, "DB route");
    Object master = json.getValue("master");
    Endpoint write;
    try {
      write = master == null ? null : Endpoint.fromJson(master);
    } catch (MessageException e) {
      throw e.within("master");
    }
    return new DbRoute(JsonFields.string(json, "deployment", 64, Ids.NAME), JsonFields.string(json, "pair", 40,
        Ids.NAME), JsonFields.longValue(json, "fence", 0, Long.MAX_VALUE),
        JsonFields.longValue(json, "sentAt", 0, Long.MAX_VALUE), write,
        JsonFields.objects(json, "replicas", 16, Endpoint::fromJson));
  }
}
