package io.fleetvote.common.link;

import io.fleetvote.common.msg.JsonFields;
import io.fleetvote.common.msg.MessageException;
import io.vertx.core.AsyncResult;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * One frame of the agent link, the connection an agent holds to one coordinator: a JSON object whose {@code type}
 * says what it is. An agent sends {@code attest} first (its instance identity document, the cloud's signature of it,
 * its nonce; or, to resume, its instance id and the session credential of its last welcome), the coordinator answers
 * {@code welcome} (with a new credential, or the one resumed) or {@code refused} and closes; then either side sends:
 * <table>
 *   <caption>frames after the welcome</caption>
 *   <tr><th>type</th><th>from</th><th>fields</th><th>meaning</th></tr>
 *   <tr><td>{@code publish}</td><td>agent</td><td>address, body</td><td>publish on the cluster's bus</td></tr>
 *   <tr><td>{@code request}</td><td>agent</td><td>address, body, id, timeoutMs</td><td>a request; the answer is a
 *   {@code reply} or {@code fail} with the same id</td></tr>
 *   <tr><td>{@code subscribe}</td><td>agent</td><td>address</td><td>deliver what the address receives</td></tr>
 *   <tr><td>{@code message}</td><td>coordinator</td><td>address, body, id?</td><td>what a subscribed address received;
 *   with an id, the agent answers with {@code reply} or {@code fail}</td></tr>
 *   <tr><td>{@code reply} / {@code fail}</td><td>both</td><td>id, body / id, code, message</td><td>the answer to a
 *   request or to a message with an id</td></tr>
 *   <tr><td>{@code error}</td><td>coordinator</td><td>reason, message, id?</td><td>a frame of the agent's refused (the
 *   connection stays open)</td></tr>
 *   <tr><td>{@code ping} / {@code pong}</td><td>both</td><td>/ spreadMs?</td><td>liveness within the lease; a pong
 *   (and the welcome) may say over how long the agent spreads its reconnection when this coordinator goes</td></tr>
 *   <tr><td>{@code coordinators}</td><td>coordinator</td><td>coordinators (addresses, certificates)</td><td>every
 *   coordinator's gateway now (the welcome says it too): where to go when this one goes</td></tr>
 * </table>
 * Bodies are JSON objects. {@link #fromJson} checks the fields the type needs and nothing else is read.
 */
public record Frame(Type type, JsonObject fields) {

  /** The frame types; {@link #wire()} is the {@code type} field's value. */
  public enum Type {
    ATTEST, WELCOME, REFUSED, PUBLISH, REQUEST, SUBSCRIBE, MESSAGE, REPLY, FAIL, ERROR, PING, PONG, COORDINATORS;

    public String wire() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** Event-bus addresses: dotted names of letters, digits, dashes and underscores. */
  public static final Pattern ADDRESS = Pattern.compile("[A-Za-z0-9_.-]{1,200}");
  /** The longest a request may wait for its answer. */
  public static final long MAX_TIMEOUT_MS = 300_000;
  /** The longest a coordinator may ask its agents to spread their reconnection over. */
  public static final long MAX_SPREAD_MS = 60_000;

  public Frame {
    fields = fields.copy().put("type", type.wire());
  }

  /** The frame's JSON, as sent. */
  public JsonObject toJson() {
    return fields.copy();
  }

  public String address() {
    return fields.getString("address");
  }

  /** The body; an empty object when the type has none. */
  public JsonObject body() {
    JsonObject body = fields.getJsonObject("body");
    return body == null ? new JsonObject() : body;
  }

  /** The request id; null when the frame has none. */
  public Long id() {
    return fields.getLong("id");
  }

  public static Frame publish(String address, JsonObject body) {
    return new Frame(Type.PUBLISH, new JsonObject().put("address", address).put("body", body));
  }

  public static Frame request(String address, JsonObject body, long id, long timeoutMs) {
    return new Frame(Type.REQUEST, new JsonObject().put("address", address).put("body", body).put("id", id)
        .put("timeoutMs", timeoutMs));
  }

  public static Frame subscribe(String address) {
    return new Frame(Type.SUBSCRIBE, new JsonObject().put("address", address));
  }

  /** A message for a subscribed address; {@code id} null for a publish, else the agent must answer it. */
  public static Frame message(String address, JsonObject body, Long id) {
    return new Frame(Type.MESSAGE, withId(new JsonObject().put("address", address).put("body", body), id));
  }

  public static Frame reply(long id, JsonObject body) {
    return new Frame(Type.REPLY, new JsonObject().put("id", id).put("body", body));
  }

  /** The answer to request {@code id} from the event bus's answer to it: a reply, or a fail with its code. */
  public static Frame answer(long id, AsyncResult<Message<Object>> answer) {
    if (answer.succeeded()) {
      Object body = answer.result().body();
      return reply(id, body instanceof JsonObject json ? json : new JsonObject());
    }
    int code = answer.cause() instanceof ReplyException e ? e.failureCode() : 500;
    return fail(id, Math.max(-1, Math.min(999, code)), String.valueOf(answer.cause().getMessage()));
  }

  public static Frame fail(long id, int code, String message) {
    return new Frame(Type.FAIL, new JsonObject().put("id", id).put("code", code).put("message", message));
  }

  /** A frame refused; {@code id} the refused request's, or null. */
  public static Frame error(String reason, String message, Long id) {
    return new Frame(Type.ERROR, withId(new JsonObject().put("reason", reason).put("message", message), id));
  }

  private static JsonObject withId(JsonObject fields, Long id) {
    return id == null ? fields : fields.put("id", id);
  }

  public static Frame refused(String reason, String message) {
    return new Frame(Type.REFUSED, new JsonObject().put("reason", reason).put("message", message));
  }

  public static Frame ping() {
    return new Frame(Type.PING, new JsonObject());
  }

  public static Frame pong() {
    return new Frame(Type.PONG, new JsonObject());
  }

  /** A pong that says over how long ({@code spreadMs}) its agent spreads its reconnection if this coordinator goes. */
  public static Frame pong(long spreadMs) {
    return new Frame(Type.PONG, new JsonObject().put("spreadMs", spreadMs));
  }

  /** Reads a frame, checking what its type needs; a {@link MessageException} names what was wrong. */
  public static Frame fromJson(JsonObject json) {
    String wire = JsonFields.string(json, "type", 20, Pattern.compile("[a-z]+"));
    Type type;
    try {
      type = Type.valueOf(wire.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new MessageException("type", "unknown frame type '" + wire + "'");
    }
    switch (type) {
      case PUBLISH, SUBSCRIBE, MESSAGE -> {
        JsonFields.string(json, "address", 200, ADDRESS);
        if (type != Type.SUBSCRIBE) {
          JsonFields.object(json, "body");
        }
        if (type == Type.MESSAGE) {
          JsonFields.optionalLong(json, "id", 0, Long.MAX_VALUE);
        }
      }
      case REQUEST -> {
        JsonFields.string(json, "address", 200, ADDRESS);
        JsonFields.object(json, "body");
        JsonFields.longValue(json, "id", 0, Long.MAX_VALUE);
        JsonFields.longValue(json, "timeoutMs", 1, MAX_TIMEOUT_MS);
      }
      case REPLY -> {
        JsonFields.longValue(json, "id", 0, Long.MAX_VALUE);
        JsonFields.object(json, "body");
      }
      case FAIL -> {
        JsonFields.longValue(json, "id", 0, Long.MAX_VALUE);
        JsonFields.intValue(json, "code", -1, 999);
        JsonFields.string(json, "message", 2000, null);
      }
      case ERROR, REFUSED -> {
        JsonFields.string(json, "reason", 40, null);
        JsonFields.string(json, "message", 2000, null);
      }
      case ATTEST -> {
        if (json.getValue("credential") != null) {
          JsonFields.string(json, "instanceId", 64, null);
          JsonFields.string(json, "credential", 256, null);
        } else {
          JsonFields.string(json, "document", 8192, null);
          JsonFields.string(json, "signature", 4096, null);
          JsonFields.string(json, "nonce", 256, null);
        }
      }
      case WELCOME -> {
        JsonFields.string(json, "instanceId", 64, null);
        JsonFields.string(json, "coordinator", 200, null);
        JsonFields.longValue(json, "leaseMs", 100, 600_000);
        JsonFields.optionalLong(json, "spreadMs", 0, MAX_SPREAD_MS);
      }
      case COORDINATORS -> JsonFields.object(json, "coordinators");
      case PONG -> JsonFields.optionalLong(json, "spreadMs", 0, MAX_SPREAD_MS);
      case PING -> {
        // nothing else
      }
    }
    JsonObject fields = json.copy();
    fields.remove("type");
    return new Frame(type, fields);
  }
}
