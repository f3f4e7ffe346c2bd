package io.fleetvote.coordinator;

import io.fleetvote.common.Addresses;
import io.fleetvote.common.Tags;
import io.fleetvote.common.imds.InstanceMetadataClient;
import io.fleetvote.common.net.FreePorts;
import io.fleetvote.sandbox.ImageCatalog;
import io.fleetvote.testkit.Await;
import io.fleetvote.testkit.Chromium;
import io.fleetvote.testkit.CoordinatorClient;
import io.fleetvote.testkit.Ec2Clients;
import io.fleetvote.testkit.Http;
import io.fleetvote.testkit.SandboxProcess;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.mysqlclient.MySQLAuthenticationPlugin;
import io.vertx.mysqlclient.MySQLBuilder;
import io.vertx.mysqlclient.MySQLConnectOptions;
import io.vertx.mysqlclient.SslMode;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.support.ui.WebDriverWait;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.InstanceStateName;
import software.amazon.awssdk.services.ec2.model.Reservation;
import software.amazon.awssdk.services.ec2.model.Volume;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The coordinator runs a DB pair from its groups file's {@code db} section, with real MariaDB processes: from nothing
 * it launches master and replica, each with its own EBS volume (slots 1 and 2), commands the DB agents through
 * their attested connections, and the pair replicates with semi-sync on; a row the application account writes on
 * the master appears on the replica, where the same account cannot write ({@code read_only}); an LB's write port
 * reaches the master alone and its read port the replica. A coordinator
 * restarted (the cluster map gone with it; its data directory kept) adopts the same pair by tag and launches and
 * creates nothing new. A terminated replica's volume outlives it: the next generation's instance in its slot gets the
 * volume and runs MariaDB on the same data, replicating again. The passwords are kept owner-only in the
 * coordinator's data directory, and are neither in the API nor in any instance's user-data. A malformed DB report on
 * the bus, or one with positions no MariaDB reports, is rejected and counted, and the real ones still show. (A DB
 * agent's own states, no volume, MariaDB down or refusing its account, are DbRuntimeTest's.)
 */
class DbPairIT {

  private static final Duration UP = Duration.ofSeconds(240);
  /** One LB, whose write and read ports front the pair, before group web's one app instance. */
  private static final JsonObject LB_GROUP = new JsonObject().put("name", "lb")
      .put("imageId", ImageCatalog.imageId("fleetvote-lb")).put("min", 1).put("max", 1)
      .put("agent", new JsonObject().put("roles", new JsonArray().add("lb")).put("gossipPeriodMs", 500)
          .put("lb", new JsonObject().put("serves", "web").put("reconcileMs", 1000)));
  private static final JsonObject WEB_GROUP = new JsonObject().put("name", "web")
      .put("imageId", ImageCatalog.imageId("fleetvote-app")).put("min", 1).put("max", 1)
      .put("agent", new JsonObject().put("gossipPeriodMs", 500));

  @TempDir
  static Path dir;
  static SandboxProcess sandbox;
  static Coordinator coordinator;
  static CoordinatorClient api;
  static Ec2Client ec2;
  static Vertx vertx;
  static JsonObject gateway;

  @BeforeAll
  static void start() {
    sandbox = SandboxProcess.start(dir.resolve("sandbox"));
    ec2 = Ec2Clients.sync(sandbox.endpoint());
    vertx = Vertx.vertx();
    gateway = sandbox.agentGateway().put("port", FreePorts.pick());
    coordinator = startCoordinator();
  }

