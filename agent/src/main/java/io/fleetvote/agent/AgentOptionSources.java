package io.fleetvote.agent;

import io.fleetvote.common.Tags;
import io.fleetvote.common.msg.JsonFields;
import io.fleetvote.common.msg.MessageException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * The places {@link AgentOptions} come from, and their precedence: command line &gt; config file &gt; user-data
 * &gt; instance tags &gt; defaults. Each field, and each field of {@code cluster}, is taken from the highest
 * source that sets it. Only the merged result is validated, so a value that is overridden is never used or
 * checked; a bad value that is used is reported under the name its source gives it
 * ({@code user-data fleetvote.group}, {@code tag fleetvote:role}). No I/O here: callers hand in the texts.
 */
final class AgentOptionSources {

  /** The object user-data and config files keep the agent's options in. */
  static final String ROOT = "fleetvote";

  /**
   * One source of options.
   *
   * @param fields the {@link AgentOptions} JSON fields this source sets
   * @param naming how an error names a field of this source, from its {@link AgentOptions} JSON path
   */
  record Source(JsonObject fields, UnaryOperator<String> naming) {
  }

  private AgentOptionSources() {
  }

  /** Options given on the command line, already in {@link AgentOptions} JSON shape. */
  static Source commandLine(JsonObject fields) {
    return new Source(fields, field -> "command line " + field);
  }

  /** The {@code fleetvote} object of a {@code --config} file, which must have one. */
  static Source configFile(String path, String text) {
    String name = "config file " + path;
    JsonObject json = JsonFields.object(text, name);
    if (json.getValue(ROOT) == null) {
      throw new MessageException(name + " " + ROOT, "is missing");
    }
    return rooted(name, json);
  }

  /**
   * The {@code fleetvote} object of the user-data; empty when the user-data is empty, not JSON (a shell script)
   * or JSON without one, since the instance may use its user-data for something else.
   */
  static Optional<Source> userData(String text) {
    JsonObject json;
    try {
      json = JsonFields.object(text, "user-data");
    } catch (MessageException notJson) {
      return Optional.empty();
    }
    return json.getValue(ROOT) == null ? Optional.empty() : Optional.of(rooted("user-data", json));
  }

  /** Deployment, group and roles (comma-separated) from the instance's {@code fleetvote:*} tags; blank ones are unset. */
  static Source tags(Map<String, String> tags) {
    JsonObject fields = new JsonObject();
    putTag(fields, "deployment", tags.get(Tags.DEPLOYMENT));
    putTag(fields, "group", tags.get(Tags.GROUP));
    String roles = tags.get(Tags.ROLE);
    if (roles != null && !roles.isBlank()) {
      fields.put("roles", new JsonArray(Arrays.stream(roles.split(",")).map(String::trim)
          .filter(role -> !role.isEmpty()).toList()));
    }
    return new Source(fields, field -> "tag " + (field.startsWith("roles") ? Tags.ROLE
        : field.equals("group") ? Tags.GROUP : Tags.DEPLOYMENT));
  }

  /** Merges the sources, the highest precedence first, over the defaults and validates the result. */
  static AgentOptions resolve(List<Source> highestFirst) {
    JsonObject merged = new JsonObject();
    for (int i = highestFirst.size() - 1; i >= 0; i--) {
      // mergeIn merges nested objects in place: copy, so a source's own fields still say what it set.
      merged.mergeIn(highestFirst.get(i).fields().copy(), true);
    }
    try {
      return new AgentOptions(merged);
    } catch (MessageException e) {
      String[] path = e.field().replaceAll("\\[\\d+]", "").split("\\.");
      throw highestFirst.stream()
          .filter(source -> sets(source.fields(), path))
          .findFirst()
          .map(source -> new MessageException(source.naming().apply(e.field()), e.problem()))
          .orElse(e);
    }
  }

  private static Source rooted(String name, JsonObject json) {
    try {
      return new Source(JsonFields.object(json, ROOT), field -> name + " " + ROOT + "." + field);
    } catch (MessageException e) {
      throw new MessageException(name + " " + ROOT, e.problem());
    }
  }

  private static void putTag(JsonObject fields, String field, String value) {
    if (value != null && !value.isBlank()) {
      fields.put(field, value.trim());
    }
  }

  private static boolean sets(JsonObject fields, String[] path) {
    Object value = fields;
    for (String key : path) {
      if (!(value instanceof JsonObject object) || object.getValue(key) == null) {
        return false;
      }
      value = object.getValue(key);
    }
    return true;
  }
}
