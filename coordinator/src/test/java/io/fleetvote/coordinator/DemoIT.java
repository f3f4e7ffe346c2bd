package io.fleetvote.coordinator;

import io.fleetvote.sandbox.SandboxOptions;
import io.fleetvote.sandbox.client.ManagedProcess;
import io.fleetvote.sandbox.process.ProcessProbe;
import io.fleetvote.sandbox.process.ProcessSupervisor;
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
 * and HAProxy's servers are printed, and nothing is left running.
 */
class DemoIT {

  private static final Pattern COORDINATOR_API = Pattern.compile("API http://127\\.0\\.0\\.1:(\\d+)/");

  @TempDir
  Path dir;

  @Test
  void theDemoGrowsTheGroupUnderLoadShrinksItBackAndCleansUpAfterItself() throws Exception {
    Path output = dir.resolve("demo.out");
    Process demo = new ProcessBuilder(ManagedProcess.java(SandboxOptions.defaultHome(),
        "sandbox/target/fleetvote-sandbox.jar", "io.fleetvote.sandbox.demo.DemoMain", List.of(),
        List.of("--load-seconds", "25", "--exit-after-cycles", "--state-dir", dir.resolve("demo").toString())))
        .redirectErrorStream(true).redirectOutput(output.toFile()).start();
    try {
      assertThat(demo.waitFor(300, TimeUnit.SECONDS)).as("the demo ends after its cycle").isTrue();
    } finally {
      demo.destroyForcibly();
    }
    String text = Files.readString(output);
    assertThat(demo.exitValue()).as(text).isZero();
    assertThat(text).contains("grow (below-min): 2 instance(s) below min 2: launch 2", "[launch done",
        "grow (votes): ", "voted grow", "shrink (votes): ", "voted shrink", "the least busy",
        "sustained overload -> RunInstances", "coordinator stopped", "sandbox stopped",
        "haproxy be_web:", " UP ", "[terminate done", "dashboard: http://127.0.0.1:", "(log in as demo, password ");
    assertThat(text).as("the whole run through HAProxy, scale-out and scale-in included")
        .containsPattern("requests through HAProxy in the whole run: [1-9]\\d* sent, 0 failed; HAProxy: \\d+ requests, "
            + "0 answered 5xx");
    assertThat(text).doesNotContain("overload 1: no grow");

    Matcher api = COORDINATOR_API.matcher(text);
    assertThat(api.find()).as(text).isTrue();
    assertThat(ProcessHandle.allProcesses().map(p -> p.info().commandLine().orElse(""))
        .filter(line -> line.contains(dir.toString())))
        .as("sandbox or coordinator left running").isEmpty();
    try (Stream<Path> pidFiles = Files.walk(dir.resolve("demo/sandbox/instances"))) {
      assertThat(pidFiles.filter(f -> f.toString().endsWith(".pid")).map(f -> ProcessSupervisor.fromPidFile(f.getParent(),
              f.getFileName().toString().replace(".pid", "")).orElseThrow()))
          .as("instance processes").isNotEmpty().allSatisfy(p -> assertThat(ProcessProbe.alive(p.pid(),
              p.startedAtMillis())).isFalse());
    }
  }

  @Test
  void withoutExitAfterCyclesTheDemoKeepsRunningUntilSigtermThenStopsCleanly() throws Exception {
    Path output = dir.resolve("demo-stays.out");
    Process demo = new ProcessBuilder(ManagedProcess.java(SandboxOptions.defaultHome(),
        "sandbox/target/fleetvote-sandbox.jar", "io.fleetvote.sandbox.demo.DemoMain", List.of(),
        List.of("--cycles", "0", "--state-dir", dir.resolve("stays").toString())))
        .redirectErrorStream(true).redirectOutput(output.toFile()).start();
    try {
      Eventually.await("the demo up and staying", Duration.ofSeconds(180),
          () -> read(output).contains("keep running") || !demo.isAlive());
      assertThat(demo.isAlive()).as(Files.readString(output)).isTrue();
      demo.destroy();
      assertThat(demo.waitFor(120, TimeUnit.SECONDS)).as("the demo stops on SIGTERM").isTrue();
    } finally {
      demo.destroyForcibly();
    }
    String text = Files.readString(output);
    assertThat(text).contains("coordinator stopped", "sandbox stopped");
    assertThat(text).as("a clean stop").doesNotContain("Exception", "\tat ");
    assertThat(ProcessHandle.allProcesses().map(p -> p.info().commandLine().orElse(""))
        .filter(line -> line.contains(dir.resolve("stays").toString())))
        .as("sandbox or coordinator left running").isEmpty();
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