  static Coordinator startCoordinator() {
    JsonObject db = new JsonObject().put("imageId", ImageCatalog.imageId("fleetvote-db"))
        .put("instanceType", "t3.small")
        .put("volumeGiB", 1).put("database", "wiki");
    CoordinatorOptions options = new CoordinatorOptions(new JsonObject()
        .put("deployment", "pairit")
        .put("httpPort", 0)
        .put("cluster", new JsonObject().put("clusterName", "db-pair-it-" + System.nanoTime())
            .put("port", FreePorts.pick()))
        .put("dataDir", dir.resolve("coordinator").toString())
        .put("gateway", gateway)
        .put("scaling", new JsonObject().put("tickMillis", 500).put("fleetRefreshMillis", 2000)
            .put("groups", new JsonArray().add(LB_GROUP).add(WEB_GROUP)).put("db", db)
            .put("fleet", new JsonObject().put("deployment", "pairit").put("endpoint", sandbox.endpoint().toString())
                .put("firstRetryDelayMillis", 200).put("maxRetryDelayMillis", 2000))));
    Coordinator started = Coordinator.start(options).await();
    api = new CoordinatorClient(started.httpPort());
    return started;
  }

  @AfterAll
  static void stop() {
    if (sandbox != null) {
      sandbox.admin().terminateAll();
    }
    if (coordinator != null) {
      coordinator.close().await();
    }
    if (vertx != null) {
      vertx.close().await();
    }
    if (ec2 != null) {
      ec2.close();
    }
    if (sandbox != null) {
      sandbox.close();
    }
  }

