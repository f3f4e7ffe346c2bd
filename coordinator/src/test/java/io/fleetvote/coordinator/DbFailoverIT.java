package io.fleetvote.coordinator;

import io.fleetvote.testkit.Await;
import io.fleetvote.testkit.CoordinatorClient;
import io.fleetvote.testkit.HttpReply;
import io.fleetvote.testkit.NetworkCut;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static io.fleetvote.coordinator.DbPairs.awaitPair;
import static io.fleetvote.coordinator.DbPairs.dbPair;
import static io.fleetvote.coordinator.DbPairs.failover;
import static io.fleetvote.coordinator.DbPairs.health;
import static io.fleetvote.coordinator.DbPairs.masterOf;
import static io.fleetvote.coordinator.DbPairs.replicaOf;
import static io.fleetvote.coordinator.DbPairs.signal;
import static io.fleetvote.coordinator.DbPairs.sql;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The DB pair's failover with three coordinator processes and real MariaDB processes:
 * <ul>
 *   <li>no failover under transient faults, each five times: the master stalled for 2 s (SIGSTOP, SIGCONT: the
 *   leader's probe fails, the replica's IO thread still runs), the replica's SQL thread stopped, the coordinators
 *   alone cut off from the master (a {@link NetworkCut}: the kernel drops their packets to its port);</li>
 *   <li>under an operator's maintenance flag a master whose instance died is not judged, and fails over once the flag
 *   is off; but a backup's read lock on the replica keeps it from applying the master's last transaction, so the
 *   promotion fails five times and the failover stops there, no server writable, until an operator acknowledges it:
 *   the next failover promotes the replica with that transaction;</li>
 *   <li>the leader frozen in the middle of a failover (its fence cannot be verified: EC2 throttles every call): a
 *   standby takes over, raises the fence and finishes the same failover from the journal; the old leader, thawed, is
 *   a follower and changes nothing: one writable master throughout.</li>
 * </ul>
 */
class DbFailoverIT {

  private static final Duration UP = Duration.ofSeconds(240);

  /** Kept after a failure: the coordinators' and the instances' logs are in it. */
  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  Path dir;
  /** The sandbox and three coordinator processes running the pair, one of them the leader at a time. */
  DbPairs db;

  @BeforeEach
  void start() throws IOException {
    db = DbPairs.start(dir, 3, "dbfo", new JsonObject().put("applyWaitSeconds", 1));
  }

  @AfterEach
  void stop() {
    if (db != null) {
      db.close();
    }
  }

