package io.fleetvote.coordinator;

import io.fleetvote.sandbox.ImageCatalog;
import io.fleetvote.testkit.Await;
import io.fleetvote.testkit.CoordinatorClient;
import io.fleetvote.testkit.Ec2Clients;
import io.fleetvote.testkit.SandboxAdmin;
import io.fleetvote.testkit.SandboxProcess;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.ec2.Ec2Client;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The DB pair's failover with three coordinator processes and real MariaDB processes:
 * <ul>
 *   <li>no failover under transient faults, each five times: the master stalled for 2 s (SIGSTOP, SIGCONT: the
 *   leader's probe fails, the replica's IO thread still runs), the replica's SQL thread stopped;</li>
 *   <li>under an operator's maintenance flag a master whose instance died is not judged, and fails over once the flag
 *   is off;</li>
 *   <li>the leader frozen in the middle of a failover (its fence cannot be verified: EC2 throttles every call): a
 *   standby takes over, raises the fence and finishes the same failover from the journal; the old leader, thawed, is
 *   a follower and changes nothing: one writable master throughout.</li>
 * </ul>
 */
class DbFailoverIT {

  private static final Duration UP = Duration.ofSeconds(240);

  /** Three coordinator processes, one of them the leader at a time. */
  final List<CoordinatorProcess> coordinators = new ArrayList<>();
  @TempDir
  Path dir;
  SandboxProcess sandbox;
  Ec2Client ec2;
  SandboxAdmin admin;

  @BeforeEach
  void start() throws IOException {
    sandbox = SandboxProcess.start(dir.resolve("sandbox"));
    admin = sandbox.admin();
    ec2 = Ec2Clients.sync(sandbox.endpoint());
    Path groups = dir.resolve("groups.json");
    Files.writeString(groups, new JsonObject().put("groups", new JsonArray())
        .put("db", new JsonObject().put("imageId", ImageCatalog.imageId("fleetvote-db")).put("volumeGiB", 1)
            .put("failover", new JsonObject().put("antiFlapSeconds", 0))).encode());
    coordinators.addAll(CoordinatorProcess.startThree(dir, sandbox, groups, "dbfo", 500, 1000));
  }

  @AfterEach
  void stop() {
    if (admin != null) {
      admin.clearFaults();
      admin.terminateAll();
    }
    CoordinatorProcess.stopAll(coordinators, ec2, sandbox);
  }

