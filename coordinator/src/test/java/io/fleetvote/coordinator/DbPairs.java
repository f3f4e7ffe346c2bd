package io.fleetvote.coordinator;

import io.fleetvote.sandbox.ImageCatalog;
import io.fleetvote.testkit.Await;
import io.fleetvote.testkit.Commands;
import io.fleetvote.testkit.CoordinatorClient;
import io.fleetvote.testkit.Ec2Clients;
import io.fleetvote.testkit.SandboxAdmin;
import io.fleetvote.testkit.SandboxProcess;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import software.amazon.awssdk.services.ec2.Ec2Client;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The DB pair's failover ITs' rig: a sandbox, coordinator processes running a DB pair (real MariaDB behind each DB
 * agent), an EC2 client; and the pair as they see it: the leader's view ({@code /api/db}), its slots, and each DB
 * instance's MariaDB reached as its operator would (the mariadb client on its socket, signals to its pid).
 */
final class DbPairs implements AutoCloseable {

  final SandboxProcess sandbox;
  final SandboxAdmin admin;
  final Ec2Client ec2;
  final List<CoordinatorProcess> coordinators;

  private DbPairs(SandboxProcess sandbox, Ec2Client ec2, List<CoordinatorProcess> coordinators) {
    this.sandbox = sandbox;
    this.admin = sandbox.admin();
    this.ec2 = ec2;
    this.coordinators = coordinators;
  }

  /**
   * A sandbox and {@code count} coordinators of {@code deployment} (ticks of 500 ms) running the DB pair alone (no app
   * group), in {@code dir}, with no anti-flap window: a failover needs no operator's acknowledgement before the next.
   */
  static DbPairs start(Path dir, int count, String deployment) throws IOException {
    return start(dir, count, deployment, new JsonObject());
  }

  /** The same, with these failover settings besides (the anti-flap window stays 0 unless they set it). */
  static DbPairs start(Path dir, int count, String deployment, JsonObject failover) throws IOException {
    Path groups = dir.resolve("groups.json");
    Files.writeString(groups, new JsonObject().put("groups", new JsonArray())
        .put("db", new JsonObject().put("imageId", ImageCatalog.imageId("fleetvote-db")).put("volumeGiB", 1)
            .put("failover", new JsonObject().put("antiFlapSeconds", 0).mergeIn(failover))).encode());
    SandboxProcess sandbox = SandboxProcess.start(dir.resolve("sandbox"));
    Ec2Client ec2 = null;
    try {
      ec2 = Ec2Clients.sync(sandbox.endpoint());
      return new DbPairs(sandbox, ec2, CoordinatorProcess.startCluster(count, dir, sandbox, groups, deployment, 500,
          1000));
    } catch (RuntimeException e) {
      CoordinatorProcess.stopAll(List.of(), ec2, sandbox);
      throw e;
    }
  }

  /** Faults cleared, every instance terminated, then the coordinators, the EC2 client and the sandbox stopped. */
  @Override
  public void close() {
    admin.clearFaults();
    admin.terminateAll();
    CoordinatorProcess.stopAll(coordinators, ec2, sandbox);
  }

  /** The coordinator that leads, once one does. */
  CoordinatorProcess leader(Duration within) {
    return Await.until("a leader", within, () -> coordinators.stream().filter(CoordinatorProcess::leads).findFirst(),
        Optional::isPresent).orElseThrow();
  }

  Path instanceDir(String instanceId) {
    return Path.of(admin.instance(instanceId).getString("dir"));
  }

  /** The my.cnf the instance's DB agent wrote: its {@code [client]} section names the server's socket. */
  Path cnf(String instanceId) {
    return instanceDir(instanceId).resolve("db/my.cnf");
  }

  /** The pid of the instance's mariadbd, as it wrote it at its latest start. */
  long mariadbdPid(String instanceId) throws IOException {
    return Long.parseLong(Files.readString(instanceDir(instanceId).resolve("db/mariadb.pid")).trim());
  }

