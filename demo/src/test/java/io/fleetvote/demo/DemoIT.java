package io.fleetvote.demo;

import io.fleetvote.common.FleetvoteHome;
import io.fleetvote.common.cluster.JvmFlags;
import io.fleetvote.common.process.PidRecord;
import io.fleetvote.testkit.Await;
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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The README's demo command, shortened: the coordinator brings the groups to their minimum, the overload through
 * HAProxy grows group web, the group shrinks back (its victim drained first), no request fails, the ledger's reasons
 * and HAProxy's servers are printed; then the demo keeps running until SIGTERM stops it without a stack trace, and
 * nothing is left running.
 */
class DemoIT {

  private static final Pattern COORDINATOR_API = Pattern.compile("API http://127\\.0\\.0\\.1:(\\d+)/");

  @TempDir
  Path dir;

  @Test
  void theDemoGrowsTheGroupUnderLoadShrinksItBackKeepsRunningAndStopsCleanlyOnSigterm() throws Exception {
    Path output = dir.resolve("demo.out");
    Process demo = new ProcessBuilder(ManagedProcess.java(FleetvoteHome.dir(),
        "demo/target/fleetvote-demo.jar", "io.fleetvote.demo.DemoMain", JvmFlags.LOCAL,
        List.of("--load-seconds", "20", "--state-dir", dir.resolve("demo").toString())))
        .redirectErrorStream(true).redirectOutput(output.toFile()).start();
    try {
      Await.until("the demo's cycle done, the system kept running", Duration.ofSeconds(300),
          () -> read(output).contains("keep running") || !demo.isAlive());
      assertThat(demo.isAlive()).as(read(output)).isTrue();
      demo.destroy();
      assertThat(demo.waitFor(120, TimeUnit.SECONDS)).as("the demo stops on SIGTERM").isTrue();
    } finally {
      demo.destroyForcibly();
    }
    String text = Files.readString(output);
    assertThat(text).contains("grow (below-min): 2 instance(s) below min 2: launch 2", "[launch done",
        "grow (votes): ", "voted grow", "shrink (votes): ", "voted shrink", "the least busy",
        "sustained overload -> RunInstances", "overload -> p90 latency back under", "coordinator stopped",
        "sandbox stopped", "haproxy be_web:", " UP ", "[terminate done", "dashboard: http://127.0.0.1:",
        "(log in as demo, password ");
    assertThat(text).as("the whole run through HAProxy, scale-out and scale-in included")
        .containsPattern("requests through HAProxy in the whole run: [1-9]\\d* sent, 0 failed; HAProxy: \\d+ requests, "
            + "0 answered 5xx");
    assertThat(text).doesNotContain("overload 1: no grow");
    assertThat(text).as("a clean stop").doesNotContain("Exception", "\tat ");
    assertThat(text).as("capacity enforced").doesNotContain("cannot give instances their CPU capacity");

    Matcher api = COORDINATOR_API.matcher(text);
    assertThat(api.find()).as(text).isTrue();
    assertThat(ProcessHandle.allProcesses().map(p -> p.info().commandLine().orElse(""))
        .filter(line -> line.contains(dir.toString())))
        .as("sandbox or coordinator left running").isEmpty();
    try (Stream<Path> pidFiles = Files.walk(dir.resolve("demo/sandbox/instances"))) {
      assertThat(pidFiles.filter(f -> f.toString().endsWith(".pid")).map(f -> PidRecord.read(f).orElseThrow()))
          .as("instance processes").isNotEmpty().allSatisfy(p -> assertThat(p.live()).isEmpty());
    }
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
