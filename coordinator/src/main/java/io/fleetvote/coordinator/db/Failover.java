package io.fleetvote.coordinator.db;

import io.fleetvote.common.msg.Gtids;
import io.fleetvote.common.msg.JsonFields;
import io.fleetvote.common.msg.MessageException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The pair's latest failover and its journal, kept in the DB topology (the quorum-protected map, compare-and-set), so
 * that each step is written before it is taken and a leader that dies in the middle leaves its successor what it must
 * finish: a fence to verify again, a promotion to send again (both idempotent on the agents). Pure.
 * <p>
 * Phases: {@link Phase#FENCING} (the write backend is empty from the moment it is written; the old master is fenced
 * and the fence verified), {@link Phase#PROMOTING} (the replica applies what it received and becomes the master),
 * then {@link Phase#DONE} (the topology names the new master) or {@link Phase#FAILED} (a step that cannot succeed:
 * the pair has no master until an operator acts, and says why).
 *
 * @param id             {@code f<fence>-<startedAt>}
 * @param kind           what started it
 * @param fromSlot       the old master's slot
 * @param oldMaster      the old master's instance
 * @param target         the replica's instance, promoted
 * @param phase          how far it got
 * @param startedAt      when it was decided, epoch milliseconds
 * @param oldMasterGtid  the old master's {@code @@gtid_binlog_pos} as last reported (empty when never)
 * @param promotedGtid   what the new master had applied when promoted ({@code @@gtid_slave_pos}; empty until then)
 * @param lost           transactions in the old master's binlog that the new one does not have, by GTID arithmetic
 *                       (-1 until promoted)
 * @param acknowledgedBy the operator who acknowledged it (null until one did): the anti-flap window is lifted
 * @param steps          the journal: each step's time, name and sentence, in order
 */
public record Failover(String id, Kind kind, int fromSlot, String oldMaster, String target, Phase phase,
                       long startedAt, String oldMasterGtid, String promotedGtid, long lost, String acknowledgedBy,
                       List<Step> steps) {

  /** What started a failover. */
  public enum Kind {
    /** The failure detector found the master dead. */
    AUTOMATIC,
    /** An operator asked for the roles to swap (the master alive): a bounded write block, or an abort. */
    SWITCHOVER,
    /**
     * An operator forced the failover of a master the failure detector found dead, which automatic failover would not
     * do (off, held off by the anti-flap window, or the master last seen with semi-sync off): fenced and promoted like
     * an automatic one.
     */
    FORCED
  }

  /** How far a failover got. */
  public enum Phase {
    FENCING, PROMOTING, DONE, FAILED,
    /** A switchover given up before the promotion: the old master is the master again, nothing lost. */
    ABORTED;

    /** Whether a leader still has something to do for it. */
    public boolean active() {
      return this == FENCING || this == PROMOTING;
    }
  }

  /** One line of the journal, written before (or as) the step is taken. */
  public record Step(long at, String name, String text, long fence) {

    JsonObject toJson() {
      return new JsonObject().put("at", at).put("name", name).put("text", text).put("fence", fence);
    }

    static Step fromJson(Object value) {
      JsonObject json = JsonFields.object(value, "a failover step");
      return new Step(JsonFields.longValue(json, "at", 0, Long.MAX_VALUE), JsonFields.string(json, "name", 40, null),
          JsonFields.string(json, "text", 2000, null), JsonFields.longValue(json, "fence", 0, Long.MAX_VALUE));
    }
  }

  public Failover {
    steps = List.copyOf(steps);
  }

  /**
   * A new failover, in {@link Phase#FENCING}, its first step why it began: {@code detected} (the detector's verdict,
   * forced or not), {@code requested} for a switchover (an operator's request, the master alive).
   */
  public static Failover start(Kind kind, long fence, long now, int fromSlot, String oldMaster, String target,
                               String oldMasterGtid, String why) {
    return new Failover("f" + fence + "-" + now, kind, fromSlot, oldMaster, target, Phase.FENCING, now,
        oldMasterGtid == null ? "" : oldMasterGtid, "", -1, null, List.of(new Step(now,
        kind == Kind.SWITCHOVER ? "requested" : "detected", why, fence)));
  }

  /** The same with one more step in its journal. */
  public Failover step(long at, String name, String text, long fence) {
    List<Step> more = new ArrayList<>(steps);
    more.add(new Step(at, name, text, fence));
    return new Failover(id, kind, fromSlot, oldMaster, target, phase, startedAt, oldMasterGtid, promotedGtid, lost,
        acknowledgedBy, more);
  }

  public Failover inPhase(Phase next) {
    return new Failover(id, kind, fromSlot, oldMaster, target, next, startedAt, oldMasterGtid, promotedGtid, lost,
        acknowledgedBy, steps);
  }

  /** Promoted with what the new master had applied; the loss counted against the old master's last position. */
  public Failover promoted(String applied) {
    return new Failover(id, kind, fromSlot, oldMaster, target, Phase.DONE, startedAt, oldMasterGtid, applied,
        Gtids.past(oldMasterGtid, applied), acknowledgedBy, steps);
  }

  /** The same with the old master's position as its fence left it (a switchover waits for the replica to have it). */
  public Failover fencedAt(String gtid) {
    return new Failover(id, kind, fromSlot, oldMaster, target, phase, startedAt, gtid, promotedGtid, lost,
        acknowledgedBy, steps);
  }

  public Failover acknowledged(String operator) {
    return new Failover(id, kind, fromSlot, oldMaster, target, phase, startedAt, oldMasterGtid, promotedGtid, lost,
        operator, steps);
  }

  /** The replica's slot. */
  public int toSlot() {
    return 3 - fromSlot;
  }

  /**
   * Whether an automatic failover at {@code now} must wait for an operator: this one, automatic, finished (or failed)
   * less than {@code windowMillis} ago and no one acknowledged it. (A switchover or a forced failover is an operator's
   * own act.)
   */
  public boolean holdsOff(long now, long windowMillis) {
    return kind == Kind.AUTOMATIC && (phase == Phase.DONE || phase == Phase.FAILED) && acknowledgedBy == null
        && now - startedAt < windowMillis;
  }

  public JsonObject toJson() {
    JsonArray journal = new JsonArray();
    steps.forEach(s -> journal.add(s.toJson()));
    return new JsonObject().put("id", id).put("kind", kind.name().toLowerCase(Locale.ROOT)).put("fromSlot", fromSlot)
        .put("oldMaster", oldMaster).put("target", target).put("phase", phase.name().toLowerCase(Locale.ROOT))
        .put("startedAt", startedAt).put("oldMasterGtid", oldMasterGtid).put("promotedGtid", promotedGtid)
        .put("lost", lost).put("acknowledgedBy", acknowledgedBy).put("steps", journal);
  }

  /** Reads and validates a stored failover; a bad field throws {@link MessageException} naming it. */
  public static Failover fromJson(Object value) {
    JsonObject json = JsonFields.object(value, "a failover");
    if (!(json.getValue("steps") instanceof JsonArray journal)) {
      throw new MessageException("steps", "must be a list of steps");
    }
    List<Step> steps = new ArrayList<>();
    journal.forEach(s -> steps.add(Step.fromJson(s)));
    return new Failover(JsonFields.string(json, "id", 60, null), JsonFields.enumValue(json, "kind", Kind.class),
        JsonFields.intValue(json, "fromSlot", 1, 2), JsonFields.string(json, "oldMaster", 40, null),
        JsonFields.string(json, "target", 40, null), JsonFields.enumValue(json, "phase", Phase.class),
        JsonFields.longValue(json, "startedAt", 0, Long.MAX_VALUE), gtid(json, "oldMasterGtid"),
        gtid(json, "promotedGtid"), JsonFields.longValue(json, "lost", -1, Long.MAX_VALUE),
        JsonFields.optionalString(json, "acknowledgedBy", 64, null), steps);
  }

  private static String gtid(JsonObject json, String field) {
    String value = JsonFields.string(json, field, 4000, null);
    try {
      Gtids.sequences(value);
    } catch (MessageException e) {
      throw new MessageException(field, "is not a GTID list");
    }
    return value;
  }
}
