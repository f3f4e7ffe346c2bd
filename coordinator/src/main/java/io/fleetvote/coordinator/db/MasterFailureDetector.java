package io.fleetvote.coordinator.db;

import io.fleetvote.common.msg.DbStatus;

import java.util.Locale;

/**
 * Whether the pair's master is dead, judged holistically (issue 13, reference B1.1 and d1): dead only when the leader
 * coordinator cannot reach it (its own connect and trivial query failed) <em>and</em> its replica agrees (its IO
 * thread is not running, or nothing has come from the master, neither events nor heartbeats, for two heartbeat
 * periods), in {@code confirmations} consecutive observations. One observer's blip never makes it dead: the leader
 * failing alone (the master cut off from the coordinators only, its replica still fed) resets the count, and so does
 * any observation in which the leader reaches it. A master under maintenance (a snapshot's quiesce, an operator's
 * flag) is never judged dead; nor is one whose replica cannot vouch for anything (no fresh report, or not replicating
 * at all, as before the pair is set up: with no replica to promote there is nothing to fail over to).
 * <p>
 * Pure and single-threaded: the leader's pair verticle feeds it one observation per probe round, on a fixed clock in
 * tests.
 */
public final class MasterFailureDetector {

  /** What the detector concludes after an observation. */
  public enum Verdict {
    /** The leader reached the master. */
    ALIVE,
    /** The leader did not, but the replica is still fed by it: cut off from the coordinators, not dead. */
    UNREACHABLE_BY_LEADER,
    /** The leader did not and the replica agrees, fewer times in a row than the confirmations asked for. */
    SUSPECT,
    /** Both agree, as many times in a row as asked for: the master is dead. */
    DEAD,
    /** The leader did not reach it and the replica cannot say (no fresh report): no judgement. */
    UNCONFIRMED,
    /** Under maintenance: never judged. */
    MAINTENANCE
  }

  /**
   * One round of evidence.
   *
   * @param at            when, epoch milliseconds
   * @param leaderReached the leader's own connect and trivial query to the master succeeded within its timeouts
   * @param leaderProblem why not (empty when it did)
   * @param replica       the replica's latest report, or null when none
   * @param maintenance   the master (or the pair) is under maintenance
   */
  public record Observation(long at, boolean leaderReached, String leaderProblem, DbStatus replica,
                            boolean maintenance) {
  }

  /** The verdict, the confirmations counted so far, and why, in a sentence. */
  public record Assessment(Verdict verdict, int confirmations, String reason) {
  }

  private final int confirmations;
  private final long heartbeatPeriodMillis;
  private final long reportFreshMillis;
  private int count;
  private String lastFeed = null;
  private long feedChangedAt;

  /**
   * @param confirmations         consecutive agreeing observations before the master is dead (at least 1)
   * @param heartbeatPeriodMillis the replication heartbeat period ({@code MASTER_HEARTBEAT_PERIOD})
   * @param reportFreshMillis     how old a replica report may be and still count
   */
  public MasterFailureDetector(int confirmations, long heartbeatPeriodMillis, long reportFreshMillis) {
    if (confirmations < 1 || heartbeatPeriodMillis < 1 || reportFreshMillis < 1) {
      throw new IllegalArgumentException("confirmations, heartbeat period and report freshness must be positive");
    }
    this.confirmations = confirmations;
    this.heartbeatPeriodMillis = heartbeatPeriodMillis;
    this.reportFreshMillis = reportFreshMillis;
  }

  /** Takes one round of evidence into account and says what it makes of the master. */
  public Assessment observe(Observation observation) {
    DbStatus replica = observation.replica();
    // A replica can vouch only when its MariaDB answers, its report is recent, and it replicates from the master
    // (IO thread NONE: no replication configured, as before the pair's setup; it knows nothing of the master).
    boolean fresh = replica != null && replica.server() == DbStatus.Server.UP
        && observation.at() - replica.sentAt() <= reportFreshMillis && replica.ioThread() != DbStatus.Thread.NONE;
    if (fresh) {
      // What the replica has from the master: its received position and its heartbeats; either moving means fed.
      String feed = replica.gtidIoPos() + "/" + replica.heartbeats();
      if (!feed.equals(lastFeed)) {
        lastFeed = feed;
        feedChangedAt = replica.sentAt();
      }
    }
    if (observation.maintenance()) {
      count = 0;
      return new Assessment(Verdict.MAINTENANCE, 0, "under maintenance: not judged");
    }
    if (observation.leaderReached()) {
      count = 0;
      return new Assessment(Verdict.ALIVE, 0, "the leader reached it");
    }
    String leader = "the leader cannot reach it (" + observation.leaderProblem() + ")";
    if (!fresh) {
      count = 0;
      return new Assessment(Verdict.UNCONFIRMED, 0, leader + " and the replica cannot say ("
          + (replica == null ? "no report" : replica.server() != DbStatus.Server.UP ? "its MariaDB is "
          + replica.server().name().toLowerCase(Locale.ROOT) : replica.ioThread() == DbStatus.Thread.NONE
          ? "it does not replicate" : "its last report is " + (observation.at() - replica.sentAt()) + " ms old")
          + ")");
    }
    long unfedFor = replica.sentAt() - feedChangedAt;
    boolean ioDown = replica.ioThread() != DbStatus.Thread.YES;
    boolean starved = unfedFor >= 2 * heartbeatPeriodMillis;
    if (!ioDown && !starved) {
      count = 0;
      return new Assessment(Verdict.UNREACHABLE_BY_LEADER, 0, leader + ", but its replica is still fed by it "
          + "(IO thread running, something received " + unfedFor + " ms before its report): cut off from the "
          + "coordinators, not dead");
    }
    count++;
    String agrees = leader + " and its replica agrees (" + (ioDown ? "IO thread " + replica.ioThread().name()
        .toLowerCase(Locale.ROOT) : "nothing received for " + unfedFor + " ms, two heartbeat periods "
        + "are " + 2 * heartbeatPeriodMillis + " ms") + ")";
    return count >= confirmations
        ? new Assessment(Verdict.DEAD, count, agrees + ", " + count + " times in a row: dead")
        : new Assessment(Verdict.SUSPECT, count, agrees + ", " + count + " of " + confirmations + " confirmations");
  }
}