  @Test
  void aPairLaunchedFromNothingReplicatesIsAdoptedAfterARestartAndOutlivesItsReplica() throws Exception {
    JsonObject pair = Await.until("the pair replicating", UP, api::dbPair,
        p -> p != null && "replicating".equals(p.getString("phase")));
    assertThat(pair.getJsonObject("topology").getInteger("masterSlot")).isEqualTo(1);
    assertThat(pair.getJsonObject("topology").containsKey("appPassword")).as("no password in the API").isFalse();
    String master = slot(pair, 1).getString("instanceId");
    String replica = slot(pair, 2).getString("instanceId");
    JsonObject masterReport = report(master);
    JsonObject replicaReport = Await.until("semi-sync on, the replica acknowledging", UP, () -> report(replica),
        r -> r.getBoolean("semiSyncSlave") && report(master).getInteger("semiSyncClients") == 1
            && report(master).getBoolean("semiSyncMaster"));
    masterReport = report(master);
    Await.until("no problem with the pair once semi-sync acknowledges", UP, () -> api.dbPair().getJsonArray("problems"),
        JsonArray::isEmpty);
    // The leader's own probe reaches the master: the failure detector's verdict.
    JsonObject health = Await.until("the master judged alive", UP, () -> api.dbPair().getJsonObject("masterHealth"),
        h -> h != null && "alive".equals(h.getString("verdict")));
    assertThat(health.getString("instanceId")).isEqualTo(master);
    assertThat(masterReport.getBoolean("readOnly")).isFalse();
    assertThat(masterReport.getBoolean("semiSyncMaster")).isTrue();
    assertThat(replicaReport.getBoolean("readOnly")).isTrue();
    assertThat(replicaReport.getString("ioThread")).isEqualTo("yes");
    assertThat(replicaReport.getString("sqlThread")).isEqualTo("yes");
    assertThat(replicaReport.getLong("serverId")).isNotEqualTo(masterReport.getLong("serverId"));

    // Each on its own volume of its slot, in its own zone.
    List<Volume> volumes = volumes();
    assertThat(volumes).hasSize(2).allSatisfy(v -> assertThat(v.stateAsString()).isEqualTo("in-use"));
    assertThat(volumes).anySatisfy(v -> assertThat(v.attachments().get(0).instanceId()).isEqualTo(master));
    assertThat(volumes).anySatisfy(v -> assertThat(v.attachments().get(0).instanceId()).isEqualTo(replica));

    // The passwords: owner-only in the coordinator's data directory, nowhere in user-data or the log.
    Path kept = dir.resolve("coordinator/db-db.json");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(kept))).isEqualTo("rw-------");
    JsonObject topology = new JsonObject(Files.readString(kept));
    String appPassword = topology.getString("appPassword");
    String replicationPassword = topology.getString("replicationPassword");
    for (String instance : List.of(master, replica)) {
      InstanceMetadataClient imds = new InstanceMetadataClient(vertx,
          URI.create(sandbox.admin().instance(instance).getString("metadataEndpoint")));
      String userData;
      try {
        userData = imds.identity().await().userData();
      } finally {
        imds.close();
      }
      assertThat(userData).contains("\"db\"").doesNotContain(appPassword).doesNotContain(replicationPassword);
    }

    // The application's account writes on the master; the row reaches the replica, where the account cannot write.
    Pool onMaster = pool(masterReport.getInteger("port"), appPassword);
    Pool onReplica = pool(replicaReport.getInteger("port"), appPassword);
    try {
      onMaster.query("CREATE TABLE IF NOT EXISTS pages (id INT PRIMARY KEY, body TEXT)").execute().await();
      onMaster.preparedQuery("INSERT INTO pages VALUES (?, ?)").execute(Tuple.of(1, "front page")).await();
      Await.until("the row on the replica", UP, () -> rows(onReplica, "SELECT body FROM pages WHERE id = 1"),
          rows -> rows.size() == 1 && "front page".equals(rows.get(0).getString("body")));
      assertThatThrownBy(() -> onReplica.query("INSERT INTO pages VALUES (2, 'x')").execute().await())
          .hasMessageContaining("read-only");
    } finally {
      onMaster.close().await();
      onReplica.close().await();
    }

    // Through the LB: its write port reaches the master alone, its read port the replica (read-only there).
    String lb = liveInstances().stream().filter(i -> i.tags().stream().anyMatch(t -> t.key().equals(Tags.GROUP)
        && t.value().equals("lb"))).findFirst().orElseThrow().instanceId();
    String web = liveInstances().stream().filter(i -> i.tags().stream().anyMatch(t -> t.key().equals(Tags.GROUP)
        && t.value().equals("web"))).findFirst().orElseThrow().instanceId();
    Pool writes = pool(sandbox.admin().port(lb, "mysql-write"), appPassword);
    Pool reads = pool(sandbox.admin().port(lb, "mysql-read"), appPassword);
    try {
      Await.until("a write through the LB's write port", UP, () -> {
        try {
          writes.preparedQuery("INSERT INTO pages VALUES (?, ?) ON DUPLICATE KEY UPDATE body = VALUES(body)")
              .execute(Tuple.of(2, "through the LB")).await();
          return true;
        } catch (RuntimeException e) {
          return false;
        }
      });
      assertThat(rows(writes, "SELECT @@server_id AS id")).extracting(r -> r.getLong("id"))
          .containsExactly(masterReport.getLong("serverId"));
      Await.until("the LB's write on the replica, read through the LB's read port", UP,
          () -> rows(reads, "SELECT body, @@server_id AS id FROM pages WHERE id = 2"),
          rows -> rows.size() == 1 && "through the LB".equals(rows.get(0).getString("body"))
              && rows.get(0).getLong("id").equals(report(replica).getLong("serverId")));
      assertThatThrownBy(() -> reads.query("INSERT INTO pages VALUES (3, 'x')").execute().await())
          .hasMessageContaining("read-only");
      assertThat(api.dbPair().getJsonObject("route").getJsonObject("master").getString("instanceId"))
          .isEqualTo(master);

      // The app does a wiki's work: a request through the LB's HTTP frontend reads and writes a page row through
      // the LB's write port (its agent keeps the account, from the leader, and the LBs' DB ports for it).
      Path clientFile = Path.of(sandbox.admin().instance(web).getString("dir"), "db-client.properties");
      Await.until("the app's DB client file", UP, () -> Files.exists(clientFile));
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(clientFile))).isEqualTo("rw-------");
      assertThat(Files.readString(clientFile)).contains("user=fleetvote_app", "database=wiki",
          "write=" + sandbox.admin().instance(lb).getString("privateIp") + ":");
      URI page = URI.create("http://127.0.0.1:" + sandbox.admin().port(lb, "http") + "/?write=1");
      String reply = Await.until("a request that wrote a page row", UP, () -> Http.answer(Http.request(page))
          .map(r -> r.status() + " " + r.body().strip()).orElse("no answer"), r -> r.startsWith("200 ")
          && new JsonObject(r.substring(4)).getValue("db") instanceof JsonObject visit && visit.getBoolean("wrote"));
      JsonObject written = new JsonObject(reply.substring(4)).getJsonObject("db");
      Await.until("the request's page revision on the replica", UP,
          () -> rows(reads, "SELECT revision FROM page WHERE id = " + written.getInteger("page")),
          rows -> rows.size() == 1 && rows.get(0).getLong("revision") >= written.getLong("revision"));
      JsonObject readOnly = Http.get(URI.create("http://127.0.0.1:" + sandbox.admin().port(lb, "http")
          + "/?write=0")).json().getJsonObject("db");
      assertThat(readOnly.getBoolean("wrote")).isFalse();
    } finally {
      writes.close().await();
      reads.close().await();
    }

    // The dashboard's DB view: both servers, which is writable, where writes go, the replica's lag chart; the LB's
    // panel: its DB backends; no password on the page.
    try (Chromium browser = Chromium.start(dir.resolve("chromium"))) {
      browser.driver().get("http://127.0.0.1:" + coordinator.httpPort() + "/");
      WebDriverWait wait = new WebDriverWait(browser.driver(), UP);
      wait.ignoring(StaleElementReferenceException.class);
      wait.until(d -> d.findElements(By.cssSelector("#db-servers tbody tr")).size() == 2
          && d.findElement(By.id("db")).getText().contains("writes go to " + master)
          && d.findElement(By.id("backends")).getText().contains("DB writes to " + master + ", reads from " + replica)
          && d.findElement(By.id("db-lag-chart")).getText().contains(replica + " transactions behind"));
      String view = browser.driver().findElement(By.id("db-view")).getText();
      assertThat(view).contains("(replicating)", "writable", "read-only", "IO yes, SQL yes", "on (1 acking)", master,
          replica, "master " + master + ": alive").doesNotContain(appPassword).doesNotContain(replicationPassword);
      assertThat(browser.consoleErrors()).isEmpty();
    }

    // A malformed DB report on the bus: rejected and counted, naming the bad field; the real reports still show.
    String rejected = "fleetvote_coordinator_messages_rejected_total{address=\"" + Addresses.DB_STATUS
        + "\",reason=\"invalid\"}";
    double before = api.metric(rejected);
    coordinator.vertx().eventBus().publish(Addresses.DB_STATUS, report(master).put("gtidBinlogPos", "0-1-1'; DROP"));
    coordinator.vertx().eventBus().publish(Addresses.DB_STATUS, "not a report");
    // Impossible positions: the replica having applied past what it received (while its IO thread runs), a domain
    // listed twice, a sequence number past any MariaDB's.
    JsonObject heardOfReplica = report(replica);
    String received = heardOfReplica.getString("gtidIoPos");
    String[] last = received.split(",")[0].split("-");
    String beyond = last[0] + "-" + last[1] + "-" + (Long.parseLong(last[2]) + 5);
    coordinator.vertx().eventBus().publish(Addresses.DB_STATUS, heardOfReplica.copy()
        .put("sentAt", System.currentTimeMillis()).put("gtidSlavePos", beyond));
    coordinator.vertx().eventBus().publish(Addresses.DB_STATUS, heardOfReplica.copy()
        .put("gtidBinlogPos", "0-1-4,0-2-5"));
    coordinator.vertx().eventBus().publish(Addresses.DB_STATUS, heardOfReplica.copy()
        .put("gtidIoPos", "0-1-99999999999999999999"));
    Await.until("the five bad reports rejected and counted", UP, () -> api.metric(rejected) >= before + 5);
    assertThat(report(replica).getString("gtidSlavePos")).as("the replica's real report kept").isNotEqualTo(beyond);
    assertThat(report(master).getString("server")).isEqualTo("up");
    assertThat(report(replica).getString("server")).isEqualTo("up");

    // A restarted coordinator (a new cluster: the map is gone) adopts the same pair by tag, launches nothing.
    long fenceBefore = new JsonObject(Files.readString(kept)).getLong("fence");
    long launchesBefore = sandbox.admin().calls("RunInstances");
    long volumesBefore = sandbox.admin().calls("CreateVolume");
    coordinator.close().await();
    coordinator = null;
    coordinator = startCoordinator();
    JsonObject adopted = Await.until("the same pair replicating again", UP, api::dbPair,
        p -> p != null && "replicating".equals(p.getString("phase")) && p.getBoolean("leader"));
    assertThat(slot(adopted, 1).getString("instanceId")).isEqualTo(master);
    assertThat(slot(adopted, 2).getString("instanceId")).isEqualTo(replica);
    assertThat(liveInstances()).extracting(Instance::instanceId).containsExactlyInAnyOrder(master, replica, lb, web);
    assertThat(volumes()).hasSize(2);
    assertThat(sandbox.admin().calls("RunInstances")).as("RunInstances calls").isEqualTo(launchesBefore);
    assertThat(sandbox.admin().calls("CreateVolume")).as("CreateVolume calls").isEqualTo(volumesBefore);
    assertThat(report(master).getBoolean("readOnly")).isFalse();
    assertThat(report(replica).getString("ioThread")).isEqualTo("yes");
    // Leader epochs start again at 1 in the new cluster; the fence does not: the agents obeyed the new leader's.
    long fence = new JsonObject(Files.readString(kept)).getLong("fence");
    assertThat(fence).isEqualTo(fenceBefore + 1);
    for (String instance : List.of(master, replica)) {
      Path epochFile = Path.of(sandbox.admin().instance(instance).getString("dir"), "db", "epoch");
      Await.until(instance + " obeyed fence " + fence, UP, () -> read(epochFile).equals(Long.toString(fence)));
    }

    // A terminated replica's volume survives; its successor (the next generation) runs MariaDB on the same data.
    String volume = slot(adopted, 2).getString("volumeId");
    ec2.terminateInstances(b -> b.instanceIds(replica));

    // The next generation's instance in slot 2, with the same volume, replicating again; the row it had is there.
    JsonObject again = Await.until("slot 2 replicating on a new instance", UP, api::dbPair,
        p -> p != null && "replicating".equals(p.getString("phase"))
            && !replica.equals(slot(p, 2).getString("instanceId")));
    String successor = slot(again, 2).getString("instanceId");
    assertThat(slot(again, 2).getString("volumeId")).isEqualTo(volume);
    assertThat(slot(again, 1).getString("instanceId")).isEqualTo(master);
    assertThat(again.getJsonObject("topology").getJsonArray("instanceGenerations").getList()).containsExactly(1, 2);
    assertThat(volumes()).hasSize(2);
    Pool onSuccessor = pool(report(successor).getInteger("port"), appPassword);
    try {
      assertThat(rows(onSuccessor, "SELECT body FROM pages WHERE id = 1")).extracting(r -> r.getString("body"))
          .containsExactly("front page");
    } finally {
      onSuccessor.close().await();
    }
    switchesOver(lb, appPassword);
    JsonObject now = api.dbPair();
    failsOver(slot(now, now.getJsonObject("topology").getInteger("masterSlot")).getString("instanceId"),
        slot(now, 3 - now.getJsonObject("topology").getInteger("masterSlot")).getString("instanceId"), lb,
        appPassword);
  }

  /** Writes one row every 20 ms through the LB's write port, one at a time, recording each acknowledged one. */
  private static final class AckedWriter implements AutoCloseable {

    final Pool writes;
    final List<Integer> acked = Collections.synchronizedList(new ArrayList<>());
    private final AtomicBoolean writing = new AtomicBoolean(true);
    private final Thread thread;

    AckedWriter(Pool writes, AtomicInteger next) {
      this.writes = writes;
      this.thread = new Thread(() -> {
        while (writing.get()) {
          int id = next.incrementAndGet();
          try {
            writes.preparedQuery("INSERT INTO acked VALUES (?, @@server_id)").execute(Tuple.of(id)).await();
            acked.add(id);
          } catch (RuntimeException e) {
            // Not acknowledged: it may or may not be there; only acknowledged writes must be.
          }
          LockSupport.parkNanos(20_000_000);
        }
      }, "acked-writer");
      thread.start();
    }

    int count() {
      return acked.size();
    }

    @Override
    public void close() throws InterruptedException {
      writing.set(false);
      thread.join();
    }
  }

  /**
   * A planned switchover under writes through the LB: writes blocked for a moment, the roles swap, every acknowledged
   * write on the new master, and the old master, clean, rejoins as its replica (demoted). (The abort of one that
   * cannot finish, nothing lost, is the switchover benchmark's, which BenchSmokeIT runs.)
   */
  private void switchesOver(String lb, String appPassword) throws Exception {
    JsonObject before = Await.until("the pair replicating with semi-sync", UP, api::dbPair,
        p -> "replicating".equals(p.getString("phase")) && p.getJsonArray("problems").isEmpty());
    int masterSlot = before.getJsonObject("topology").getInteger("masterSlot");
    String master = slot(before, masterSlot).getString("instanceId");
    String replica = slot(before, 3 - masterSlot).getString("instanceId");
    Pool writes = pool(sandbox.admin().port(lb, "mysql-write"), appPassword);
    AtomicInteger next = new AtomicInteger(1_000_000);
    try {
      writes.query("CREATE TABLE IF NOT EXISTS acked (id INT PRIMARY KEY, server INT)").execute().await();
      List<Integer> acked;
      try (AckedWriter writer = new AckedWriter(writes, next)) {
        Await.until("writes acknowledged through the LB", UP, () -> writer.count() >= 20);
        // As an operator runs it: ./fleetvote switchover, following it to its end.
        java.io.ByteArrayOutputStream told = new java.io.ByteArrayOutputStream();
        try (java.io.PrintStream out = new java.io.PrintStream(told, true)) {
          assertThat(SwitchoverMain.run(new SwitchoverMain.Options(api.base(), null, null, null), out, out))
              .as("switchover's exit code; it said: %s", told).isZero();
        }
        assertThat(told.toString()).contains("write-backend-emptied", "promoted", "writes blocked for");
        JsonObject swapped = Await.until("the switchover done", UP, api::dbPair, p -> failoverOf(p)
            .map(f -> "switchover".equals(f.getString("kind")) && "done".equals(f.getString("phase")))
            .orElse(false));
        JsonObject done = failoverOf(swapped).orElseThrow();
        assertThat(done.getString("target")).isEqualTo(replica);
        assertThat(done.getLong("lost")).isZero();
        assertThat(swapped.getJsonObject("topology").getInteger("masterSlot")).isEqualTo(3 - masterSlot);
        List<String> steps = done.getJsonArray("steps").stream().map(st -> ((JsonObject) st).getString("name"))
            .toList();
        assertThat(steps).containsSubsequence("write-backend-emptied", "fenced", "promoted");
        System.out.printf("switchover write block (journal: emptied -> promoted): %d ms%n",
            done.getJsonArray("steps").getJsonObject(steps.indexOf("promoted")).getLong("at")
                - done.getJsonArray("steps").getJsonObject(steps.indexOf("write-backend-emptied")).getLong("at"));
        long newServer = report(replica).getLong("serverId");
        int count = writer.count();
        Await.until("writes acknowledged by the new master", UP, () -> rows(writes, "SELECT @@server_id AS id"),
            rows -> rows.size() == 1 && rows.get(0).getLong("id") == newServer && writer.count() > count);
        acked = List.copyOf(writer.acked);
      }
      Pool onNew = pool(report(replica).getInteger("port"), appPassword);
      try {
        assertThat(rows(onNew, "SELECT id FROM acked").stream().map(r -> r.getInteger("id")).toList())
            .as("every acknowledged write on the new master").containsAll(acked);
      } finally {
        onNew.close().await();
      }
      // The old master, clean, replicates from the new one: the same instance, in the replica's role.
      Await.until("the old master replicating from the new one", UP, api::dbPair,
          p -> "replicating".equals(p.getString("phase"))
              && master.equals(slot(p, masterSlot).getString("instanceId")) && p.getJsonArray("problems").isEmpty());

    } finally {
      writes.close().await();
    }
  }

  private static java.util.Optional<JsonObject> failoverOf(JsonObject pair) {
    return java.util.Optional.ofNullable(pair.getJsonObject("topology")).map(t -> t.getJsonObject("failover"));
  }

  /**
   * The master's machine dies (every process of its instance killed; EC2 still says running) under writes through
   * the LB's write port: the leader finds it dead (its probe fails, the replica's IO thread agrees), empties the write
   * backend, fences it through EC2 (StopInstances: its agent does not answer), promotes the replica and routes writes
   * to it; every write acknowledged before is on the new master, the journal says each step, and the old slot gets a
   * new instance and volume, replicating from the new master. A second death within the anti-flap window waits for
   * an operator's acknowledgement, then fails over too.
   */
  private void failsOver(String master, String replica, String lb, String appPassword) throws Exception {
    Pool writes = pool(sandbox.admin().port(lb, "mysql-write"), appPassword);
    AckedWriter writer = new AckedWriter(writes, new AtomicInteger());
    List<Integer> acked = writer.acked;
    int toSlot = api.dbPair().getJsonArray("slots").getJsonObject(0).getString("instanceId").equals(replica) ? 1 : 2;
    int fromSlot = 3 - toSlot;
    try {
      Await.until("writes acknowledged through the LB", UP, () -> acked.size() >= 20);
      // Semi-sync on and so reported: a master last seen asynchronous is not failed over (acked writes may be lost).
      Await.until("the master reporting semi-sync on", UP, () -> report(master).getBoolean("semiSyncMaster")
          && report(master).getInteger("semiSyncClients") == 1);
      long replicaServer = report(replica).getLong("serverId");
      sandbox.admin().kill(master);
      JsonObject pair = Await.until("the failover done", UP, api::dbPair, p -> p != null
          && p.getJsonObject("topology").getInteger("masterSlot") == toSlot
          && p.getJsonObject("topology").getJsonObject("failover") != null
          && "done".equals(p.getJsonObject("topology").getJsonObject("failover").getString("phase")));
      JsonObject failover = pair.getJsonObject("topology").getJsonObject("failover");
      assertThat(failover.getString("oldMaster")).isEqualTo(master);
      assertThat(failover.getString("target")).isEqualTo(replica);
      assertThat(failover.getLong("lost")).as("transactions lost by GTID arithmetic").isZero();
      List<String> steps = failover.getJsonArray("steps").stream().map(st -> ((JsonObject) st).getString("name"))
          .toList();
      assertThat(steps).containsSubsequence("detected", "write-backend-emptied", "fenced", "promoted");
      assertThat(failover.getJsonArray("steps").getJsonObject(steps.indexOf("fenced")).getString("text"))
          .contains("StopInstances");
      assertThat(pair.getJsonObject("antiFlap").getBoolean("holdsOff")).isTrue();
      int before = acked.size();
      Await.until("writes acknowledged by the new master", UP, () -> rows(writes, "SELECT @@server_id AS id"),
          rows -> rows.size() == 1 && rows.get(0).getLong("id") == replicaServer && acked.size() > before);
      writer.close();
      Pool onNew = pool(report(replica).getInteger("port"), appPassword);
      try {
        List<Integer> there = rows(onNew, "SELECT id FROM acked").stream().map(r -> r.getInteger("id")).toList();
        assertThat(there).as("every acknowledged write on the new master").containsAll(List.copyOf(acked));
      } finally {
        onNew.close().await();
      }
      // The old master's instance stopped through EC2; its volume kept, attached to it.
      ec2.waiter().waitUntilInstanceStopped(b -> b.instanceIds(master));
      // Each step in the coordinator's append-only journal too.
      assertThat(read(dir.resolve("coordinator/failover-db.jsonl"))).contains(failover.getString("id"), "\"fenced\"",
          "\"promoted\"");

      // The old slot anew: an instance and a volume of its next generation, replicating from the new master.
      JsonObject rebuilt = Await.until("the old master's slot rebuilt, replicating from the new master", UP,
          api::dbPair, p -> "replicating".equals(p.getString("phase"))
              && !master.equals(slot(p, fromSlot).getString("instanceId")));
      String fresh = slot(rebuilt, fromSlot).getString("instanceId");
      assertThat(rebuilt.getJsonObject("topology").getJsonArray("volumeGenerations").getInteger(fromSlot - 1))
          .as("the old slot's volume generation").isEqualTo(2);
      assertThat(volumes()).hasSize(3);
      Pool onFresh = pool(report(fresh).getInteger("port"), appPassword);
      try {
        Await.until("the acknowledged writes on the rebuilt replica", UP, () -> rows(onFresh,
            "SELECT COUNT(*) AS n FROM acked WHERE id <= " + before), r -> r.size() == 1
            && r.get(0).getLong("n") >= acked.stream().filter(id -> id <= before).count());
      } finally {
        onFresh.close().await();
      }

      // The new master dies within the anti-flap window: no failover until an operator acknowledges the first.
      Await.until("the rebuilt replica acknowledging semi-sync", UP, () -> report(replica).getInteger(
          "semiSyncClients") == 1);
      sandbox.admin().kill(replica);
      JsonObject held = Await.until("the second failover held back", UP, api::dbPair, p -> p.getJsonObject(
          "masterHealth") != null && String.valueOf(p.getJsonObject("masterHealth").getString("refusal"))
          .contains("anti-flap"));
      assertThat(held.getJsonObject("topology").getInteger("masterSlot")).isEqualTo(toSlot);
      assertThat(held.getJsonObject("topology").getJsonObject("failover").getString("id"))
          .isEqualTo(failover.getString("id"));
      assertThat(api.post("/api/db/acknowledge", "").status()).isEqualTo(200);
      JsonObject second = Await.until("the second failover done", UP, api::dbPair,
          p -> p.getJsonObject("topology").getInteger("masterSlot") == fromSlot
              && "done".equals(p.getJsonObject("topology").getJsonObject("failover").getString("phase")));
      assertThat(second.getJsonObject("topology").getJsonObject("failover").getString("target")).isEqualTo(fresh);
      assertThat(second.getJsonObject("topology").getJsonObject("failover").getLong("lost")).isZero();
    } finally {
      writer.close();
      writes.close().await();
    }
  }

  private static String read(Path file) {
    try {
      return Files.readString(file).strip();
    } catch (IOException e) {
      return "";
    }
  }

  private static JsonObject slot(JsonObject pair, int slot) {
    return pair.getJsonArray("slots").getJsonObject(slot - 1);
  }

  private static JsonObject report(String instanceId) {
    return api.db().stream().filter(r -> r.getString("instanceId").equals(instanceId)).findFirst().orElseThrow();
  }

  private static List<Volume> volumes() {
    return ec2.describeVolumes(b -> b.filters(Filter.builder().name("tag:" + Tags.DEPLOYMENT).values("pairit")
        .build())).volumes();
  }

  private static List<Instance> liveInstances() {
    return ec2.describeInstances(b -> b.filters(Filter.builder().name("tag:" + Tags.DEPLOYMENT).values("pairit")
        .build())).reservations().stream().map(Reservation::instances).flatMap(List::stream)
        .filter(i -> i.state().name() != InstanceStateName.TERMINATED).toList();
  }

  private static Pool pool(int port, String password) {
    return MySQLBuilder.pool().with(new PoolOptions().setMaxSize(1))
        .connectingTo(new MySQLConnectOptions().setHost("127.0.0.1").setPort(port).setUser("fleetvote_app")
            .setPassword(password).setDatabase("wiki").setSslMode(SslMode.DISABLED)
            .setAuthenticationPlugin(MySQLAuthenticationPlugin.MYSQL_NATIVE_PASSWORD))
        .using(vertx).build();
  }

  private static List<Row> rows(Pool pool, String sql) {
    List<Row> rows = new ArrayList<>();
    try {
      pool.query(sql).execute().await().forEach(rows::add);
    } catch (RuntimeException e) {
      return List.of();
    }
    return rows;
  }
}
