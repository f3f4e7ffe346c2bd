package io.fleetvote.agent;

import io.fleetvote.agent.db.DbControl;
import io.fleetvote.common.Addresses;
import io.fleetvote.common.msg.DbCommand;
import io.fleetvote.common.msg.DbStatus;
import io.fleetvote.common.net.FreePorts;
import io.fleetvote.testkit.Await;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import io.vertx.mysqlclient.MySQLAuthenticationPlugin;
import io.vertx.mysqlclient.MySQLBuilder;
import io.vertx.mysqlclient.MySQLConnectOptions;
import io.vertx.mysqlclient.MySQLException;
import io.vertx.mysqlclient.SslMode;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

import static io.fleetvote.agent.TestDbRuntimes.agentPassword;
import static io.fleetvote.agent.TestDbRuntimes.awaitUp;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The leader's commands to DB agents, on two real MariaDB 10.11 servers: MASTER on one and REPLICA of it on the other
 * make a semi-synchronous pair that carries the app's writes to a replica that refuses them; the same commands again
 * change nothing; FENCE makes a master read-only and cuts the app's connections; PROMOTE makes the replica of a
 * fenced and stopped master the master with all it had received, once; each refusal (a demotion, a promotion by
 * MASTER, an older epoch, a bad body, MariaDB not up) is a failed request saying why, never with a password in it.
 */
class DbControlTest {

  private static final String MASTER_ID = "i-0a000000000000001";
  private static final String REPLICA_ID = "i-0b000000000000002";
  private static final String DOWN_ID = "i-0c000000000000003";
  private static final long EPOCH = 5;
  private static final String REPLICATION_PASSWORD = "ReplSecret0123456789";
  private static final String APP_PASSWORD = "AppSecret01234567890";
  /** Time enough for one command: the master's first write waits out the semi-sync timeout, 2 s. */
  private static final long REQUEST_MS = 20_000;

  @TempDir
  static Path dir;
  private static final Vertx VERTX = Vertx.vertx();
  private static final TestDbRuntimes DBS = new TestDbRuntimes();
  private static DbRuntime master;
  private static DbRuntime replica;
  private static int masterPort;
  private static int replicaPort;

  @BeforeAll
  static void aPair() throws Exception {
    masterPort = FreePorts.pick();
    replicaPort = FreePorts.pick();
    master = agent(MASTER_ID, masterPort, true);
    replica = agent(REPLICA_ID, replicaPort, true);
    awaitUp(master);
    awaitUp(replica);
    assertThat(command(MASTER_ID, masterCommand()).readOnly()).isFalse();
    command(REPLICA_ID, replicaCommand());
    // The table the app's tests write to, on both.
    app(masterPort, "CREATE TABLE IF NOT EXISTS page (id INT PRIMARY KEY, body TEXT)");
    awaitReplicated();
  }

  @AfterAll
  static void stop() {
    try {
      DBS.close();
    } finally {
      VERTX.close().await();
    }
  }

  @Test
  void masterThenReplicaMakeASemiSynchronousPair() {
    DbStatus replicating = awaitReplicated();
    assertThat(replicating.readOnly()).isTrue();
    assertThat(replicating.semiSyncSlave()).isTrue();
    DbStatus acknowledged = Await.until("the master waiting for the replica's acknowledgements",
        Duration.ofSeconds(10), master::status, s -> s.semiSyncMaster() && s.semiSyncClients() == 1);
    assertThat(acknowledged.readOnly()).isFalse();
  }

  @Test
  void aRowTheAppWritesOnTheMasterReachesTheReplica() {
    app(masterPort, "INSERT INTO page VALUES (1, 'Main Page') ON DUPLICATE KEY UPDATE body = 'Main Page'");
    Await.until("the row on the replica", Duration.ofSeconds(10),
        () -> app(replicaPort, "SELECT COUNT(*) FROM page WHERE id = 1 AND body = 'Main Page'").equals("1"));
  }

  @Test
  void theReplicaRefusesTheAppsWrites() {
    assertThatThrownBy(() -> app(replicaPort, "INSERT INTO page VALUES (2, 'Talk')"))
        .isInstanceOfSatisfying(MySQLException.class, e -> assertThat(e.getErrorCode()).isEqualTo(1290));
  }