  @Test
  void transientFaultsNeverFailOverMaintenanceHoldsItAndAFrozenLeadersFailoverIsFinishedByItsSuccessor()
      throws IOException {
    CoordinatorProcess leader = db.leader(UP);
    JsonObject pair = awaitPair(leader, UP);
    String master = masterOf(pair);
    String replica = replicaOf(pair);

    // The master stalled 2 s, five times: the leader's probe fails, the replica's IO thread runs on: no failover.
    long mariadbd = db.mariadbdPid(master);
    for (int i = 0; i < 5; i++) {
      signal("STOP", mariadbd);
      LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(2));
      signal("CONT", mariadbd);
      long resumed = System.currentTimeMillis();
      Await.until("the master judged alive after stall " + (i + 1), UP, () -> health(leader),
          h -> h.getLong("at", 0L) > resumed && "alive".equals(h.getString("verdict")));
    }
    // The replica's SQL thread stopped for 2 s, five times: it still receives; the master answers: no failover.
    Path replicaCnf = db.cnf(replica);
    for (int i = 0; i < 5; i++) {
      sql(replicaCnf, "STOP SLAVE SQL_THREAD");
      LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(2));
      sql(replicaCnf, "START SLAVE SQL_THREAD");
    }
    // The coordinators alone cut off from the master, five times, each for as many of the leader's probe rounds as
    // would find a dead master dead (3): the kernel drops their packets to its port (their probes time out), the
    // replica still replicates from it: judged cut off each round, never dead; no failover.
    int masterPort = leader.api.db().stream().filter(r -> master.equals(r.getString("instanceId"))).findFirst()
        .orElseThrow().getInteger("port");
    try (NetworkCut cut = NetworkCut.create("dbfo")) {
      db.coordinators.forEach(c -> cut.join(c.pid()));
      for (int i = 0; i < 5; i++) {
        cut.cut(masterPort);
        Map<Long, JsonObject> rounds = new TreeMap<>();
        Await.until("the master judged in 3 rounds of cut " + (i + 1), UP, () -> health(leader), h -> {
          if (!"alive".equals(h.getString("verdict"))) {
            rounds.put(h.getLong("at", 0L), h);
          }
          return rounds.size() >= 3 || "dead".equals(h.getString("verdict"));
        });
        assertThat(rounds.values()).as("each round judged with the coordinators cut off").allSatisfy(h -> {
          assertThat(h.getString("verdict")).isEqualTo("unreachable_by_leader");
          assertThat(h.getString("reason")).contains("cut off from the coordinators, not dead");
        });
        cut.heal();
        long healed = System.currentTimeMillis();
        Await.until("the master judged alive after cut " + (i + 1), UP, () -> health(leader),
            h -> h.getLong("at", 0L) > healed && "alive".equals(h.getString("verdict")));
      }
    }
    JsonObject calm = Await.until("the pair replicating after the faults", UP, () -> dbPair(leader),
        p -> "replicating".equals(p.getString("phase")));
    assertThat(calm.getJsonObject("topology").getValue("failover")).as("no failover after transient faults")
        .isNull();
    assertThat(calm.getJsonObject("topology").getInteger("masterSlot")).isEqualTo(1);

    // Under maintenance, a master whose instance died is not judged (its replica agrees it is gone): no failover.
    CoordinatorProcess standby = db.coordinators.stream().filter(c -> c != leader).findFirst().orElseThrow();
    assertThat(standby.api.post("/api/db/maintenance", "{\"on\": true, \"reason\": \"a backup\"}").status())
        .as("maintenance set through a standby").isEqualTo(200);
    Await.until("the leader sees the maintenance flag", UP, () -> dbPair(leader),
        p -> p.getJsonObject("maintenance") != null);
    // A backup on the replica holds its tables (FLUSH TABLES WITH READ LOCK) when the master's last transaction comes:
    // received and acknowledged, not applied. The failover's promotion cannot apply it within its bound (1 s here):
    // it fails, is sent again, and after five tries the failover fails with no writable server, until an operator
    // acknowledges it; then a new failover promotes the replica with everything it received.
    String failedId;
    try (DbPairs.Held backup = DbPairs.readLock(replicaCnf)) {
      sql(db.cnf(master), "CREATE DATABASE held_back");
      db.admin.kill(master);
      long killed = System.currentTimeMillis();
      JsonObject held = Await.until("the dead master under maintenance judged for 2.5 s", UP, () -> health(leader),
          h -> "maintenance".equals(h.getString("verdict")) && h.getLong("at", 0L) > killed + 2500);
      assertThat(held.getString("instanceId")).isEqualTo(master);
      assertThat(dbPair(leader).getJsonObject("topology").getValue("failover")).as("no failover under maintenance")
          .isNull();
      assertThat(leader.api.post("/api/db/maintenance", "{\"on\": false}").status()).isEqualTo(200);

      JsonObject failed = Await.until("the failover failed, its promotion never applying", UP, () -> dbPair(leader),
          p -> failover(p).map(f -> "failed".equals(f.getString("phase"))).orElse(false));
      JsonObject journal = failover(failed).orElseThrow();
      failedId = journal.getString("id");
      List<JsonObject> steps = journal.getJsonArray("steps").stream().map(JsonObject.class::cast).toList();
      assertThat(steps).extracting(st -> st.getString("name")).containsSubsequence("detected", "fenced",
          "promote-failed", "promote-failed", "promote-failed", "promote-failed", "failed");
      assertThat(steps.stream().filter(st -> "promote-failed".equals(st.getString("name"))).findFirst().orElseThrow()
          .getString("text")).contains("the replica did not apply what it had received", "within 1 s",
          "not promoted, replicating again");
      assertThat(steps.get(steps.size() - 1).getString("text")).contains("the promotion failed 5 times",
          "no server takes writes", "acknowledge");
      assertThat(sql(replicaCnf, "SELECT @@read_only").lines().skip(1).toList()).as("the replica still read-only")
          .containsExactly("1");
      // It stays so, no new failover, tick after tick, until someone looks.
      long seen = System.currentTimeMillis();
      JsonObject later = Await.until("the leader's ticks 1.5 s on", UP, () -> dbPair(leader),
          p -> p.getJsonObject("route") != null && p.getJsonObject("route").getLong("sentAt", 0L) > seen + 1500);
      assertThat(failover(later).orElseThrow().getString("id")).isEqualTo(failedId);
      assertThat(failover(later).orElseThrow().getString("phase")).isEqualTo("failed");
      assertThat(later.getJsonObject("route").getValue("master")).as("no write backend").isNull();
    }
    // The backup done, an operator acknowledges: the next failover promotes the replica, nothing it received lost.
    HttpReply acknowledged = leader.api.post("/api/db/acknowledge", "{}");
    assertThat(acknowledged.status()).as(acknowledged.body()).isEqualTo(200);
    JsonObject first = Await.until("the failover after the acknowledgement", UP, () -> dbPair(leader),
        p -> failover(p).map(f -> !failedId.equals(f.getString("id")) && "done".equals(f.getString("phase")))
            .orElse(false));
    assertThat(failover(first).orElseThrow().getString("oldMaster")).as("the same dead master, no empty one launched "
        + "in its slot").isEqualTo(master);
    assertThat(failover(first).orElseThrow().getString("target")).isEqualTo(replica);
    assertThat(failover(first).orElseThrow().getLong("lost")).isZero();
    assertThat(first.getJsonObject("topology").getInteger("masterSlot")).isEqualTo(2);
    assertThat(sql(replicaCnf, "SHOW DATABASES LIKE 'held_back'")).as("the transaction it held, applied")
        .contains("held_back");

    // The old slot rebuilt; then the leader freezes in the middle of the next failover: EC2 throttles every call, so
    // the fence (StopInstances) cannot be had and the failover waits in its fencing phase.
    JsonObject rebuilt = awaitPair(leader, UP);
    String second = masterOf(rebuilt);
    String fresh = replicaOf(rebuilt);
    assertThat(second).isEqualTo(replica);
    db.admin.throttle(1_000_000);
    db.admin.kill(second);
    JsonObject fencing = Await.until("the failover waiting for its fence", UP, () -> dbPair(leader),
        p -> failover(p).map(f -> "fencing".equals(f.getString("phase"))
            && second.equals(f.getString("oldMaster"))).orElse(false));
    JsonObject started = failover(fencing).orElseThrow();
    long startFence = fencing.getJsonObject("topology").getLong("fence");
    long startEpoch = leader.epoch();
    leader.freeze();
    db.admin.clearFaults();
    CoordinatorProcess successor = Await.until("a standby leading", UP, () -> db.coordinators.stream()
        .filter(c -> c != leader && c.leads()).findFirst(), Optional::isPresent).orElseThrow();
    long successorEpoch = successor.epoch();
    assertThat(successorEpoch).isGreaterThan(startEpoch);
    JsonObject finished = Await.until("the same failover finished by the successor", UP, () -> dbPair(successor),
        p -> failover(p).map(f -> "done".equals(f.getString("phase"))).orElse(false));
    JsonObject done = failover(finished).orElseThrow();
    assertThat(done.getString("id")).as("the journal's failover, not a second one").isEqualTo(started.getString("id"));
    assertThat(done.getString("target")).isEqualTo(fresh);
    long successorFence = finished.getJsonObject("topology").getLong("fence");
    assertThat(successorFence).as("the successor's fence").isGreaterThan(startFence);
    JsonObject fenced = done.getJsonArray("steps").stream().map(JsonObject.class::cast)
        .filter(s -> "fenced".equals(s.getString("name"))).findFirst().orElseThrow();
    assertThat(fenced.getLong("fence")).as("fenced by the successor").isEqualTo(successorFence);
    assertThat(fenced.getString("text")).contains("StopInstances");
    assertThat(finished.getJsonObject("topology").getInteger("masterSlot")).isEqualTo(1);

    // The old leader thawed: it follows, and the failover, the master and its fence stay the successor's.
    leader.thaw();
    Await.until("the thawed coordinator following", UP, () -> leader.api.ifAnswered(CoordinatorClient::leader)
        .map(l -> !l.leader() && l.holderEpoch() >= successorEpoch).orElse(false));
    JsonObject after = Await.until("the pair replicating again", UP, () -> dbPair(successor),
        p -> "replicating".equals(p.getString("phase")));
    assertThat(failover(after).orElseThrow().getString("id")).isEqualTo(done.getString("id"));
    assertThat(masterOf(after)).isEqualTo(fresh);
    assertThat(Files.readString(db.instanceDir(fresh).resolve("db/epoch")).strip())
        .as("the new master obeys the successor's fence").isEqualTo(Long.toString(after.getJsonObject("topology")
            .getLong("fence")));
    List<JsonObject> writable = successor.api.db().stream().filter(r -> "up".equals(r.getString("server"))
        && !r.getBoolean("readOnly")).toList();
    assertThat(writable).extracting(r -> r.getString("instanceId")).as("one writable master").containsExactly(fresh);
    assertThat(db.ec2.describeInstances(b -> b.instanceIds(master, second)).reservations().stream()
        .flatMap(r -> r.instances().stream()).map(i -> i.state().nameAsString()))
        .as("both old masters stopped through EC2").containsOnly("stopped");
  }
}
