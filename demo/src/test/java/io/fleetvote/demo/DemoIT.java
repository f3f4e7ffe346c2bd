package io.fleetvote.demo;

import io.fleetvote.common.FleetvoteHome;
import io.fleetvote.common.cluster.JvmFlags;
import io.fleetvote.testkit.Await;
import io.fleetvote.testkit.LeftRunning;
import io.fleetvote.testkit.ManagedProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The README's demo command with one overload cycle of 10 s (what {@code bench/overload-to-launch} cycles): the
 * coordinator brings the groups to their minimum behind HAProxy, the overload grows group web by its votes and its
 * end shrinks it back without a failed request, the scripted DB failover moves the writes, the demo then keeps running
 * with its light load and the dashboard until SIGTERM stops it without a stack trace, and nothing is left running.
 */
class DemoIT {

  /** The pair's status line, its slots in either order (after the scripted failover slot 2 holds the master). */
  private static final Pattern SEMI_SYNC_ON = Pattern.compile("db replicating: (?=[^\\n]*replica i-\\w+ IO yes SQL yes)"
      + "[^\\n]*master i-\\w+ writable, binlog \\S+, semi-sync on \\(1 acking\\)");
  private static final Pattern PAGE = Pattern.compile("a request through HAProxy: served by i-\\w+, page \\d+ at "
      + "revision \\d+");

  @TempDir
  Path dir;

  @Test
  void theDemoBringsTheGroupsUpKeepsRunningAndStopsCleanlyOnSigterm() throws Exception {
    Path output = dir.resolve("demo.out");
    Process demo = new ProcessBuilder(ManagedProcess.java(FleetvoteHome.dir(),
        "demo/target/fleetvote-demo.jar", "io.fleetvote.demo.DemoMain", JvmFlags.LOCAL,
        List.of("--cycles", "1", "--load-seconds", "10", "--state-dir", dir.resolve("demo").toString())))
        .redirectErrorStream(true).redirectOutput(output.toFile()).start();
    try {
      // A timeout shows the demo's last lines (its status lines say which tier it waits for).
      Await.until("the demo's groups up, the system kept running", Duration.ofSeconds(300),
          () -> tail(read(output)), text -> text.contains("keep running") || !demo.isAlive());
      assertThat(demo.isAlive()).as(read(output)).isTrue();
      // A status line (every 10 s): the light load keeps going through HAProxy while the demo stays up, a request's
      // page row (the app has the DB account once the pair replicates), the pair with semi-sync on (a commit that
      // waited too long for the replica, as on a busy machine, turns it off until the replica acknowledges again).
      Await.until("status lines with a request's page row and semi-sync on while it keeps running",
          Duration.ofSeconds(90), () -> tail(read(output).split("keep running", 2)[1]),
          text -> PAGE.matcher(text).find() && SEMI_SYNC_ON.matcher(text).find() || !demo.isAlive());
      demo.destroy();
      assertThat(demo.waitFor(120, TimeUnit.SECONDS)).as("the demo stops on SIGTERM").isTrue();
    } finally {
      // Even on a failure: SIGTERM first (the demo's own hook stops its sandbox, coordinator and instances), and what
      // is still left after that, by pid.
      if (demo.isAlive()) {
        demo.destroy();
        demo.waitFor(120, TimeUnit.SECONDS);
      }
      demo.destroyForcibly();
      LeftRunning.under(dir.resolve("demo")).forEach(left -> ProcessHandle.of(Long.parseLong(left.split(" ", 2)[0]))
          .ifPresent(ProcessHandle::destroyForcibly));
    }
    String text = Files.readString(output);
    assertThat(text).contains("grow (below-min): 2 instance(s) below min 2: launch 2", "[launch done",
        "coordinator stopped", "sandbox stopped", "dashboard: http://127.0.0.1:", "(log in as demo, password ");
    assertThat(text.split("keep running", 2)[1]).as("the light load while it kept running")
        .containsPattern("light load over: sent +[1-9]\\d* +ok +\\d+ +failed +0 ").contains("haproxy be_web:", " UP ")
        .containsPattern(SEMI_SYNC_ON);
    // The app's requests do a wiki's database work through the LB's write port: pages read and written.
    assertThat(text.split("keep running", 2)[1]).containsPattern(PAGE).contains("  web: ");
    // The overload cycle: a grow by the votes, RunInstances timed, the latency back under its target, a shrink.
    assertThat(text).contains("grow (votes): ", "voted grow", "shrink (votes): ", "voted shrink", "the least busy",
        "sustained overload -> RunInstances", "overload -> p90 latency back under", "[terminate done")
        .doesNotContain("overload 1: no grow").containsPattern("overload 1: +\\d+ ms")
        .containsPattern("requests of the overloads through HAProxy: [1-9]\\d* sent, 0 failed");
    // The scripted DB failover: the master's instance killed, the coordinator's journal printed, writes moved.
    assertThat(text).contains("a DB failover: the master", "detected: master", "fenced: ", "promoted: ")
        .containsPattern("failover f\\d+-\\d+ done: writes go to i-");
    assertThat(text).as("a clean stop").doesNotContain("Exception", "\tat ");
    assertThat(text).as("capacity enforced").doesNotContain("cannot give instances their CPU capacity");
    assertThat(LeftRunning.pidFiles(dir.resolve("demo"))).as("instances started").isPositive();
    assertThat(LeftRunning.under(dir)).as("processes left running").isEmpty();
  }

  private static String tail(String text) {
    return text.length() <= 6000 ? text : "..." + text.substring(text.length() - 6000);
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
