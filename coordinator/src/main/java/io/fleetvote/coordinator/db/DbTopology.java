package io.fleetvote.coordinator.db;

import io.fleetvote.common.auth.Passwords;
import io.fleetvote.common.msg.DbCommand;
import io.fleetvote.common.msg.JsonFields;
import io.fleetvote.common.msg.MessageException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.security.SecureRandom;

/**
 * The DB pair's topology as the coordinators keep it (the quorum-protected map {@code fleetvote.db}, written by the
 * leader only, compare-and-set): which slot is master, since which leader epoch, the launch generation of each
 * slot's instance and volume (a new generation is a new client token: a slot's instance is launched again only
 * once its predecessor is gone), and the pair's passwords. {@link #toString()} has no passwords.
 *
 * @param masterSlot          1 or 2
 * @param epoch               the leader epoch that made it master
 * @param since               when, epoch milliseconds
 * @param instanceGenerations the generation of slot 1's and slot 2's instance launch
 * @param volumeGenerations   the generation of slot 1's and slot 2's volume
 * @param fence               the fencing token the DB agents are commanded with: raised by each new leader before
 *                            its first command, so that an agent refuses a deposed leader's; kept across restarts
 *                            of the whole cluster (leader epochs start again at 1 then, fences do not)
 * @param fenceEpoch          the leader epoch that raised it
 * @param replicationPassword the replication account's password
 * @param appPassword         the application account's password
 * @param failover            the latest failover, under way or finished, with its journal (null before the first)
 */