  @Test
  void theSameCommandsAgainChangeNothing() throws IOException {
    DbStatus before = awaitReplicated();
    String masterBinlog = masterBinlog();
    long connects = ioThreadConnections();

    assertThat(command(MASTER_ID, masterCommand()).gtidBinlogPos()).as("no write on the master")
        .isEqualTo(masterBinlog);
    DbStatus after = command(REPLICA_ID, replicaCommand());

    assertThat(after.ioThread()).isEqualTo(DbStatus.Thread.YES);
    assertThat(after.sqlThread()).isEqualTo(DbStatus.Thread.YES);
    assertThat(after.gtidSlavePos()).isEqualTo(before.gtidSlavePos());
    assertThat(ioThreadConnections()).as("replication not restarted").isEqualTo(connects);
  }

  @Test
  void semiSyncSwitchedOffAndOnTakesOnTheRunningReplica() {
    assertThat(command(REPLICA_ID, replicaCommand().put("semiSync", false)).ioThread())
        .isNotEqualTo(DbStatus.Thread.NO);
    Await.until("the master without a replica acknowledging", Duration.ofSeconds(10), master::status,
        s -> s.semiSyncClients() == 0);
    command(REPLICA_ID, replicaCommand());
    Await.until("the replica acknowledging again", Duration.ofSeconds(10), master::status,
        s -> s.semiSyncClients() == 1);
  }

  @Test
  void aReplicaCommandToTheMasterIsRefused() {
    assertRefused(MASTER_ID, replicaCommand().put("masterPort", replicaPort), 409, "is writable");
  }

  @Test
  void aMasterCommandToTheReplicaIsRefused() {
    assertRefused(REPLICA_ID, masterCommand(), 409, "is a replica of 127.0.0.1:" + masterPort);
  }

  @Test
  void anOlderEpochIsRefused() {
    assertRefused(REPLICA_ID, replicaCommand().put("epoch", EPOCH - 1), 409,
        "epoch " + (EPOCH - 1) + " is older than " + EPOCH + ", already obeyed");
    assertThat(dir.resolve(REPLICA_ID + "/agent/epoch")).hasContent(Long.toString(EPOCH));
    assertThat(awaitReplicated().sqlThread()).isEqualTo(DbStatus.Thread.YES);
  }

  @Test
  void aBadCommandIsRefusedNamingTheFieldAndTheAgentServesOn() {
    assertRefused(REPLICA_ID, replicaCommand().put("replicationPassword", "short"), 400, "replicationPassword");
    assertThat(command(REPLICA_ID, replicaCommand()).ioThread()).isEqualTo(DbStatus.Thread.YES);
  }

  @Test
  void aCommandToAMariaDbThatIsNotUpFailsSayingSo() throws Exception {
    DbRuntime down = agent(DOWN_ID, FreePorts.pick(), false);
    assertRefused(DOWN_ID, masterCommand(), 503, "MariaDB is without its data volume");

    TestDbRuntimes.attach(dir.resolve(DOWN_ID + "/dev"), dir.resolve(DOWN_ID + "/volume"));
    awaitUp(down);
    DBS.stop(down);
    assertRefused(DOWN_ID, masterCommand(), 503, "MariaDB does not answer");
  }

