package io.fleetvote.coordinator.db;

import io.fleetvote.common.msg.DbStatus;
import io.fleetvote.coordinator.db.MasterFailureDetector.Assessment;
import io.fleetvote.coordinator.db.MasterFailureDetector.Observation;
import io.fleetvote.coordinator.db.MasterFailureDetector.Verdict;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The master is dead only when the leader and the replica agree, several times in a row, and not in maintenance. */
class MasterFailureDetectorTest {

  private static final long HEARTBEAT = 2000;
  private final MasterFailureDetector detector = new MasterFailureDetector(3, HEARTBEAT, 3000);
  private long now = 1_000_000;
  private long heartbeats;
  private long received = 100;

  @Test
  void aDeadMasterIsDeadAfterItsConfirmationsAndOnlyThen() {
    assertThat(round(true, DbStatus.Thread.YES).verdict()).isEqualTo(Verdict.ALIVE);
    Assessment first = round(false, DbStatus.Thread.CONNECTING);
    assertThat(first.verdict()).isEqualTo(Verdict.SUSPECT);
    assertThat(first.reason()).contains("cannot reach it (connect refused)", "IO thread connecting", "1 of 3");
    assertThat(round(false, DbStatus.Thread.CONNECTING).verdict()).isEqualTo(Verdict.SUSPECT);
    Assessment dead = round(false, DbStatus.Thread.NO);
    assertThat(dead.verdict()).isEqualTo(Verdict.DEAD);
    assertThat(dead.confirmations()).isEqualTo(3);
    assertThat(dead.reason()).contains("3 times in a row: dead");
  }

  @Test
  void theLeadersBlipAloneNeverCountsAndReachingItResetsTheCount() {
    for (int i = 0; i < 10; i++) {
      heartbeats++;
      Assessment cutOff = round(false, DbStatus.Thread.YES);
      assertThat(cutOff.verdict()).as("the replica is fed: cut off from the coordinators only")
          .isEqualTo(Verdict.UNREACHABLE_BY_LEADER);
      assertThat(cutOff.reason()).contains("cut off from the coordinators, not dead");
    }
    round(false, DbStatus.Thread.CONNECTING);
    round(false, DbStatus.Thread.CONNECTING);
    assertThat(round(true, DbStatus.Thread.CONNECTING).verdict()).isEqualTo(Verdict.ALIVE);
    assertThat(round(false, DbStatus.Thread.CONNECTING).confirmations()).as("counted from 0 again").isEqualTo(1);
  }

  @Test
  void aMasterStalledTwoSecondsIsNotDeadButOneSilentForTwoHeartbeatPeriodsIsSuspect() {
    round(true, DbStatus.Thread.YES);
    // SIGSTOP: the leader's probe times out, the replica's IO thread still runs (slave_net_timeout 4 s), nothing new.
    assertThat(round(false, DbStatus.Thread.YES).verdict()).isEqualTo(Verdict.UNREACHABLE_BY_LEADER);
    assertThat(round(false, DbStatus.Thread.YES).verdict()).as("2 s without anything: one heartbeat period")
        .isEqualTo(Verdict.UNREACHABLE_BY_LEADER);
    // SIGCONT: events and heartbeats again.
    received++;
    assertThat(round(true, DbStatus.Thread.YES).verdict()).isEqualTo(Verdict.ALIVE);
    // Silent for two heartbeat periods with the IO thread still up: the replica agrees (not before: 3 s is not 4).
    for (int i = 1; i <= 3; i++) {
      assertThat(round(false, DbStatus.Thread.YES).verdict()).as("%d s silent", i)
          .isEqualTo(Verdict.UNREACHABLE_BY_LEADER);
    }
    Assessment starved = round(false, DbStatus.Thread.YES);
    assertThat(starved.verdict()).isEqualTo(Verdict.SUSPECT);
    assertThat(starved.reason()).contains("nothing received for 4000 ms");
  }

  @Test
  void writesReceivedCountAsFedLikeHeartbeats() {
    for (int i = 0; i < 5; i++) {
      received++;
      assertThat(round(false, DbStatus.Thread.YES).verdict()).isEqualTo(Verdict.UNREACHABLE_BY_LEADER);
    }
  }

  @Test
  void maintenanceAndAReplicaThatCannotSayAreNeverJudged() {
    for (int i = 0; i < 5; i++) {
      now += 1000;
      Assessment quiesced = detector.observe(new Observation(now, false, "timeout", replica(DbStatus.Thread.NO),
          true));
      assertThat(quiesced.verdict()).isEqualTo(Verdict.MAINTENANCE);
    }
    now += 1000;
    DbStatus old = replica(DbStatus.Thread.NO);
    now += 10_000;
    Assessment stale = detector.observe(new Observation(now, false, "timeout", old, false));
    assertThat(stale.verdict()).isEqualTo(Verdict.UNCONFIRMED);
    assertThat(stale.reason()).contains("its last report is 10000 ms old");
    assertThat(detector.observe(new Observation(now, false, "timeout", null, false)).reason()).contains("no report");
    DbStatus down = DbStatus.unavailable("i-0000000000000db02", "prod", now, DbStatus.Server.DOWN, "killed", 3306);
    assertThat(detector.observe(new Observation(now, false, "timeout", down, false)).reason())
        .contains("its MariaDB is down");
    // Before the pair is set up the replica replicates from nothing: it knows nothing of the master.
    assertThat(round(false, DbStatus.Thread.NONE).reason()).contains("it does not replicate");
    assertThat(round(false, DbStatus.Thread.NO).confirmations()).as("none of those counted").isEqualTo(1);
  }

  @Test
  void settingsMustBePositive() {
    assertThatThrownBy(() -> new MasterFailureDetector(0, 2000, 3000)).isInstanceOf(IllegalArgumentException.class);
  }

  /** One second later: the leader's probe and the replica's report made then. */
  private Assessment round(boolean leaderReached, DbStatus.Thread io) {
    now += 1000;
    return detector.observe(new Observation(now, leaderReached, leaderReached ? "" : "connect refused",
        replica(io), false));
  }

  private DbStatus replica(DbStatus.Thread io) {
    return new DbStatus("i-0000000000000db02", "prod", now, DbStatus.Server.UP, "", 3306, 2, true, io,
        DbStatus.Thread.YES, "0-1-" + received, "0-1-" + received, "0-1-" + received, 0, heartbeats, false, true, 0,
        "");
  }
}
