package io.fleetvote.coordinator.ledger;

import io.fleetvote.coordinator.scaling.Decision;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One line of the decision ledger: a decision (or a run of identical holds), who made it in which epoch, and what
 * was done about it. Entries are ordered by id, {@code e<epoch>-<seq>} zero-padded, which is their order in time.
 *
 * @param id       {@code e00000003-00000017}
 * @param epoch    the fencing epoch of the leader that decided
 * @param at       when it was decided, epoch milliseconds
 * @param lastAt   when the same hold was last seen again (= at for a single decision)
 * @param repeated how many ticks decided the same hold (1 for a single decision)
 * @param actor    {@code autoscaler}, or {@code operator:<user>} for an operator's action
 * @param decision what was decided and why
 * @param action   what was done (null for a hold)
 */
public record LedgerEntry(String id, long epoch, long at, long lastAt, int repeated, String actor, Decision decision,
                          Action action) {

  /** What a ledger entry ordered, and how far it got. */
  public enum Status {
    /** Written before the cloud was asked: a leader that dies now leaves it to its successor to finish. */
    ORDERED,
    /** The cloud refused for now (throttling, capacity): being tried again. */
    RETRYING,
    DONE,
    FAILED
  }

  /**
   * A fleet action.
   *
   * @param kind            {@code launch} or {@code terminate}
   * @param clientToken     the RunInstances idempotency token (launch only)
   * @param count           instances to launch or terminate
   * @param instances       the instances launched or terminated
   * @param status          how far it got
   * @param attempts        failed attempts (when, EC2's error code, the message, the wait before the next) and notes
   *                        (how the victims' drains went)
   * @param finishedAt      when it was done or given up (0 until then)
   * @param finishedByEpoch the epoch of the leader that finished it (a successor may finish what a leader began)
   * @param error           why it failed (null unless failed)
   */
  public record Action(String kind, String clientToken, int count, List<String> instances, Status status,
                       List<JsonObject> attempts, long finishedAt, long finishedByEpoch, String error) {

    public Action {
      instances = List.copyOf(instances);
      attempts = List.copyOf(attempts);
    }

    public boolean unfinished() {
      return status == Status.ORDERED || status == Status.RETRYING;
    }

    public Action retrying(JsonObject attempt) {
      List<JsonObject> more = new ArrayList<>(attempts);
      more.add(attempt);
      return new Action(kind, clientToken, count, instances, Status.RETRYING, more, 0, 0, null);
    }

    /** The same action with a note (e.g. how the victims' drains went) added to its attempts, status unchanged. */
    public Action noted(JsonObject note) {
      List<JsonObject> more = new ArrayList<>(attempts);
      more.add(note);
      return new Action(kind, clientToken, count, instances, status, more, finishedAt, finishedByEpoch, error);
    }

    public Action done(List<String> affected, long at, long epoch) {
      return new Action(kind, clientToken, count, affected, Status.DONE, attempts, at, epoch, null);
    }

    public Action failed(String why, long at, long epoch) {
      return new Action(kind, clientToken, count, instances, Status.FAILED, attempts, at, epoch, why);
    }

    JsonObject toJson() {
      JsonArray tries = new JsonArray();
      attempts.forEach(tries::add);
      return new JsonObject().put("kind", kind).put("clientToken", clientToken).put("count", count)
          .put("instances", new JsonArray(instances)).put("status", status.name().toLowerCase(Locale.ROOT))
          .put("attempts", tries).put("finishedAt", finishedAt).put("finishedByEpoch", finishedByEpoch)
          .put("error", error);
    }

    @SuppressWarnings("unchecked")
    static Action fromJson(JsonObject json) {
      List<JsonObject> attempts = new ArrayList<>();
      json.getJsonArray("attempts").forEach(a -> attempts.add((JsonObject) a));
      return new Action(json.getString("kind"), json.getString("clientToken"), json.getInteger("count"),
          (List<String>) json.getJsonArray("instances").getList(),
          Status.valueOf(json.getString("status").toUpperCase(Locale.ROOT)), attempts, json.getLong("finishedAt"),
          json.getLong("finishedByEpoch"), json.getString("error"));
    }
  }

  public static String id(long epoch, long seq) {
    return String.format("e%08d-%08d", epoch, seq);
  }

  public String group() {
    return decision.group();
  }

  public LedgerEntry withAction(Action next) {
    return new LedgerEntry(id, epoch, at, lastAt, repeated, actor, decision, next);
  }

  /** Whether this hold is an earlier state of {@code other}, the same hold seen fewer times. */
  public boolean olderHoldThan(LedgerEntry other) {
    return id.equals(other.id) && action == null && other.action == null && repeated < other.repeated;
  }

  /** The same hold seen again at {@code when}, {@code latest} its decision now (the latest counts and reason). */
  public LedgerEntry seenAgain(long when, Decision latest) {
    return new LedgerEntry(id, epoch, at, when, repeated + 1, actor, latest, action);
  }

  public JsonObject toJson() {
    return new JsonObject().put("id", id).put("epoch", epoch).put("at", at).put("lastAt", lastAt)
        .put("repeated", repeated).put("actor", actor).put("decision", decision.toJson())
        .put("action", action == null ? null : action.toJson());
  }

  public static LedgerEntry fromJson(JsonObject json) {
    JsonObject action = json.getJsonObject("action");
    return new LedgerEntry(json.getString("id"), json.getLong("epoch"), json.getLong("at"), json.getLong("lastAt"),
        json.getInteger("repeated"), json.getString("actor"), Decision.fromJson(json.getJsonObject("decision")),
        action == null ? null : Action.fromJson(action));
  }
}