  @Test
  void aFencedMastersReplicaIsPromotedWithWhatItReceivedAndOnceOnly() throws Exception {
    // A pair of its own: the promotion ends it.
    Pair pair = pairWithARow("i-0d000000000000004", "i-0e000000000000005", "before");
    String oldId = pair.oldId();
    String newId = pair.newId();
    int oldPort = pair.oldPort();
    int newPort = pair.newPort();
    DbRuntime old = pair.old();
    DbRuntime promoted = pair.promoted();
    String written = pair.written();

    // The old master fenced first: read-only, and the app's open connection killed.
    Pool appOnOld = appPool(oldPort);
    try {
      appOnOld.query("SELECT 1").execute().await();
      JsonObject fence = new DbCommand(DbCommand.Op.FENCE, EPOCH + 1, "wiki", "repl", REPLICATION_PASSWORD,
          "wiki_app", APP_PASSWORD, "", 0, true).toJson();
      assertThat(command(oldId, fence).readOnly()).isTrue();
      assertThatThrownBy(() -> app(oldPort, "INSERT INTO page VALUES (3, 'fenced')"))
          .isInstanceOfSatisfying(MySQLException.class, e -> assertThat(e.getErrorCode()).isEqualTo(1290));
      assertThat(DBS.sql(oldPort, DbRuntime.AGENT_USER, agentPassword(dir.resolve(oldId + "/agent")),
          "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = 'wiki_app'")).as("app connections")
          .isEqualTo("0");
      assertThat(command(oldId, fence).readOnly()).as("fenced again: nothing changes").isTrue();
    } finally {
      appOnOld.close().await();
    }
    // A server that does not answer (stopped by SIGSTOP, as a hung one): fenced by SIGKILL; it starts read-only.
    long stopped = TestDbRuntimes.mariadbPid(dir.resolve(oldId + "/agent"));
    assertThat(new ProcessBuilder("kill", "-STOP", Long.toString(stopped)).start().waitFor()).isZero();
    JsonObject again = new DbCommand(DbCommand.Op.FENCE, EPOCH + 1, "wiki", "repl", REPLICATION_PASSWORD,
        "wiki_app", APP_PASSWORD, "", 0, true).toJson();
    assertThat(command(oldId, again).problem()).contains("SIGKILL", "starts again read-only");
    Await.until("the hung MariaDB gone", Duration.ofSeconds(10), () -> ProcessHandle.of(stopped)
        .map(ProcessHandle::isAlive).orElse(false), alive -> !alive);
    DbStatus restarted = Await.until("MariaDB started again", Duration.ofSeconds(60), old::status,
        s -> s.server() == DbStatus.Server.UP && s.sentAt() > 0 && pidOr(oldId) != stopped);
    assertThat(restarted.readOnly()).as("read-only at its start").isTrue();
    DBS.stop(old);

    JsonObject promote = new DbCommand(DbCommand.Op.PROMOTE, EPOCH + 1, "wiki", "repl", REPLICATION_PASSWORD,
        "wiki_app", APP_PASSWORD, "", 0, true).toJson();
    DbStatus master = command(newId, promote);
    assertThat(master.readOnly()).isFalse();
    assertThat(master.ioThread()).as("replication reset").isEqualTo(DbStatus.Thread.NONE);
    assertThat(master.gtidSlavePos()).as("all it received applied: nothing lost").isEqualTo(written);
    assertThat(app(newPort, "SELECT body FROM page WHERE id = 1")).isEqualTo("before");
    app(newPort, "INSERT INTO page VALUES (2, 'after')");
    assertThat(DBS.sql(newPort, DbRuntime.AGENT_USER, agentPassword(dir.resolve(newId + "/agent")),
        "SELECT fence FROM fleetvote.epochs")).as("the fence's epoch row").isEqualTo(Long.toString(EPOCH + 1));
    assertThat(dir.resolve(newId + "/agent/epoch")).hasContent(Long.toString(EPOCH + 1));

    // Again: already so, nothing written; an older fence refused; a read-only server of no master is not promoted.
    String binlog = DBS.sql(newPort, DbRuntime.AGENT_USER, agentPassword(dir.resolve(newId + "/agent")),
        "SELECT @@gtid_binlog_pos");
    assertThat(command(newId, promote).gtidBinlogPos()).isEqualTo(binlog);
    assertRefused(newId, promote.copy().put("epoch", EPOCH), 409, "is older than " + (EPOCH + 1));
    DBS.sql(newPort, DbRuntime.AGENT_USER, agentPassword(dir.resolve(newId + "/agent")), "SET GLOBAL read_only=1");
    assertRefused(newId, promote, 409, "replicates from nothing and is read-only");
  }