public record DbTopology(int masterSlot, long epoch, long since, int[] instanceGenerations, int[] volumeGenerations,
                         long fence, long fenceEpoch, String replicationPassword, String appPassword,
                         Failover failover) {


  public DbTopology {
    if (masterSlot != 1 && masterSlot != 2) {
      throw new MessageException("masterSlot", "must be 1 or 2, not " + masterSlot);
    }
    instanceGenerations = instanceGenerations.clone();
    volumeGenerations = volumeGenerations.clone();
  }

  /** A new pair: slot 1 master, first generations, new passwords. */
  public static DbTopology first(long epoch, long now, SecureRandom random) {
    return new DbTopology(1, epoch, now, new int[] {1, 1}, new int[] {1, 1}, 1, epoch, Passwords.random(random, 32),
        Passwords.random(random, 32), null);
  }

  public int replicaSlot() {
    return 3 - masterSlot;
  }

  public int instanceGeneration(int slot) {
    return instanceGenerations[slot - 1];
  }

  public int volumeGeneration(int slot) {
    return volumeGenerations[slot - 1];
  }

  /** The same, with slot's instance at its next generation (its predecessor is gone). */
  public DbTopology nextInstance(int slot) {
    int[] next = instanceGenerations.clone();
    next[slot - 1]++;
    return new DbTopology(masterSlot, epoch, since, next, volumeGenerations, fence, fenceEpoch, replicationPassword,
        appPassword, failover);
  }

  /** The same, with slot's volume at its next generation (its predecessor was deleted or broke). */
  public DbTopology nextVolume(int slot) {
    int[] next = volumeGenerations.clone();
    next[slot - 1]++;
    return new DbTopology(masterSlot, epoch, since, instanceGenerations, next, fence, fenceEpoch, replicationPassword,
        appPassword, failover);
  }

  /** The same, fenced for the leader of {@code leaderEpoch}: the next fencing token. */
  public DbTopology fencedFor(long leaderEpoch) {
    return new DbTopology(masterSlot, epoch, since, instanceGenerations, volumeGenerations, fence + 1, leaderEpoch,
        replicationPassword, appPassword, failover);
  }

  /** The same with this failover (a step further, or a new one). */
  public DbTopology withFailover(Failover next) {
    return new DbTopology(masterSlot, epoch, since, instanceGenerations, volumeGenerations, fence, fenceEpoch,
        replicationPassword, appPassword, next);
  }

  /**
   * Whether a failover is under way, or failed and no operator acknowledged it yet: no write goes anywhere and the
   * plan takes no step meanwhile (a failed promotion may have left the replica writable; only an operator who looked
   * lets the plan command the old master again).
   */
  public boolean failingOver() {
    return failover != null && (failover.phase().active()
        || failover.phase() == Failover.Phase.FAILED && failover.acknowledgedBy() == null);
  }

  /**
   * The failover done: its replica's slot is the master's since {@code now}, made so by the leader of
   * {@code leaderEpoch}. With {@code anew}, the old master's slot gets a new instance and a new volume (the old ones,
   * stopped, are no longer the slot's: a new replica is built from the new master); without, the old master stays
   * the slot's instance and rejoins as the replica once its position passes the errant check ({@link DbPairPlan}).
   */
  public DbTopology failedOver(Failover done, long leaderEpoch, long now, boolean anew) {
    int old = done.fromSlot();
    int[] instances = instanceGenerations.clone();
    int[] volumes = volumeGenerations.clone();
    if (anew) {
      instances[old - 1]++;
      volumes[old - 1]++;
    }
    return new DbTopology(done.toSlot(), leaderEpoch, now, instances, volumes, fence, fenceEpoch, replicationPassword,
        appPassword, done);
  }

  public JsonObject toJson() {
    return new JsonObject().put("masterSlot", masterSlot).put("epoch", epoch).put("since", since)
        .put("instanceGenerations", new JsonArray().add(instanceGenerations[0])
            .add(instanceGenerations[1]))
        .put("volumeGenerations", new JsonArray().add(volumeGenerations[0])
            .add(volumeGenerations[1]))
        .put("fence", fence).put("fenceEpoch", fenceEpoch)
        .put("replicationPassword", replicationPassword).put("appPassword", appPassword)
        .put("failover", failover == null ? null : failover.toJson());
  }

  /** What the dashboard and the API may show: no passwords. */
  public JsonObject toPublicJson() {
    JsonObject json = toJson();
    json.remove("replicationPassword");
    json.remove("appPassword");
    return json;
  }

  /** Reads and validates a stored topology; a bad field throws {@link MessageException} naming it (not its value). */
  public static DbTopology fromJson(JsonObject json) {
    return new DbTopology(JsonFields.intValue(json, "masterSlot", 1, 2), JsonFields.longValue(json, "epoch", 0,
        Long.MAX_VALUE), JsonFields.longValue(json, "since", 0, Long.MAX_VALUE), pair(json, "instanceGenerations"),
        pair(json, "volumeGenerations"), JsonFields.longValue(json, "fence", 1, Long.MAX_VALUE),
        JsonFields.longValue(json, "fenceEpoch", 0, Long.MAX_VALUE), DbCommand.secret(json, "replicationPassword"),
        DbCommand.secret(json, "appPassword"), failover(json));
  }

  private static Failover failover(JsonObject json) {
    try {
      return json.getValue("failover") == null ? null : Failover.fromJson(json.getValue("failover"));
    } catch (MessageException e) {
      throw e.within("failover");
    }
  }

  private static int[] pair(JsonObject json, String field) {
    if (!(json.getValue(field) instanceof JsonArray array) || array.size() != 2
        || !(array.getValue(0) instanceof Integer first) || !(array.getValue(1) instanceof Integer second)
        || first < 1 || second < 1) {
      throw new MessageException(field, "must be two generations, each at least 1");
    }
    return new int[] {first, second};
  }

  @Override
  public String toString() {
    return "DbTopology[master slot " + masterSlot + " since epoch " + epoch + ", instance generations "
        + instanceGenerations[0] + "/" + instanceGenerations[1] + ", volume generations " + volumeGenerations[0] + "/"
        + volumeGenerations[1] + ", fence " + fence + " (epoch " + fenceEpoch + ")"
        + (failover == null ? "" : ", failover " + failover.id() + " " + failover.phase().name()
        .toLowerCase(java.util.Locale.ROOT)) + "]";
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof DbTopology that && toJson().equals(that.toJson());
  }

  @Override
  public int hashCode() {
    return toJson().hashCode();
  }
}
