package io.fleetvote.sandbox.ec2;

import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The filters one Describe action understands: named attributes plus {@code tag:KEY}, {@code tag-key} and
 * {@code tag-value}. Values inside one filter are OR-ed, filters are AND-ed, values may hold wildcards.
 */
public final class FilterSet<T> {

  private final Map<String, Function<T, List<String>>> attributes;
  private final Function<T, Map<String, String>> tags;

  public FilterSet(Map<String, Function<T, List<String>>> attributes, Function<T, Map<String, String>> tags) {
    this.attributes = Map.copyOf(attributes);
    this.tags = tags;
  }

  /** Rejects a filter this action does not know, before anything is matched. */
  public void check(List<QueryRequest.Filter> filters) {
    for (QueryRequest.Filter filter : filters) {
      String name = filter.name();
      boolean known = attributes.containsKey(name) || name.equals("tag-key") || name.equals("tag-value")
          || (name.startsWith("tag:") && name.length() > 4);
      if (!known) {
        throw Ec2Exception.invalidValue("The filter '" + Ec2Exception.abbreviate(name) + "' is invalid");
      }
    }
  }

  public boolean matches(T item, List<QueryRequest.Filter> filters) {
    for (QueryRequest.Filter filter : filters) {
      List<String> candidates = values(item, filter.name());
      boolean any = candidates.stream().anyMatch(v -> filter.values().stream().anyMatch(p -> Wildcard.matches(p, v)));
      if (!any) {
        return false;
      }
    }
    return true;
  }

  private List<String> values(T item, String name) {
    if (name.equals("tag-key")) {
      return List.copyOf(tags.apply(item).keySet());
    }
    if (name.equals("tag-value")) {
      return List.copyOf(tags.apply(item).values());
    }
    if (name.startsWith("tag:")) {
      String value = tags.apply(item).get(name.substring(4));
      return value == null ? List.of() : List.of(value);
    }
    return attributes.get(name).apply(item).stream().filter(v -> v != null).toList();
  }
}