  @Test
  void anOldMasterFencedAndDemotedReplicatesFromTheServerPromotedInItsPlace() throws Exception {
    Pair pair = pairWithARow("i-0d000000000000006", "i-0e000000000000007", "on the old");

    // A switchover: the old master fenced, the replica promoted once it applied the fenced position, the old master
    // its replica (demoted: what it wrote itself counts as received, so it asks the new master only for what came
    // after). A position the replica cannot have (past the old master's) first: refused after the bound, unchanged.
    String fenced = command(pair.oldId(), new DbCommand(DbCommand.Op.FENCE, EPOCH + 1, "wiki", "repl",
        REPLICATION_PASSWORD, "wiki_app", APP_PASSWORD, "", 0, false).toJson()).gtidBinlogPos();
    assertThat(fenced).isEqualTo(pair.written());
    String[] last = fenced.split("-");
    String beyond = last[0] + "-" + last[1] + "-" + (Long.parseLong(last[2]) + 1);
    assertRefused(pair.newId(), promoteOnce(beyond), 500, "had not applied " + beyond + " within "
        + DbCommand.DEFAULT_APPLY_WAIT_S + " s (received " + fenced + ", applied " + fenced + "): not promoted");
    DbStatus unchanged = pair.promoted().status();
    assertThat(unchanged.readOnly()).as("still read-only").isTrue();
    assertThat(unchanged.ioThread()).as("still replicating").isEqualTo(DbStatus.Thread.YES);
    assertThat(command(pair.newId(), promoteOnce(fenced)).readOnly()).as("promoted").isFalse();
    // Its rejoin checked against the promoted position: a position before its last transaction says it holds one
    // the new master never had (refused, it replicates from nothing); the promoted one itself lets it replicate.
    String before = last[0] + "-" + last[1] + "-" + (Long.parseLong(last[2]) - 1);
    assertRefused(pair.oldId(), rejoin(pair.newPort(), before), 409, "holds 1 transaction(s) in its binlog ("
        + fenced + ") past " + before + ", the position the new master was promoted at: errant");
    assertThat(pair.old().status().ioThread()).as("replicating from nothing still").isEqualTo(DbStatus.Thread.NONE);
    DbStatus demoted = command(pair.oldId(), rejoin(pair.newPort(), fenced));
    assertThat(demoted.readOnly()).isTrue();
    app(pair.newPort(), "INSERT INTO page VALUES (2, 'on the new')");
    Await.until("the new master's row on the old one", Duration.ofSeconds(15), pair.old()::status,
        s -> s.ioThread() == DbStatus.Thread.YES && s.sqlThread() == DbStatus.Thread.YES && s.lastSqlError().isEmpty()
            && "on the new".equals(app(pair.oldPort(), "SELECT body FROM page WHERE id = 2")));
    assertThat(app(pair.oldPort(), "SELECT COUNT(*) FROM page")).as("nothing applied twice").isEqualTo("2");
  }

  /** Two agents of a pair of its own, the old master and the replica promoted in its place, and what was written. */
  private record Pair(String oldId, DbRuntime old, int oldPort, String newId, DbRuntime promoted, int newPort,
                      String written) {
  }

  /**
   * A pair of its own: {@code masterId} the master, the other its replica; a page row written on the master and
   * received by the replica (the master's binlog position after it in {@link Pair#written}).
   */
  private static Pair pairWithARow(String masterId, String replicaId, String body) throws IOException {
    int masterPort = FreePorts.pick();
    int replicaPort = FreePorts.pick();
    DbRuntime master = agent(masterId, masterPort, true);
    DbRuntime replica = agent(replicaId, replicaPort, true);
    awaitUp(master);
    awaitUp(replica);
    command(masterId, masterCommand());
    command(replicaId, new DbCommand(DbCommand.Op.REPLICA, EPOCH, "wiki", "repl", REPLICATION_PASSWORD, "wiki_app",
        APP_PASSWORD, "127.0.0.1", masterPort, true).toJson());
    app(masterPort, "CREATE TABLE page (id INT PRIMARY KEY, body TEXT); INSERT INTO page VALUES (1, '" + body + "')");
    String written = DBS.sql(masterPort, DbRuntime.AGENT_USER, agentPassword(dir.resolve(masterId + "/agent")),
        "SELECT @@gtid_binlog_pos");
    Await.until("the row received by the replica", Duration.ofSeconds(15), replica::status,
        s -> s.gtidIoPos().equals(written));
    return new Pair(masterId, master, masterPort, replicaId, replica, replicaPort, written);
  }

  private static long pidOr(String instanceId) {
    try {
      return TestDbRuntimes.mariadbPid(dir.resolve(instanceId + "/agent"));
    } catch (IOException | NumberFormatException e) {
      return -1;
    }
  }

