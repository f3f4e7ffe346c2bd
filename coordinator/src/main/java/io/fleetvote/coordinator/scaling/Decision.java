package io.fleetvote.coordinator.scaling;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Locale;

/**
 * What the tally concluded for a group at one tick, and why: the answer to "why did it (not) scale?".
 *
 * @param group   the group
 * @param at      when, epoch milliseconds
 * @param outcome grow, shrink, or hold (a threshold or a bound asked for a change that a rule held back)
 * @param rule    the rule that decided: what asked for the change, or what held it back
 * @param counts  the votes as counted
 * @param size    instances alive or on their way (pending + running + launches in flight), without those leaving
 * @param pending of those, the ones launched and not yet voting (and launches in flight)
 * @param change  instances to launch (positive) or terminate (negative); 0 for a hold
 * @param victims the instances chosen to terminate (shrink) or replace (replace)
 * @param reason  the same in one sentence, for people
 * @param details the facts behind the sentence, as fields (an LB's answers to a drain, an instance's health...)
 */
public record Decision(String group, long at, Outcome outcome, Rule rule, Counts counts, int size, int pending,
                       int change, List<String> victims, String reason, JsonObject details) {

  public Decision {
    victims = List.copyOf(victims);
    details = details == null ? new JsonObject() : details.copy();
  }

  /** A decision whose sentence says it all. */
  public Decision(String group, long at, Outcome outcome, Rule rule, Counts counts, int size, int pending, int change,
                  List<String> victims, String reason) {
    this(group, at, outcome, rule, counts, size, pending, change, victims, reason, null);
  }

  /** What the tick concluded. */
  public enum Outcome {
    GROW, SHRINK,
    /** An unhealthy instance is replaced: a launch first, then the victim drained and terminated. */
    REPLACE,
    HOLD
  }

  /** Which rule decided. */
  public enum Rule {
    /** The group has fewer instances than its minimum. */
    BELOW_MIN,
    /** The group has more instances than its maximum. */
    ABOVE_MAX,
    /** The share of grow (or shrink) votes reached its threshold, and nothing held it back. */
    VOTES,
    /** Within calmTime of the last resize. */
    CALM,
    /** Already at max (for a grow) or at min (for a shrink). */
    BOUNDS,
    /** Fewer eligible voters than minVoters. */
    QUORUM,
    /** Fewer eligible voters than minVoters because instances are still warming up. */
    WARMUP,
    /** Launched instances have not voted yet: the capacity they bring is not in the votes yet. */
    PENDING,
    /** Every instance that could be chosen protects itself from scale-in. */
    PROTECTED,
    /** An operator paused the group's autoscaling. */
    PAUSED,
    /** An operator's action (bounds, scale by N, pause, resume, protect, drain, undrain). */
    OPERATOR,
    /** An instance has been unhealthy (its app failing, or its agent silent) for longer than its grace. */
    UNHEALTHY,
    /** Most of the group is unhealthy at once: an outage to alert on, not instances to replace. */
    OUTAGE,
    /** The group had as many replacements as its window allows. */
    REPLACEMENT_LIMIT
  }

  /**
   * The votes of one tick.
   *
   * @param grow        eligible voters voting grow
   * @param shrink      eligible voters voting shrink
   * @param none        eligible voters voting none
   * @param silent      instances of the group without a live vote (expired, never sent)
   * @param warming     instances with a live vote that are still warming up (not eligible)
   * @param eligible    warmed-up instances with a live vote
   * @param growShare   grow / eligible (0 when none is eligible)
   * @param shrinkShare shrink / eligible
   */
  public record Counts(int grow, int shrink, int none, int silent, int warming, int eligible, double growShare,
                       double shrinkShare) {

    /** No votes behind it: an operator's action or note. */
    public static final Counts NONE = new Counts(0, 0, 0, 0, 0, 0, 0, 0);

    public JsonObject toJson() {
      return new JsonObject().put("grow", grow).put("shrink", shrink).put("none", none).put("silent", silent)
          .put("warming", warming).put("eligible", eligible).put("growShare", growShare)
          .put("shrinkShare", shrinkShare);
    }

    public static Counts fromJson(JsonObject json) {
      return new Counts(json.getInteger("grow"), json.getInteger("shrink"), json.getInteger("none"),
          json.getInteger("silent"), json.getInteger("warming"), json.getInteger("eligible"),
          json.getDouble("growShare"), json.getDouble("shrinkShare"));
    }
  }

  /** It orders something of the cloud: a launch, a termination, or a replacement. */
  public boolean acts() {
    return change != 0 || outcome == Outcome.REPLACE;
  }

  /** It changes the group's size (a replacement does not): what calm time counts from. */
  public boolean resizes() {
    return change != 0;
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("group", group).put("at", at)
        .put("outcome", outcome.name().toLowerCase(Locale.ROOT))
        .put("rule", rule.name().toLowerCase(Locale.ROOT).replace('_', '-'))
        .put("counts", counts.toJson())
        .put("size", size).put("pending", pending).put("change", change)
        .put("victims", new JsonArray(victims))
        .put("reason", reason)
        .put("details", details.copy());
  }

  @SuppressWarnings("unchecked")
  public static Decision fromJson(JsonObject json) {
    return new Decision(json.getString("group"), json.getLong("at"),
        Outcome.valueOf(json.getString("outcome").toUpperCase(Locale.ROOT)),
        Rule.valueOf(json.getString("rule").toUpperCase(Locale.ROOT).replace('-', '_')),
        Counts.fromJson(json.getJsonObject("counts")), json.getInteger("size"), json.getInteger("pending"),
        json.getInteger("change"), (List<String>) json.getJsonArray("victims").getList(), json.getString("reason"),
        json.getJsonObject("details"));
  }
}
