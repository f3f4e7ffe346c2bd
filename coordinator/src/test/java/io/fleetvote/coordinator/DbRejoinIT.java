package io.fleetvote.coordinator;

import io.fleetvote.testkit.Await;
import io.fleetvote.testkit.Chromium;
import io.fleetvote.testkit.CoordinatorClient;
import io.fleetvote.testkit.HttpReply;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.Alert;
import org.openqa.selenium.By;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

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
 * The old master back after a failover, with one coordinator process and real MariaDB processes: its mariadbd hangs
 * (SIGSTOP) while its DB agent lives, so the failover's fence is its agent's (MariaDB killed, started again read-only;
 * the instance is not stopped through EC2) and the old master stays its slot's. Then (reference B2), on one pair, the
 * first master failing over to the second and then the second back to the first:
 * <ul>
 *   <li>clean, it rejoins as the new master's replica: replicating from it with semi-sync acknowledged, the new
 *   master's writes on it;</li>
 *   <li>holding a transaction the new master never had, it is quarantined: read-only, replicating from nothing, out of
 *   every backend, a problem naming its binlog's extra transaction, while the new master takes writes; an operator's
 *   rebuild gives its slot a new instance that replicates.</li>
 * </ul>
 * One writable server at every look, in both.
 */
class DbRejoinIT {

  private static final Duration UP = Duration.ofSeconds(180);

  /** The mariadbd processes this test stopped (SIGSTOP): thawed at the end if still alive, so that they can stop. */
  final List<Long> hung = new ArrayList<>();
  /** The writable servers at each look that found more than one. */
  final List<List<String>> twoWriters = new ArrayList<>();
  /** Kept after a failure: the coordinators' and the instances' logs are in it. */
  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  Path dir;
  /** The sandbox and one coordinator process running the pair. */
  DbPairs db;
  CoordinatorProcess leader;
  /** The pair's master and replica at the start, each with a first row in {@code rejoin.marks}. */
  String master;
  String replica;

  @BeforeEach
  void start() throws IOException {
    db = DbPairs.start(dir, 1, "dbrj");
    leader = db.leader(UP);
    JsonObject pair = awaitPair(leader, UP);
    master = masterOf(pair);
    replica = replicaOf(pair);
    sql(db.cnf(master), "CREATE DATABASE rejoin; CREATE TABLE rejoin.marks (mark VARCHAR(40) PRIMARY KEY); "
        + "INSERT INTO rejoin.marks VALUES ('before')");
    Await.until("the master's first row on the replica", UP, () -> marks(replica), m -> m.contains("before"));
  }