  /** A DB agent with its data volume attached or not, its commands heard on the test's bus. */
  private static DbRuntime agent(String instanceId, int port, boolean withVolume) throws IOException {
    Path devices = Files.createDirectories(dir.resolve(instanceId + "/dev"));
    if (withVolume) {
      TestDbRuntimes.attach(devices, dir.resolve(instanceId + "/volume"));
    }
    DbRuntime runtime = DBS.start(instanceId, TestDbRuntimes.options(dir.resolve(instanceId + "/agent"), port),
        devices);
    runtime.deploy(VERTX, Optional.of(AgentBus.local(VERTX))).await();
    return runtime;
  }

  /** An old master's REPLICA after a switchover: its binlog not past {@code gtid}. */
  private static JsonObject rejoin(int masterPort, String gtid) {
    return new DbCommand(DbCommand.Op.REPLICA, EPOCH + 1, "wiki", "repl", REPLICATION_PASSWORD, "wiki_app",
        APP_PASSWORD, "127.0.0.1", masterPort, false, gtid).toJson();
  }

  /** A switchover's PROMOTE: {@code gtid} applied first. */
  private static JsonObject promoteOnce(String gtid) {
    return new DbCommand(DbCommand.Op.PROMOTE, EPOCH + 1, "wiki", "repl", REPLICATION_PASSWORD, "wiki_app",
        APP_PASSWORD, "", 0, false, gtid).toJson();
  }

  private static JsonObject masterCommand() {
    return new DbCommand(DbCommand.Op.MASTER, EPOCH, "wiki", "repl", REPLICATION_PASSWORD, "wiki_app", APP_PASSWORD,
        "", 0, true).toJson();
  }

  private static JsonObject replicaCommand() {
    return new DbCommand(DbCommand.Op.REPLICA, EPOCH, "wiki", "repl", REPLICATION_PASSWORD, "wiki_app",
        APP_PASSWORD, "127.0.0.1", masterPort, true).toJson();
  }

  private static DbStatus command(String instanceId, JsonObject command) {
    return DbStatus.fromJson(VERTX.eventBus().request(Addresses.dbControl(instanceId), command,
        new DeliveryOptions().setSendTimeout(REQUEST_MS)).await().body());
  }

  private static void assertRefused(String instanceId, JsonObject command, int code, String why) {
    assertThatThrownBy(() -> command(instanceId, command))
        .isInstanceOfSatisfying(ReplyException.class, e -> assertThat(e.failureCode()).isEqualTo(code))
        .hasMessageContaining(why)
        .hasMessageNotContaining(REPLICATION_PASSWORD)
        .hasMessageNotContaining(APP_PASSWORD);
  }

  /** The replica's status once it has applied all that the master wrote (read now, not its last status). */
  private static DbStatus awaitReplicated() {
    return Await.until("the replica replicating what the master wrote", Duration.ofSeconds(15), replica::status,
        s -> s.ioThread() == DbStatus.Thread.YES && s.sqlThread() == DbStatus.Thread.YES
            && s.gtidSlavePos().equals(masterBinlog()));
  }

  private static String masterBinlog() {
    try {
      return DBS.sql(masterPort, DbRuntime.AGENT_USER, agentPassword(dir.resolve(MASTER_ID + "/agent")),
          "SELECT @@gtid_binlog_pos");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A pool of one connection as the app's account, kept open (what a fence must cut). */
  private static Pool appPool(int port) {
    return MySQLBuilder.pool().with(new PoolOptions().setMaxSize(1))
        .connectingTo(new MySQLConnectOptions().setHost("127.0.0.1").setPort(port).setUser("wiki_app")
            .setPassword(APP_PASSWORD).setDatabase("wiki").setSslMode(SslMode.DISABLED)
            .setAuthenticationPlugin(MySQLAuthenticationPlugin.MYSQL_NATIVE_PASSWORD))
        .using(VERTX).build();
  }

  /** As the app's account, on its database. */
  private static String app(int port, String statement) {
    return DBS.sql(port, "wiki_app", APP_PASSWORD, "USE wiki; " + statement);
  }

  /** How many times the replica's IO thread connected to its master, by its log. */
  private static long ioThreadConnections() throws IOException {
    try (var lines = Files.lines(dir.resolve(REPLICA_ID + "/agent/mariadb.log"))) {
      return lines.filter(line -> line.contains("Slave I/O thread: connected to master")).count();
    }
  }
}
