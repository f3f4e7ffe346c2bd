package io.fleetvote.sandbox.ec2;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The parameters of one EC2 Query request (form-encoded, flattened: {@code Name.N}, {@code Name.N.Member},
 * {@code Filter.N.Value.M}), with typed reads that answer bad input with EC2's error codes.
 */
public final class QueryRequest {

  private static final Pattern INDEXED = Pattern.compile("([A-Za-z]+)\\.(\\d+)(?:\\.(.+))?");
  private static final int MAX_INDEX = 1000;

  private final Map<String, String> params;

  public QueryRequest(Map<String, String> params) {
    this.params = Collections.unmodifiableMap(new LinkedHashMap<>(params));
  }

  public String action() {
    return params.get("Action");
  }

  public Set<String> names() {
    return params.keySet();
  }

  public String get(String name) {
    return params.get(name);
  }

  public String required(String name) {
    String value = params.get(name);
    if (value == null || value.isEmpty()) {
      throw Ec2Exception.missingParameter(name);
    }
    return value;
  }

  public int requiredInt(String name, int min, int max) {
    return parseInt(name, required(name), min, max);
  }

  public Integer optionalInt(String name, int min, int max) {
    String value = params.get(name);
    return value == null ? null : parseInt(name, value, min, max);
  }

  public boolean flag(String name) {
    String value = params.get(name);
    if (value == null) {
      return false;
    }
    if (value.equals("true") || value.equals("false")) {
      return Boolean.parseBoolean(value);
    }
    throw Ec2Exception.invalidValue(name, value, "Expected true or false.");
  }

  /** The values of {@code Name.1}, {@code Name.2}, ... in index order. */
  public List<String> list(String name) {
    List<String> values = new ArrayList<>();
    for (Map.Entry<Integer, Map<String, String>> item : indexed(name).entrySet()) {
      String value = item.getValue().get("");
      if (value == null) {
        throw Ec2Exception.invalidValue("Parameter " + name + "." + item.getKey() + " has no value");
      }
      values.add(value);
    }
    return values;
  }

  /** The members of {@code Name.N.Member...} grouped by N (in index order); member names are what follows {@code N.}. */
  public List<Map<String, String>> structs(String name) {
    return new ArrayList<>(indexed(name).values());
  }

  /** Splits a struct's nested list, e.g. members {@code Value.1}, {@code Value.2} of a filter, in index order. */
  public static List<String> nestedList(Map<String, String> struct, String member) {
    TreeMap<Integer, String> values = new TreeMap<>();
    for (Map.Entry<String, String> e : struct.entrySet()) {
      Matcher m = INDEXED.matcher(e.getKey());
      if (m.matches() && m.group(1).equals(member) && m.group(3) == null) {
        values.put(index(member, m.group(2)), e.getValue());
      }
    }
    return new ArrayList<>(values.values());
  }

  /** Sub-structs of a struct, e.g. {@code Tag.1.Key}, {@code Tag.1.Value} inside a TagSpecification. */
  public static List<Map<String, String>> nestedStructs(Map<String, String> struct, String member) {
    return new ArrayList<>(group(struct, member).values());
  }

  /** Filters as {@code Filter.N.Name} + {@code Filter.N.Value.M}. */
  public List<Filter> filters() {
    List<Filter> filters = new ArrayList<>();
    for (Map<String, String> struct : structs("Filter")) {
      String name = struct.get("Name");
      if (name == null || name.isEmpty()) {
        throw Ec2Exception.missingParameter("Filter.N.Name");
      }
      List<String> values = nestedList(struct, "Value");
      if (values.isEmpty()) {
        throw Ec2Exception.invalidValue("The filter '" + Ec2Exception.abbreviate(name) + "' has no values");
      }
      filters.add(new Filter(name, values));
    }
    return filters;
  }

  /** Names of parameters that none of {@code allowed} (regular expressions) accepts, sorted. */
  public Set<String> unknownParameters(List<Pattern> allowed) {
    Set<String> unknown = new TreeSet<>();
    for (String name : params.keySet()) {
      if (allowed.stream().noneMatch(p -> p.matcher(name).matches())) {
        unknown.add(name);
      }
    }
    return unknown;
  }

  /** A canonical form of the parameters without the listed ones: equal requests have equal fingerprints. */
  public String fingerprint(Set<String> without) {
    StringBuilder text = new StringBuilder();
    new TreeMap<>(params).forEach((k, v) -> {
      if (!without.contains(k)) {
        text.append(k).append('=').append(v).append('\n');
      }
    });
    return text.toString();
  }

  private Map<Integer, Map<String, String>> indexed(String name) {
    return group(params, name);
  }

  private static Map<Integer, Map<String, String>> group(Map<String, String> source, String name) {
    TreeMap<Integer, Map<String, String>> items = new TreeMap<>();
    for (Map.Entry<String, String> e : source.entrySet()) {
      Matcher m = INDEXED.matcher(e.getKey());
      if (m.matches() && m.group(1).equals(name)) {
        int index = index(name, m.group(2));
        items.computeIfAbsent(index, i -> new LinkedHashMap<>()).put(m.group(3) == null ? "" : m.group(3), e.getValue());
      }
    }
    return items;
  }

  private static int index(String name, String text) {
    int index = text.length() > 6 ? Integer.MAX_VALUE : Integer.parseInt(text);
    if (index < 1 || index > MAX_INDEX) {
      throw Ec2Exception.invalidValue("Index " + Ec2Exception.abbreviate(text) + " of parameter " + name + " is out of range [1, " + MAX_INDEX + "]");
    }
    return index;
  }

  private static int parseInt(String name, String value, int min, int max) {
    int parsed;
    try {
      parsed = Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw Ec2Exception.invalidValue(name, value, "Expected an integer.");
    }
    if (parsed < min || parsed > max) {
      throw Ec2Exception.invalidValue(name, value, "It must be between " + min + " and " + max + ".");
    }
    return parsed;
  }

  /** One {@code Filter.N}: a name and the values it accepts (OR-ed). */
  public record Filter(String name, List<String> values) {
  }
}
