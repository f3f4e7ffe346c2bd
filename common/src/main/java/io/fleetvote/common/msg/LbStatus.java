package io.fleetvote.common.msg;

import io.fleetvote.common.Ids;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * An LB agent's HAProxy backend, server by server, published on {@link io.fleetvote.common.Addresses#LB_STATUS}
 * after every reconcile for the dashboards.
 *
 * @param instanceId the LB instance
 * @param deployment the Fleetvote deployment
 * @param serves     the group its backend balances
 * @param sentAt     when this was sent, epoch milliseconds
 * @param servers    the backend's servers
 * @param failOpen   no server passes its health checks, and HAProxy routes to those that accept connections
 *                   (the LB fails open rather than answering 503 for want of servers)
 * @param note       what the LB says about its backend in a sentence (why it fails open); empty when all is well
 * @param db         its DB pair's write and read backends; null for an LB without DB frontends
 */
public record LbStatus(String instanceId, String deployment, String serves, long sentAt, List<Server> servers,
                       boolean failOpen, String note, Db db) {

  public LbStatus {
    servers = List.copyOf(servers);
    note = note == null ? "" : note;
  }

  /** Without DB frontends. */
  public LbStatus(String instanceId, String deployment, String serves, long sentAt, List<Server> servers,
                  boolean failOpen, String note) {
    this(instanceId, deployment, serves, sentAt, servers, failOpen, note, null);
  }

  /**
   * The DB backends as the LB last set them from the leader's route.
   *
   * @param write   the one server of the write backend (the master's instance), null for none
   * @param read    the read backend's servers (the replicas' instances)
   * @param fence   the fence of the route they follow, 0 before the first
   * @param problem why the last change did not apply, empty when it did
   */
  public record Db(String write, List<String> read, long fence, String problem) {

    public Db {
      read = List.copyOf(read);
      problem = problem == null ? "" : problem;
    }

    public JsonObject toJson() {
      return new JsonObject().put("write", write).put("read", new JsonArray(new ArrayList<Object>(read)))
          .put("fence", fence).put("problem", problem);
    }

    static Db fromJson(JsonObject json) {
      return new Db(JsonFields.optionalString(json, "write", 19, Ids.INSTANCE_ID),
          JsonFields.strings(json, "read", MAX_SERVERS, 19, Ids.INSTANCE_ID),
          JsonFields.longValue(json, "fence", 0, Long.MAX_VALUE, 0),
          JsonFields.optionalString(json, "problem", MAX_NOTE_LENGTH, null));
    }
  }

  /** At most this many servers in one status: a backend is one group's instances. */
  public static final int MAX_SERVERS = 5000;
  private static final Pattern STATE = Pattern.compile("UP|DOWN|DRAIN|MAINT");
  /** HAProxy server names: Fleetvote uses instance ids, but any server in the backend is shown. */
  private static final Pattern SERVER_NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");
  private static final int MAX_NOTE_LENGTH = 500;
  /** HAProxy's highest server weight. */
  private static final int MAX_WEIGHT = 256;

  /**
   * @param name     the server name: the app instance's id
   * @param state    UP, DOWN, DRAIN or MAINT
   * @param check    HAProxy's last check result (e.g. L7OK), empty before the first
   * @param sessions current sessions
   * @param total    requests it has served
   * @param weight   its current weight in HAProxy (0..256; its agent lowers it when the instance is busy)
   */
  public record Server(String name, String state, String check, long sessions, long total, int weight) {

    JsonObject toJson() {
      return new JsonObject().put("name", name).put("state", state).put("check", check).put("sessions", sessions)
          .put("total", total).put("weight", weight);
    }
  }

  public JsonObject toJson() {
    JsonArray list = new JsonArray();
    servers.forEach(s -> list.add(s.toJson()));
    return new JsonObject().put("instanceId", instanceId).put("deployment", deployment).put("serves", serves)
        .put("sentAt", sentAt).put("servers", list).put("failOpen", failOpen).put("note", note)
        .put("db", db == null ? null : db.toJson());
  }

  /** Reads and validates a status; throws {@link MessageException} naming the first bad field. */
  public static LbStatus fromJson(Object body) {
    JsonObject json = JsonFields.object(body, "status");
    if (!(json.getValue("servers") instanceof JsonArray array)) {
      throw new MessageException("servers", "must be a list");
    }
    if (array.size() > MAX_SERVERS) {
      throw new MessageException("servers", "lists " + array.size() + " servers, more than " + MAX_SERVERS);
    }
    List<Server> servers = new ArrayList<>();
    for (int i = 0; i < array.size(); i++) {
      JsonObject item = JsonFields.object(array.getValue(i), "servers[" + i + "]");
      try {
        servers.add(new Server(JsonFields.string(item, "name", 64, SERVER_NAME),
            JsonFields.string(item, "state", 5, STATE), JsonFields.string(item, "check", 32, null),
            JsonFields.longValue(item, "sessions", 0, Long.MAX_VALUE),
            JsonFields.longValue(item, "total", 0, Long.MAX_VALUE),
            JsonFields.intValue(item, "weight", 0, MAX_WEIGHT, 0)));
      } catch (MessageException e) {
        throw e.within("servers[" + i + "]");
      }
    }
    return new LbStatus(
        JsonFields.string(json, "instanceId", 19, Ids.INSTANCE_ID),
        JsonFields.string(json, "deployment", 63, Ids.NAME),
        JsonFields.string(json, "serves", 63, Ids.NAME),
        JsonFields.longValue(json, "sentAt", 0, Long.MAX_VALUE),
        servers,
        JsonFields.booleanValue(json, "failOpen", false),
        JsonFields.optionalString(json, "note", MAX_NOTE_LENGTH, null),
        db(json));
  }

  private static Db db(JsonObject json) {
    if (json.getValue("db") == null) {
      return null;
    }
    try {
      return Db.fromJson(JsonFields.object(json.getValue("db"), "db"));
    } catch (MessageException e) {
      throw e.within("db");
    }
  }
}