  @AfterEach
  void stop() {
    hung.stream().filter(pid -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false))
        .forEach(pid -> signal("CONT", pid));
    if (db != null) {
      db.close();
    }
  }

  @Test
  void aCleanOldMasterRejoinsOneHoldingAnErrantTransactionIsQuarantinedAndAnOperatorForcesARefusedFailover()
      throws IOException, InterruptedException {
    // The pair's first master fails over clean and rejoins; the second, holding an errant transaction, is quarantined;
    // the first, master again, dies with semi-sync off: refused, then forced.
    cleanRejoin(master, replica);
    String fresh = errantQuarantine(replica, master);
    forcedFailover(master, fresh);
    assertThat(twoWriters).as("looks that found two writable servers").isEmpty();
  }

  /**
   * {@code oldMaster}, semi-sync off (an operator's SET GLOBAL), its instance killed: automatic failover refuses, as
   * acknowledged writes may be missing on the replica, and says how to force it. A forced failover needs a reason and
   * a master found dead (one asked while it answers is refused); then it fences and promotes like an automatic one.
   */
  private void forcedFailover(String oldMaster, String newMaster) throws IOException, InterruptedException {
    HttpReply noReason = leader.api.post("/api/db/failover", "{}");
    assertThat(noReason.status()).as(noReason.body()).isEqualTo(400);
    assertThat(noReason.body()).contains("reason");
    long asked = System.currentTimeMillis();
    // As an operator runs it: ./fleetvote failover --reason TEXT, which follows the request to the leader's answer.
    ByteArrayOutputStream drill = new ByteArrayOutputStream();
    try (PrintStream out = new PrintStream(drill, true, StandardCharsets.UTF_8)) {
      assertThat(FailoverMain.run(new SwitchoverMain.Options(leader.api.base(), null, null, null), "a drill", out,
          out)).as("failover's exit code; it said: %s", drill.toString(StandardCharsets.UTF_8)).isEqualTo(1);
    }
    assertThat(drill.toString(StandardCharsets.UTF_8)).contains("failover asked; following it",
        "failover refused by the leader: ", "is not found dead (alive");
    JsonObject refused = Await.until("the forced failover of a live master answered", UP, this::watched,
        p -> p.getJsonObject("switchover") != null && p.getJsonObject("switchover").getLong("at") >= asked
            && !"requested".equals(p.getJsonObject("switchover").getString("state")));
    assertThat(refused.getJsonObject("switchover").getString("state")).isEqualTo("refused");
    assertThat(refused.getJsonObject("switchover").getString("why")).contains("is not found dead (alive",
        "POST /api/db/switchover");
    assertThat(failover(refused).orElseThrow().getString("kind")).as("the latest failover: still the last one")
        .isEqualTo("automatic");

    sql(db.cnf(oldMaster), "SET GLOBAL rpl_semi_sync_master_enabled=OFF");
    Await.until("the master reporting semi-sync off", UP, () -> report(oldMaster),
        r -> !r.getBoolean("semiSyncMaster"));
    db.admin.kill(oldMaster);
    JsonObject held = Await.until("automatic failover refused for the dead master", UP, () -> health(leader),
        h -> "dead".equals(h.getString("verdict")) && h.getString("refusal") != null);
    assertThat(held.getString("refusal")).contains("semi-sync off", "POST /api/db/failover");
    assertThat(failover(dbPair(leader)).orElseThrow().getString("kind")).as("no failover started")
        .isEqualTo("automatic");
    // Its last report, writable, expires first: the writable servers at each look are live ones.
    Await.until("the dead master's report gone", UP, () -> leader.api.db(),
        reports -> reports.stream().noneMatch(r -> oldMaster.equals(r.getString("instanceId"))));

    long forcedAt = System.currentTimeMillis();
    // On the dashboard: the refusal, and beside it the button that forces the failover once a reason is given.
    try (Chromium browser = Chromium.start(dir.resolve("chromium"))) {
      browser.driver().get(leader.api.base().resolve("/").toString());
      WebDriverWait wait = new WebDriverWait(browser.driver(), UP);
      wait.ignoring(StaleElementReferenceException.class);
      wait.until(d -> d.findElement(By.id("db-master-health")).getText().contains("semi-sync off")
          && !d.findElements(By.cssSelector("button[data-action=db-force-failover]")).isEmpty());
      browser.driver().findElement(By.cssSelector("button[data-action=db-force-failover]")).click();
      Alert reason = wait.until(ExpectedConditions.alertIsPresent());
      reason.sendKeys("the master is gone, its replica is all we have");
      reason.accept();
      Await.until("the forced failover asked from the dashboard", UP, this::watched,
          p -> p.getJsonObject("switchover") != null && p.getJsonObject("switchover").getLong("at") >= forcedAt);
      assertThat(browser.consoleErrors()).isEmpty();
    }
    JsonObject done = Await.until("the forced failover done", UP, this::watched,
        p -> failover(p).map(f -> "forced".equals(f.getString("kind")) && "done".equals(f.getString("phase")))
            .orElse(false));
    JsonObject journal = failover(done).orElseThrow();
    assertThat(journal.getString("target")).isEqualTo(newMaster);
    assertThat(journal.getJsonArray("steps").getJsonObject(0).getString("text"))
        .contains("failover forced by", "the master is gone, its replica is all we have", "semi-sync off");
    assertThat(journal.getJsonArray("steps").stream().map(st -> ((JsonObject) st).getString("name")))
        .containsSubsequence("detected", "write-backend-emptied", "fenced", "promoted");
    assertThat(done.getJsonObject("switchover").getString("state")).isEqualTo("started");
    assertThat(done.getJsonObject("switchover").getString("failover")).isEqualTo(journal.getString("id"));
    assertThat(done.getJsonObject("switchover").getLong("at")).isGreaterThanOrEqualTo(forcedAt);
    Await.until("the write backend on the new master", UP, this::watched, p -> p.getJsonObject("route") != null
        && p.getJsonObject("route").getJsonObject("master") != null
        && newMaster.equals(p.getJsonObject("route").getJsonObject("master").getString("instanceId")));
    Await.until("the new master writable", UP, this::writable, w -> w.equals(List.of(newMaster)));

    // The pair's view lists this coordinator's failovers, newest first: the forced one, then the two automatic ones.
    JsonArray history = Await.until("the forced failover in the history", UP, () -> dbPair(leader)
        .getJsonArray("history"), h -> h != null && !h.isEmpty() && journal.getString("id")
        .equals(h.getJsonObject(0).getString("id")) && "done".equals(h.getJsonObject(0).getString("phase")));
    assertThat(history.stream().map(h -> ((JsonObject) h).getString("kind")))
        .containsExactly("forced", "automatic", "automatic");
    assertThat(history.getJsonObject(0).getString("oldMaster")).isEqualTo(oldMaster);
    assertThat(history.getJsonObject(0).getString("target")).isEqualTo(newMaster);
  }

  /**
   * {@code oldMaster}, clean, hangs: failed over to {@code newMaster}, it rejoins as its replica. A backup's read lock
   * on the replica holds the promotion (the master's last write received, not applied), and the coordinator is killed
   * then (SIGKILL, phase promoting): started again, it finishes the same failover from the topology it kept.
   */
  private void cleanRejoin(String oldMaster, String newMaster) throws IOException {
    JsonObject done;
    try (DbPairs.Held backup = DbPairs.readLock(db.cnf(newMaster))) {
      sql(db.cnf(oldMaster), "INSERT INTO rejoin.marks VALUES ('held')");
      done = fencedByItsAgentAndFailedOver(oldMaster, newMaster, promoting -> {
        leader.kill();
        backup.close();
        CoordinatorProcess again = leader.restarted();
        db.coordinators.set(db.coordinators.indexOf(leader), again);
        leader = again;
        System.out.printf("coordinator killed in failover %s's promotion, started again%n",
            promoting.getString("id"));
      });
    }
    assertThat(done.getLong("lost")).as("transactions lost").isZero();
    assertThat(marks(newMaster)).as("the write the promotion waited for").contains("held");
    List<JsonObject> steps = done.getJsonArray("steps").stream().map(JsonObject.class::cast).toList();
    long fencedBy = steps.stream().filter(st -> "fenced".equals(st.getString("name"))).findFirst().orElseThrow()
        .getLong("fence");
    long promotedBy = steps.stream().filter(st -> "promoted".equals(st.getString("name"))).findFirst()
        .orElseThrow().getLong("fence");
    assertThat(promotedBy).as("promoted under the restarted coordinator's fence").isGreaterThan(fencedBy);

    long failedOver = System.nanoTime();
    JsonObject rejoined = Await.until("the old master the new one's replica", UP, this::watched,
        p -> "replicating".equals(p.getString("phase")) && newMaster.equals(masterOf(p))
            && oldMaster.equals(replicaOf(p)));
    System.out.printf("old master %s replicating from %s %d ms after the failover%n", oldMaster, newMaster,
        Duration.ofNanos(System.nanoTime() - failedOver).toMillis());
    assertThat(rejoined.getJsonArray("problems")).as("problems").isEmpty();
    assertThat(replicaOf(awaitPair(leader, UP))).as("the replica acknowledging semi-sync").isEqualTo(oldMaster);
    JsonObject route = dbPair(leader).getJsonObject("route");
    assertThat(route.getJsonObject("master").getString("instanceId")).isEqualTo(newMaster);
    assertThat(route.getJsonArray("replicas").stream().map(r -> ((JsonObject) r).getString("instanceId")))
        .as("the read backend").containsExactly(oldMaster);
    Map<String, String> replication = firstRow(sql(db.cnf(oldMaster), "SHOW SLAVE STATUS"));
    assertThat(replication).as("the old master's replication").containsEntry("Slave_IO_Running", "Yes")
        .containsEntry("Slave_SQL_Running", "Yes").containsEntry("Using_Gtid", "Slave_Pos")
        .containsEntry("Master_Host", route.getJsonObject("master").getString("host"))
        .containsEntry("Master_Port", Integer.toString(route.getJsonObject("master").getInteger("port")));

    sql(db.cnf(newMaster), "INSERT INTO rejoin.marks VALUES ('after')");
    Await.until("the new master's write on the old master", UP, () -> marks(oldMaster), m -> m.contains("after"));
    assertThat(writable()).as("the writable server").containsExactly(newMaster);
  }

  /**
   * {@code oldMaster}, holding a transaction {@code newMaster} never had, hangs: failed over, it is quarantined
   * until an operator's rebuild gives its slot a new instance, which this returns.
   */
  private String errantQuarantine(String oldMaster, String newMaster) throws IOException {
    // The errant transaction, before the old master could rejoin whatever the timing: the fence's SIGKILL has its
    // agent start mariadbd again, which runs its init file before it serves anyone (its agent included). A binlogged
    // write appended there is in its binlog, under its own server_id, before its agent can report the server up, let
    // alone be told to replicate. (Written as root on its socket after the fence instead, it races the agent's report
    // and the leader's REPLICA, a second or so after the restart.)
    Path init = db.instanceDir(oldMaster).resolve("db/init.sql");
    String agentsInit = Files.readString(init);
    Files.writeString(init, agentsInit + "SET sql_log_bin=1;\nINSERT INTO rejoin.marks VALUES ('errant');\n");
    String serverId = single(sql(db.cnf(oldMaster), "SELECT @@server_id"));

    JsonObject done = fencedByItsAgentAndFailedOver(oldMaster, newMaster);
    JsonObject quarantined = Await.until("the old master quarantined", UP, this::watched,
        p -> quarantine(p, oldMaster).isPresent());
    Files.writeString(init, agentsInit);
    String binlog = single(sql(db.cnf(oldMaster), "SELECT @@gtid_binlog_pos"));
    String promoted = done.getString("promotedGtid");
    assertThat(promoted).as("the promoted position: the old master's writes").startsWith("0-" + serverId + "-");
    assertThat(binlog).as("one transaction of its own past the promoted position")
        .isEqualTo("0-" + serverId + "-" + (Long.parseLong(promoted.substring(promoted.lastIndexOf('-') + 1)) + 1));
    assertThat(quarantine(quarantined, oldMaster).orElseThrow()).contains(binlog, promoted, "1 transaction(s)",
        "POST /api/db/rebuild");
    assertThat(marks(oldMaster)).contains("errant");
    assertThat(marks(newMaster)).doesNotContain("errant");

    // It stays so, tick after tick: read-only, replicating from nothing, in no backend; the new master takes writes.
    long seen = System.currentTimeMillis();
    JsonObject later = Await.until("the leader's ticks 3 s on", UP, this::watched,
        p -> p.getJsonObject("route") != null && p.getJsonObject("route").getLong("sentAt") > seen + 3000);
    assertThat(quarantine(later, oldMaster)).as("still quarantined").isPresent();
    assertThat(replicaOf(later)).as("still its slot's").isEqualTo(oldMaster);
    JsonObject route = later.getJsonObject("route");
    assertThat(route.getJsonObject("master").getString("instanceId")).isEqualTo(newMaster);
    assertThat(route.getJsonArray("replicas")).as("the read backend").isEmpty();
    JsonObject report = report(oldMaster);
    assertThat(report.getString("server")).isEqualTo("up");
    assertThat(report.getBoolean("readOnly")).as("read-only").isTrue();
    assertThat(report.getString("ioThread")).as("replicating from nothing").isEqualTo("none");
    assertThat(single(sql(db.cnf(oldMaster), "SELECT @@read_only"))).isEqualTo("1");
    sql(db.cnf(newMaster), "INSERT INTO rejoin.marks VALUES ('during')");
    assertThat(marks(newMaster)).contains("during");
    assertThat(writable()).as("the writable server").containsExactly(newMaster);

    // Its slot built anew: a new instance on a new volume replicates from the new master; the old one is kept aside.
    HttpReply rebuild = leader.api.post("/api/db/rebuild", "{}");
    assertThat(rebuild.status()).as(rebuild.body()).isEqualTo(200);
    assertThat(rebuild.json().getInteger("rebuilding")).isEqualTo(done.getInteger("fromSlot"));
    Await.until("a new instance in the old master's slot, replicating", UP, this::watched,
        p -> "replicating".equals(p.getString("phase")) && newMaster.equals(masterOf(p)) && replicaOf(p) != null
            && !oldMaster.equals(replicaOf(p)));
    JsonObject rebuilt = awaitPair(leader, UP);
    String fresh = replicaOf(rebuilt);
    assertThat(rebuilt.getJsonObject("route").getJsonArray("replicas").stream()
        .map(r -> ((JsonObject) r).getString("instanceId"))).as("the read backend").containsExactly(fresh);
    assertThat(rebuilt.getJsonArray("problems").stream().map(String.class::cast))
        .anyMatch(p -> p.startsWith(oldMaster + " ") && p.contains("no longer its slot's"));
    Await.until("the new master's writes on the new replica", UP, () -> marks(fresh),
        m -> m.containsAll(List.of("before", "after", "during")));
    assertThat(marks(fresh)).doesNotContain("errant");
    assertThat(instanceState(oldMaster)).as("the quarantined instance, kept").isEqualTo("running");
    return fresh;
  }

  /**
   * {@code oldMaster}'s mariadbd hung (SIGSTOP, its agent alive) until the failover to {@code newMaster} is done:
   * the failover's done journal, its fence by the agent checked (mariadbd killed, not the instance stopped through
   * EC2).
   */
  private JsonObject fencedByItsAgentAndFailedOver(String oldMaster, String newMaster) throws IOException {
    return fencedByItsAgentAndFailedOver(oldMaster, newMaster, null);
  }

  /** The same, with {@code midPromotion} told the failover's journal once it is promoting (its id kept to the end). */
  private JsonObject fencedByItsAgentAndFailedOver(String oldMaster, String newMaster,
                                                   Consumer<JsonObject> midPromotion) throws IOException {
    long mariadbd = db.mariadbdPid(oldMaster);
    signal("STOP", mariadbd);
    hung.add(mariadbd);
    long stopped = System.currentTimeMillis();
    String interrupted = null;
    if (midPromotion != null) {
      JsonObject promoting = failover(Await.until("the hung master's failover promoting", UP, this::watched,
          p -> failover(p).map(f -> oldMaster.equals(f.getString("oldMaster"))
              && "promoting".equals(f.getString("phase"))).orElse(false))).orElseThrow();
      interrupted = promoting.getString("id");
      midPromotion.accept(promoting);
    }
    JsonObject failedOver = Await.until("the hung master failed over", UP, this::watched,
        p -> failover(p).map(f -> oldMaster.equals(f.getString("oldMaster")) && "done".equals(f.getString("phase")))
            .orElse(false));
    System.out.printf("master %s hung -> failed over to %s; its journal, in ms since the hang: %s%n", oldMaster,
        newMaster, failover(failedOver).orElseThrow().getJsonArray("steps").stream().map(JsonObject.class::cast)
            .map(st -> st.getString("name") + " +" + (st.getLong("at") - stopped)).toList());
    // Killed by the fence while stopped; were it not, it would be thawed after the test (stop()).
    Await.until("the hung mariadbd gone", Duration.ofSeconds(10),
        () -> !ProcessHandle.of(mariadbd).map(ProcessHandle::isAlive).orElse(false));
    JsonObject done = failover(failedOver).orElseThrow();
    if (interrupted != null) {
      assertThat(done.getString("id")).as("the interrupted failover, finished").isEqualTo(interrupted);
    }
    assertThat(done.getString("target")).isEqualTo(newMaster);
    assertThat(failedOver.getJsonObject("topology").getInteger("masterSlot")).isEqualTo(done.getInteger("fromSlot")
        == 1 ? 2 : 1);
    String fenced = done.getJsonArray("steps").stream().map(JsonObject.class::cast)
        .filter(s -> "fenced".equals(s.getString("name"))).map(s -> s.getString("text")).findFirst().orElseThrow();
    assertThat(fenced).as("the fence").startsWith("fenced by its agent").contains("SIGKILL")
        .doesNotContain("StopInstances");
    assertThat(instanceState(oldMaster)).as("the old master's instance").isEqualTo("running");
    assertThat(replicaOf(failedOver)).as("the old master, its slot's still").isEqualTo(oldMaster);
    return done;
  }

  /** The pair as the leader shows it; the DB reports looked at beside it for two writable servers. */
  private JsonObject watched() {
    List<String> writable = writable();
    if (writable.size() > 1) {
      twoWriters.add(writable);
    }
    return dbPair(leader);
  }

  /** The servers up and writable, as their agents last reported. */
  private List<String> writable() {
    return leader.api.ifAnswered(CoordinatorClient::db).orElse(List.of()).stream()
        .filter(r -> "up".equals(r.getString("server")) && !r.getBoolean("readOnly"))
        .map(r -> r.getString("instanceId")).toList();
  }

  private JsonObject report(String instanceId) {
    return leader.api.db().stream().filter(r -> instanceId.equals(r.getString("instanceId"))).findFirst()
        .orElseThrow(() -> new AssertionError("no report of " + instanceId));
  }

  private static Optional<String> quarantine(JsonObject pair, String instanceId) {
    return Optional.ofNullable(pair.getJsonArray("problems")).stream().flatMap(JsonArray::stream)
        .map(String.class::cast).filter(p -> p.startsWith("the old master " + instanceId + " is quarantined"))
        .findFirst();
  }

  private String instanceState(String instanceId) {
    return db.ec2.describeInstances(b -> b.instanceIds(instanceId)).reservations().get(0).instances().get(0).state()
        .nameAsString();
  }

  /** The rows of {@code rejoin.marks} on the instance's MariaDB; none before the table is there. */
  private List<String> marks(String instanceId) {
    Path cnf = db.cnf(instanceId);
    String tables = sql(cnf, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'rejoin' "
        + "AND TABLE_NAME = 'marks'");
    return single(tables).equals("0") ? List.of()
        : sql(cnf, "SELECT mark FROM rejoin.marks ORDER BY mark").lines().skip(1).toList();
  }

  /** The one value a query printed. */
  private static String single(String out) {
    List<String> lines = out.lines().toList();
    assertThat(lines).as("a header and one value: " + out).hasSize(2);
    return lines.get(1);
  }

  /** The first row a query printed, by column. */
  private static Map<String, String> firstRow(String out) {
    List<String> lines = out.lines().toList();
    assertThat(lines).as("a header and a row: " + out).hasSizeGreaterThanOrEqualTo(2);
    String[] names = lines.get(0).split("\t", -1);
    String[] values = lines.get(1).split("\t", -1);
    Map<String, String> row = new HashMap<>();
    for (int i = 0; i < names.length && i < values.length; i++) {
      row.put(names[i], values[i]);
    }
    return row;
  }
}
