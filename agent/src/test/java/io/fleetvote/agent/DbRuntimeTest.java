package io.fleetvote.agent;

import io.fleetvote.agent.db.DbOptions;
import io.fleetvote.common.msg.DbStatus;
import io.fleetvote.common.net.FreePorts;
import io.fleetvote.testkit.Await;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static io.fleetvote.agent.TestDbRuntimes.agentPassword;
import static io.fleetvote.agent.TestDbRuntimes.awaitUp;
import static io.fleetvote.agent.TestDbRuntimes.mariadbPid;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Role db with a real MariaDB 10.11 (Debian's): the agent waits for its data volume at its device, makes the datadir
 * on a new volume (an earlier install cut short does not count), starts MariaDB read-only on its own port, socket
 * and datadir, restarts it when it is killed, and reports each state as a status; a volume moved to another instance starts there on the same data, with that
 * instance's server_id.
 */
class DbRuntimeTest {

  private static final String FIRST = "i-0123456789abcdef0";
  private static final String SECOND = "i-0fedcba987654321a";

  @TempDir
  Path dir;
  private final TestDbRuntimes dbs = new TestDbRuntimes();

  @AfterEach
  void stop() {
    dbs.close();
  }

  @Test
  void mariaDbWaitsForItsVolumeStartsReadOnlyIsRestartedAndMovesWithTheVolume() throws Exception {
    Path devices = Files.createDirectories(dir.resolve("first/dev"));
    Path volume = dir.resolve("volumes/vol-1");
    int port = FreePorts.pick();
    DbRuntime first = dbs.start(FIRST, TestDbRuntimes.options(dir.resolve("first/agent"), port), devices);

    DbStatus waiting = Await.until("a status without a volume", Duration.ofSeconds(10), first::status,
        s -> s.problem().contains("not attached"));
    assertThat(waiting.server()).isEqualTo(DbStatus.Server.NO_VOLUME);

    // What an install cut short (a killed agent) left on the volume: never taken for a datadir, installed over.
    Files.createDirectories(volume.resolve("mysql.installing/mysql"));
    Files.writeString(volume.resolve("mysql.installing/ibdata1"), "half");
    TestDbRuntimes.attach(devices, volume);
    DbStatus up = awaitUp(first);
    assertThat(volume.resolve("mysql.installing")).as("the install's staging dir, renamed into place").doesNotExist();
    long serverId = new DbOptions().serverId(FIRST);
    assertThat(up.serverId()).isEqualTo(serverId);
    assertThat(up.readOnly()).as("read_only at every start: only the coordinator clears it").isTrue();
    assertThat(up.replica()).isFalse();
    assertThat(up.port()).isEqualTo(port);
    assertThat(volume.resolve("mysql/mysql")).as("the datadir on the volume").isDirectory();
    assertThat(dir.resolve("first/agent/my.cnf")).content().contains("server_id=" + serverId, "read_only=ON",
        "gtid_strict_mode=ON", "rpl_semi_sync_master_wait_point=AFTER_SYNC");
    assertThat(Files.exists(volume.resolve("my.cnf"))).as("the configuration is not on the volume").isFalse();

    String password = agentPassword(dir.resolve("first/agent"));
    sql(port, password, "SET GLOBAL read_only=OFF; CREATE DATABASE wiki; CREATE TABLE wiki.page (id INT PRIMARY KEY, "
        + "body TEXT); INSERT INTO wiki.page VALUES (1, 'Main Page'); SET GLOBAL read_only=ON");
    assertThat(Await.until("the write in the binlog", Duration.ofSeconds(10), first::status,
        s -> !s.gtidBinlogPos().isEmpty()).gtidBinlogPos()).startsWith("0-" + serverId + "-");

    long pid = mariadbPid(dir.resolve("first/agent"));
    ProcessHandle.of(pid).orElseThrow().destroyForcibly();
    Await.until("MariaDB started again", Duration.ofSeconds(60), () -> first.status().server() == DbStatus.Server.UP
        && safePid(dir.resolve("first/agent")) != pid);

    // The agent's account refused (its password changed behind its back): a status, not a crash.
    sql(port, password, "SET sql_log_bin=0; ALTER USER 'fleetvote_agent'@'127.0.0.1' IDENTIFIED BY 'changedbehind0000'");
    try {
      // Its open connection too: it was authenticated before the change.
      sql(port, "changedbehind0000", "KILL USER fleetvote_agent");
    } catch (RuntimeException killedOurselvesToo) {
      // KILL USER ends this connection as well.
    }
    Await.until("the refusal reported", Duration.ofSeconds(10), () -> first.status().server(),
        s -> s == DbStatus.Server.REFUSING);
    dbs.stop(first);
    Await.until("MariaDB stopped with the agent", Duration.ofSeconds(60), () -> ProcessHandle.allProcesses()
        .noneMatch(p -> p.info().commandLine().orElse("").contains(dir.resolve("first/agent/my.cnf").toString())));

    // The volume moves to another instance: MariaDB starts there on the same data, with that instance's server_id.
    Path otherDevices = Files.createDirectories(dir.resolve("second/dev"));
    Files.createSymbolicLink(otherDevices.resolve("sdg"), volume);
    DbRuntime second = dbs.start(SECOND, TestDbRuntimes.options(dir.resolve("second/agent"), port)
        .setDevice("/dev/sdg"), otherDevices);
    DbStatus moved = awaitUp(second);
    assertThat(moved.serverId()).isEqualTo(new DbOptions().serverId(SECOND)).isNotEqualTo(serverId);
    String secondPassword = agentPassword(dir.resolve("second/agent"));
    assertThat(sql(port, secondPassword, "SELECT body FROM wiki.page WHERE id = 1")).isEqualTo("Main Page");
  }

  /** Runs the statements as the agent's account; the first column of the last result, if any. */
  private String sql(int port, String password, String statements) {
    return dbs.sql(port, DbRuntime.AGENT_USER, password, statements);
  }

  private static long safePid(Path agentDir) {
    try {
      return mariadbPid(agentDir);
    } catch (IOException | NumberFormatException e) {
      return -1;
    }
  }
}
