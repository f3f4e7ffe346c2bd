package io.fleetvote.common.msg;

import io.fleetvote.common.LogSafe;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Typed, validating reads from a {@link JsonObject}. Every failure is a {@link MessageException} naming
 * the field, so {@code fromJson} methods stay one line per field.
 */
public final class JsonFields {

  private JsonFields() {
  }

  /** Turns a bus body, a request body or a string into a JSON object, or says why it is not one. */
  public static JsonObject object(Object body, String what) {
    if (body instanceof JsonObject json) {
      return json;
    }
    try {
      if (body instanceof String text) {
        return new JsonObject(text);
      }
      if (body instanceof Buffer buffer) {
        return new JsonObject(buffer);
      }
    } catch (DecodeException | ClassCastException e) {
      throw new MessageException(what, "is not a JSON object");
    }
    throw new MessageException(what, body == null ? "is missing" : "is not a JSON object");
  }

  public static String string(JsonObject json, String field, int maxLength, Pattern pattern) {
    String value = optionalString(json, field, maxLength, pattern);
    if (value == null) {
      throw new MessageException(field, "is missing");
    }
    return value;
  }

  /** A string field that may be absent (null); when present it must fit {@code maxLength} and {@code pattern}. */
  public static String optionalString(JsonObject json, String field, int maxLength, Pattern pattern) {
    Object raw = json.getValue(field);
    return raw == null ? null : checkString(field, raw, maxLength, pattern);
  }

  public static long longValue(JsonObject json, String field, long min, long max) {
    Object raw = json.getValue(field);
    if (raw == null) {
      throw new MessageException(field, "is missing");
    }
    return checkLong(field, raw, min, max);
  }

  public static long longValue(JsonObject json, String field, long min, long max, long defaultValue) {
    Object raw = json.getValue(field);
    return raw == null ? defaultValue : checkLong(field, raw, min, max);
  }

  public static int intValue(JsonObject json, String field, int min, int max) {
    return (int) longValue(json, field, min, max);
  }

  public static int intValue(JsonObject json, String field, int min, int max, int defaultValue) {
    return (int) longValue(json, field, min, max, defaultValue);
  }

  public static double doubleValue(JsonObject json, String field, double min, double max) {
    Object raw = json.getValue(field);
    if (raw == null) {
      throw new MessageException(field, "is missing");
    }
    return checkDouble(field, raw, min, max);
  }

  public static double doubleValue(JsonObject json, String field, double min, double max, double defaultValue) {
    Object raw = json.getValue(field);
    return raw == null ? defaultValue : checkDouble(field, raw, min, max);
  }

  public static boolean booleanValue(JsonObject json, String field, boolean defaultValue) {
    Object raw = json.getValue(field);
    if (raw == null) {
      return defaultValue;
    }
    if (!(raw instanceof Boolean value)) {
      throw new MessageException(field, "must be true or false, got " + typeName(raw));
    }
    return value;
  }

  public static <E extends Enum<E>> E enumValue(JsonObject json, String field, Class<E> type) {
    return parseEnum(field, string(json, field, 64, null), type);
  }

  /** A list of enum names (case-insensitive), as a set; an absent field is an empty set. */
  public static <E extends Enum<E>> Set<E> enumValues(JsonObject json, String field, Class<E> type) {
    List<String> names = strings(json, field, type.getEnumConstants().length, 64, null);
    Set<E> values = EnumSet.noneOf(type);
    for (int i = 0; i < names.size(); i++) {
      values.add(parseEnum(field + "[" + i + "]", names.get(i), type));
    }
    return values;
  }

  private static <E extends Enum<E>> E parseEnum(String field, String text, Class<E> type) {
    List<String> names = new ArrayList<>();
    for (E constant : type.getEnumConstants()) {
      if (constant.name().equalsIgnoreCase(text)) {
        return constant;
      }
      names.add(constant.name().toLowerCase(Locale.ROOT));
    }
    throw new MessageException(field, "'" + LogSafe.printable(text, 40) + "' is not one of " + names);
  }

