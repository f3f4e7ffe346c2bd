package io.fleetvote.common.msg;

import io.fleetvote.common.Ids;
import io.vertx.core.json.JsonObject;

import java.util.Locale;

/**
 * An operator's action, from a coordinator's HTTP API to its autoscaler and on to the leader
 * ({@link io.fleetvote.common.Addresses#SCALING_COMMAND}, {@link io.fleetvote.common.Addresses#coordinatorCommands}).
 * Group actions name a group, instance actions an instance; bounds carry min and max, scale carries by.
 *
 * @param kind     what to do
 * @param target   the group or the instance it applies to
 * @param min      bounds only: the new minimum
 * @param max      bounds only: the new maximum
 * @param by       scale only: instances to add (positive) or remove (negative)
 * @param user     who asked (the ledger's actor)
 */
public record OperatorCommand(Kind kind, String target, int min, int max, int by, String user) {

  /** The largest group a command may ask for (as in the groups file). */
  public static final int MAX_SIZE = 1000;
  private static final java.util.regex.Pattern USER = java.util.regex.Pattern.compile("[A-Za-z0-9._@-]{1,64}");

  public enum Kind {
    BOUNDS, SCALE, PAUSE, RESUME, PROTECT, UNPROTECT, DRAIN, UNDRAIN;

    /** True for the actions on a group, false for those on an instance. */
    public boolean onGroup() {
      return this == BOUNDS || this == SCALE || this == PAUSE || this == RESUME;
    }

    public String word() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public static OperatorCommand bounds(String group, int min, int max, String user) {
    return new OperatorCommand(Kind.BOUNDS, group, min, max, 0, user);
  }

  public static OperatorCommand scale(String group, int by, String user) {
    return new OperatorCommand(Kind.SCALE, group, 0, 0, by, user);
  }

  public static OperatorCommand of(Kind kind, String target, String user) {
    return new OperatorCommand(kind, target, 0, 0, 0, user);
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("kind", kind.word()).put("target", target).put("user", user);
    if (kind == Kind.BOUNDS) {
      json.put("min", min).put("max", max);
    }
    if (kind == Kind.SCALE) {
      json.put("by", by);
    }
    return json;
  }

  /** Reads and validates a command; throws {@link MessageException} naming the first bad field. */
  public static OperatorCommand fromJson(Object body) {
    JsonObject json = JsonFields.object(body, "command");
    Kind kind = JsonFields.enumValue(json, "kind", Kind.class);
    String target = kind.onGroup() ? JsonFields.string(json, "target", 40, Ids.NAME)
        : JsonFields.string(json, "target", 19, Ids.INSTANCE_ID);
    String user = JsonFields.string(json, "user", 64, USER);
    return switch (kind) {
      case BOUNDS -> {
        int min = JsonFields.intValue(json, "min", 0, MAX_SIZE);
        int max = JsonFields.intValue(json, "max", 1, MAX_SIZE);
        if (max < min) {
          throw new MessageException("max", max + " is below min (" + min + ")");
        }
        yield bounds(target, min, max, user);
      }
      case SCALE -> {
        int by = JsonFields.intValue(json, "by", -MAX_SIZE, MAX_SIZE);
        if (by == 0) {
          throw new MessageException("by", "must not be 0");
        }
        yield scale(target, by, user);
      }
      default -> of(kind, target, user);
    };
  }
}
