package io.fleetvote.common.msg;

import io.fleetvote.common.Ids;
import io.vertx.core.json.JsonObject;

import java.util.Locale;
import java.util.Set;

/**
 * A question to a coordinator's decision ledger ({@link io.fleetvote.common.Addresses#LEDGER_QUERY}): the newest
 * entries, optionally of one group and one outcome.
 *
 * @param group   a group's name, or null for every group
 * @param outcome {@code grow}, {@code shrink}, {@code hold} or {@code replace}, or null for every outcome
 * @param limit   at most this many entries, 1 to {@link #MAX_LIMIT}
 */
public record LedgerQuery(String group, String outcome, int limit) {

  public static final int MAX_LIMIT = 1000;
  public static final int DEFAULT_LIMIT = 100;
  public static final Set<String> OUTCOMES = Set.of("grow", "shrink", "hold", "replace");

  public LedgerQuery {
    if (limit < 1 || limit > MAX_LIMIT) {
      throw new MessageException("limit", limit + " is not a whole number from 1 to " + MAX_LIMIT);
    }
    if (outcome != null && !OUTCOMES.contains(outcome)) {
      throw new MessageException("outcome", "'" + outcome + "' is not one of " + OUTCOMES);
    }
  }

  public JsonObject toJson() {
    return new JsonObject().put("group", group).put("outcome", outcome).put("limit", limit);
  }

  /** Reads and validates a query (an absent body asks for the newest {@link #DEFAULT_LIMIT} entries). */
  public static LedgerQuery fromJson(Object body) {
    JsonObject json = body == null ? new JsonObject() : JsonFields.object(body, "ledger query");
    String outcome = JsonFields.optionalString(json, "outcome", 16, null);
    return new LedgerQuery(JsonFields.optionalString(json, "group", 63, Ids.NAME),
        outcome == null ? null : outcome.toLowerCase(Locale.ROOT),
        JsonFields.intValue(json, "limit", 1, MAX_LIMIT, DEFAULT_LIMIT));
  }
}