  @Test
  void transientFaultsNeverFailOverMaintenanceHoldsItAndAFrozenLeadersFailoverIsFinishedByItsSuccessor()
      throws IOException {
    CoordinatorProcess leader = leader();
    JsonObject pair = awaitPair(leader);
    String master = masterOf(pair);
    String replica = replicaOf(pair);

    // The master stalled 2 s, five times: the leader's probe fails, the replica's IO thread runs on: no failover.
    long mariadbd = Long.parseLong(Files.readString(instanceDir(master).resolve("db/mariadb.pid")).trim());
    for (int i = 0; i < 5; i++) {
      signal("STOP", mariadbd);
      LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(2));
      signal("CONT", mariadbd);
      long resumed = System.currentTimeMillis();
      Await.until("the master judged alive after stall " + (i + 1), UP, () -> health(leader),
          h -> h.getLong("at", 0L) > resumed && "alive".equals(h.getString("verdict")));
    }
    // The replica's SQL thread stopped for 2 s, five times: it still receives; the master answers: no failover.
    Path replicaCnf = instanceDir(replica).resolve("db/my.cnf");
    for (int i = 0; i < 5; i++) {
      sql(replicaCnf, "STOP SLAVE SQL_THREAD");
      LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(2));
      sql(replicaCnf, "START SLAVE SQL_THREAD");
    }
    JsonObject calm = Await.until("the pair replicating after the faults", UP, () -> dbPair(leader),
        p -> "replicating".equals(p.getString("phase")));
    assertThat(calm.getJsonObject("topology").getValue("failover")).as("no failover after transient faults")
        .isNull();
    assertThat(calm.getJsonObject("topology").getInteger("masterSlot")).isEqualTo(1);

    // Under maintenance, a master whose instance died is not judged (its replica agrees it is gone): no failover.
    CoordinatorProcess standby = coordinators.stream().filter(c -> c != leader).findFirst().orElseThrow();
    assertThat(standby.api.post("/api/db/maintenance", "{\"on\": true, \"reason\": \"a backup\"}").status())
        .as("maintenance set through a standby").isEqualTo(200);
    Await.until("the leader sees the maintenance flag", UP, () -> dbPair(leader),
        p -> p.getJsonObject("maintenance") != null);
    admin.kill(master);
    long killed = System.currentTimeMillis();
    JsonObject held = Await.until("the dead master under maintenance judged for 4 s", UP, () -> health(leader),
        h -> "maintenance".equals(h.getString("verdict")) && h.getLong("at", 0L) > killed + 4000);
    assertThat(held.getString("instanceId")).isEqualTo(master);
    assertThat(dbPair(leader).getJsonObject("topology").getValue("failover")).as("no failover under maintenance")
        .isNull();
    assertThat(leader.api.post("/api/db/maintenance", "{\"on\": false}").status()).isEqualTo(200);
    JsonObject first = Await.until("the failover once maintenance ended", UP, () -> dbPair(leader),
        p -> failover(p).map(f -> "done".equals(f.getString("phase"))).orElse(false));
    assertThat(failover(first).orElseThrow().getString("target")).isEqualTo(replica);
    assertThat(first.getJsonObject("topology").getInteger("masterSlot")).isEqualTo(2);

    // The old slot rebuilt; then the leader freezes in the middle of the next failover: EC2 throttles every call, so
    // the fence (StopInstances) cannot be had and the failover waits in its fencing phase.
    JsonObject rebuilt = awaitPair(leader);
    String second = masterOf(rebuilt);
    String fresh = replicaOf(rebuilt);
    assertThat(second).isEqualTo(replica);
    admin.throttle(1_000_000);
    admin.kill(second);
    JsonObject fencing = Await.until("the failover waiting for its fence", UP, () -> dbPair(leader),
        p -> failover(p).map(f -> "fencing".equals(f.getString("phase"))
            && second.equals(f.getString("oldMaster"))).orElse(false));
    JsonObject started = failover(fencing).orElseThrow();
    long startFence = fencing.getJsonObject("topology").getLong("fence");
    long startEpoch = leader.epoch();
    leader.freeze();
    admin.clearFaults();
    CoordinatorProcess successor = Await.until("a standby leading", UP, () -> coordinators.stream()
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
    assertThat(Files.readString(instanceDir(fresh).resolve("db/epoch")).strip())
        .as("the new master obeys the successor's fence").isEqualTo(Long.toString(after.getJsonObject("topology")
            .getLong("fence")));
    List<JsonObject> writable = successor.api.db().stream().filter(r -> "up".equals(r.getString("server"))
        && !r.getBoolean("readOnly")).toList();
    assertThat(writable).extracting(r -> r.getString("instanceId")).as("one writable master").containsExactly(fresh);
    assertThat(ec2.describeInstances(b -> b.instanceIds(master, second)).reservations().stream()
        .flatMap(r -> r.instances().stream()).map(i -> i.state().nameAsString()))
        .as("both old masters stopped through EC2").containsOnly("stopped");
  }

  private CoordinatorProcess leader() {
    return Await.until("a leader", UP, () -> coordinators.stream().filter(CoordinatorProcess::leads).findFirst(),
        Optional::isPresent).orElseThrow();
  }

  /** The pair replicating with semi-sync acknowledged, as the leader shows it, and its master judged alive. */
  private JsonObject awaitPair(CoordinatorProcess leader) {
    JsonObject pair = Await.until("the pair replicating", UP, () -> dbPair(leader),
        p -> "replicating".equals(p.getString("phase")) && p.getJsonObject("route").getJsonObject("master") != null);
    String master = masterOf(pair);
    Await.until("semi-sync acknowledged by the replica", UP, () -> leader.api.ifAnswered(CoordinatorClient::db)
        .orElse(List.of()), reports -> reports.stream().anyMatch(r -> master.equals(r.getString("instanceId"))
        && r.getBoolean("semiSyncMaster") && r.getInteger("semiSyncClients") == 1));
    Await.until("the master judged alive", UP, () -> health(leader), h -> "alive".equals(h.getString("verdict"))
        && master.equals(h.getString("instanceId")));
    return dbPair(leader);
  }

  private static JsonObject dbPair(CoordinatorProcess coordinator) {
    return coordinator.api.ifAnswered(CoordinatorClient::dbPair).orElse(new JsonObject());
  }

  private static JsonObject health(CoordinatorProcess coordinator) {
    JsonObject health = dbPair(coordinator).getJsonObject("masterHealth");
    return health == null ? new JsonObject() : health;
  }

  private static Optional<JsonObject> failover(JsonObject pair) {
    return Optional.ofNullable(pair.getJsonObject("topology")).map(t -> t.getJsonObject("failover"));
  }

  private static String masterOf(JsonObject pair) {
    return pair.getJsonArray("slots").getJsonObject(pair.getJsonObject("topology").getInteger("masterSlot") - 1)
        .getString("instanceId");
  }

  private static String replicaOf(JsonObject pair) {
    return pair.getJsonArray("slots").getJsonObject(2 - pair.getJsonObject("topology").getInteger("masterSlot"))
        .getString("instanceId");
  }

  private Path instanceDir(String instanceId) {
    return Path.of(admin.instance(instanceId).getString("dir"));
  }

  /** A statement as the server's operator runs it: the mariadb client on its socket, from its agent's my.cnf. */
  private static void sql(Path cnf, String statement) {
    run(List.of("mariadb", "--defaults-file=" + cnf, "--batch", "-e", statement));
  }

  private static void signal(String signal, long pid) {
    run(List.of("kill", "-" + signal, Long.toString(pid)));
  }

  private static void run(List<String> command) {
    try {
      Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IllegalStateException(command + " did not finish within 10 s");
      }
      String output = new String(process.getInputStream().readAllBytes());
      if (process.exitValue() != 0) {
        throw new IllegalStateException(command + " exited with " + process.exitValue() + ": " + output);
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot run " + command + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