  /** The pair replicating with semi-sync acknowledged, as the leader shows it, and its master judged alive. */
  static JsonObject awaitPair(CoordinatorProcess leader, Duration within) {
    JsonObject pair = Await.until("the pair replicating", within, () -> dbPair(leader),
        p -> "replicating".equals(p.getString("phase")) && p.getJsonObject("route").getJsonObject("master") != null);
    String master = masterOf(pair);
    Await.until("semi-sync acknowledged by the replica", within, () -> leader.api.ifAnswered(CoordinatorClient::db)
        .orElse(List.of()), reports -> reports.stream().anyMatch(r -> master.equals(r.getString("instanceId"))
        && r.getBoolean("semiSyncMaster") && r.getInteger("semiSyncClients") == 1));
    Await.until("the master judged alive", within, () -> health(leader), h -> "alive".equals(h.getString("verdict"))
        && master.equals(h.getString("instanceId")));
    return dbPair(leader);
  }

  /** The pair as the coordinator shows it; empty while it gives no answer. */
  static JsonObject dbPair(CoordinatorProcess coordinator) {
    return coordinator.api.ifAnswered(CoordinatorClient::dbPair).orElse(new JsonObject());
  }

  /** The leader's latest judgement of the master; empty before its first. */
  static JsonObject health(CoordinatorProcess coordinator) {
    JsonObject health = dbPair(coordinator).getJsonObject("masterHealth");
    return health == null ? new JsonObject() : health;
  }

  /** The topology's latest failover, if it had one. */
  static Optional<JsonObject> failover(JsonObject pair) {
    return Optional.ofNullable(pair.getJsonObject("topology")).map(t -> t.getJsonObject("failover"));
  }

  static String masterOf(JsonObject pair) {
    return pair.getJsonArray("slots").getJsonObject(pair.getJsonObject("topology").getInteger("masterSlot") - 1)
        .getString("instanceId");
  }

  static String replicaOf(JsonObject pair) {
    return pair.getJsonArray("slots").getJsonObject(2 - pair.getJsonObject("topology").getInteger("masterSlot"))
        .getString("instanceId");
  }

  /**
   * Statements as the server's operator runs them (root, the mariadb client on its socket, from its agent's my.cnf):
   * what they print, tab-separated with a header line per result.
   */
  static String sql(Path cnf, String statements) {
    return run(List.of("mariadb", "--defaults-file=" + cnf, "--batch", "-e", statements));
  }

  /**
   * A session holding {@code FLUSH TABLES WITH READ LOCK} on the server, as a backup tool takes it: on a replica, its
   * SQL thread applies nothing meanwhile (its IO thread still receives and acknowledges). Closed (once, or again: a
   * no-op), the lock is released and the session ends.
   */
  static Held readLock(Path cnf) throws IOException {
    Process session = new ProcessBuilder("mariadb", "--defaults-file=" + cnf, "--batch", "--unbuffered")
        .redirectErrorStream(true).start();
    try {
      Writer in = session.outputWriter();
      in.write("FLUSH TABLES WITH READ LOCK;\nSELECT 'held';\n");
      in.flush();
      BufferedReader out = session.inputReader();
      List<String> said = new ArrayList<>();
      for (String line = out.readLine(); !"held".equals(line); line = out.readLine()) {
        if (line == null) {
          throw new IllegalStateException("the read lock was not taken: " + said);
        }
        said.add(line);
      }
      AtomicBoolean released = new AtomicBoolean();
      return () -> {
        if (released.getAndSet(true)) {
          return;
        }
        try {
          in.write("UNLOCK TABLES;\n");
          in.close();
          session.waitFor(10, TimeUnit.SECONDS);
        } catch (IOException e) {
          throw new IllegalStateException("the read lock's session: " + e.getMessage(), e);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        } finally {
          session.destroyForcibly();
        }
      };
    } catch (IOException | RuntimeException e) {
      session.destroyForcibly();
      throw e;
    }
  }

  /** Something held until closed. */
  interface Held extends AutoCloseable {
    @Override
    void close();
  }

  static void signal(String signal, long pid) {
    run(List.of("kill", "-" + signal, Long.toString(pid)));
  }

  private static String run(List<String> command) {
    return Commands.run(command, "");
  }

}