  public static JsonObject object(JsonObject json, String field) {
    Object raw = json.getValue(field);
    if (raw == null) {
      return new JsonObject();
    }
    if (!(raw instanceof JsonObject value)) {
      throw new MessageException(field, "must be an object, got " + typeName(raw));
    }
    return value;
  }

  /** A number in [min, max], or null when the field is absent or null. */
  public static Long optionalLong(JsonObject json, String field, long min, long max) {
    return json.getValue(field) == null ? null : longValue(json, field, min, max);
  }

  /** A number in [min, max], or null when the field is absent or null. */
  public static Double optionalDouble(JsonObject json, String field, double min, double max) {
    return json.getValue(field) == null ? null : doubleValue(json, field, min, max);
  }

  /**
   * A list of at most {@code maxItems} records, each read by {@code reader}; a bad one is named by its index. An
   * absent field is an empty list.
   */
  public static <T> List<T> objects(JsonObject json, String field, int maxItems, Function<Object, T> reader) {
    return list(json, field, maxItems, (name, item) -> {
      try {
        return reader.apply(item);
      } catch (MessageException e) {
        throw e.within(name);
      }
    });
  }

  /** A list of strings, each checked like {@link #string}; an absent field is an empty list. */
  public static List<String> strings(JsonObject json, String field, int maxItems, int maxLength, Pattern pattern) {
    return list(json, field, maxItems, (name, item) -> {
      if (item == null) {
        throw new MessageException(name, "is missing");
      }
      return checkString(name, item, maxLength, pattern);
    });
  }

  /** A list of at most {@code maxItems}, each item read by {@code reader} with its name ({@code field[i]}). */
  private static <T> List<T> list(JsonObject json, String field, int maxItems, BiFunction<String, Object, T> reader) {
    Object raw = json.getValue(field);
    if (raw == null) {
      return List.of();
    }
    if (!(raw instanceof JsonArray array)) {
      throw new MessageException(field, "must be a list, got " + typeName(raw));
    }
    if (array.size() > maxItems) {
      throw new MessageException(field, "has more than " + maxItems + " items");
    }
    List<T> values = new ArrayList<>(array.size());
    for (int i = 0; i < array.size(); i++) {
      values.add(reader.apply(field + "[" + i + "]", array.getValue(i)));
    }
    return List.copyOf(values);
  }

  private static String checkString(String field, Object raw, int maxLength, Pattern pattern) {
    if (!(raw instanceof String value)) {
      throw new MessageException(field, "must be a string, got " + typeName(raw));
    }
    if (value.length() > maxLength) {
      throw new MessageException(field, "is longer than " + maxLength + " characters");
    }
    if (pattern != null && !pattern.matcher(value).matches()) {
      throw new MessageException(field, "'" + LogSafe.printable(value, 40) + "' does not match " + pattern.pattern());
    }
    return value;
  }

  private static long checkLong(String field, Object raw, long min, long max) {
    if (!(raw instanceof Number number) || raw instanceof Double || raw instanceof Float) {
      throw new MessageException(field, "must be an integer, got " + typeName(raw));
    }
    long value = number.longValue();
    if (value < min || value > max) {
      throw new MessageException(field, value + " is out of range [" + min + ", " + max + "]");
    }
    return value;
  }

  private static double checkDouble(String field, Object raw, double min, double max) {
    if (!(raw instanceof Number number)) {
      throw new MessageException(field, "must be a number, got " + typeName(raw));
    }
    double value = number.doubleValue();
    if (Double.isNaN(value) || value < min || value > max) {
      throw new MessageException(field, value + " is out of range [" + min + ", " + max + "]");
    }
    return value;
  }

  private static String typeName(Object raw) {
    if (raw instanceof String) {
      return "a string";
    }
    if (raw instanceof Number) {
      return "a number";
    }
    if (raw instanceof Boolean) {
      return "a boolean";
    }
    if (raw instanceof JsonArray) {
      return "a list";
    }
    if (raw instanceof JsonObject) {
      return "an object";
    }
    return raw.getClass().getSimpleName();
  }
}
