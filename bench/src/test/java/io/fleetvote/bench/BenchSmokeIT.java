package io.fleetvote.bench;

import io.fleetvote.common.FleetvoteHome;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Each benchmark's script in its smoke mode (tiny sizes, one cycle), so that none breaks unnoticed: it exits 0 and
 * prints its table. Two take too long for the suite's 12 minutes on two cores, and their scripts are only checked to
 * start and read their options here: overload-to-launch (one demo cycle, about 50 s; DemoIT runs the demo's cycle)
 * and load-balancing (30 to 60 s; LoadBalancingIT runs the same steps with assertions).
 */
class BenchSmokeIT {

  private static final long LIMIT_SECONDS = 120;

  @TempDir
  Path dir;

  @Test
  void tallyPrintsItsTicks() throws Exception {
    assertThat(smoke("tally")).contains("tick p99", "targets (DESIGN.md)");
  }

  @Test
  void launchToAnswerPrintsItsMedians() throws Exception {
    assertThat(smoke("launch-to-answer")).contains("to agent answers", "1 runs on");
  }

  @Test
  void majorityToLaunchPrintsItsPercentiles() throws Exception {
    assertThat(smoke("majority-to-launch")).contains("majority -> RunInstances over 1 trials");
  }

  @Test
  void agentCheckPrintsTheIdleAndTheSaturatedCases() throws Exception {
    assertThat(smoke("agent-check")).contains("idle: agent-check", "saturated (", "under its quota");
  }

  @Test
  void agentFootprintPrintsItsVerdicts() throws Exception {
    assertThat(smoke("agent-footprint")).contains("agent footprint", "RSS (MiB)", "CPU (% of a core)");
  }

  @Test
  void dashboardPrintsWhatItPushesAndHowFastThePageApplies() throws Exception {
    assertThat(smoke("dashboard")).contains("dashboard, 3 instances, one browser", "apply one snapshot, median (ms)");
  }

  @Test
  void loadBalancingTakesItsOptions() throws Exception {
    assertThat(smoke("load-balancing", "--help")).contains("--trials", "--crash-loop", "--rate");
  }

  @Test
  void overloadToLaunchHandsTheDemoOptionsItKnows() throws Exception {
    assertThat(smoke("overload-to-launch", "--help")).contains("usage: fleetvote demo", "--exit-after-cycles");
  }

  /** {@code bench/NAME --smoke ARGS}: its output, once it exited 0 within the limit. */
  private String smoke(String name, String... args) throws Exception {
    Path home = FleetvoteHome.dir();
    Path output = dir.resolve(name + ".out");
    List<String> command = new ArrayList<>(List.of(home.resolve("bench").resolve(name).toString(), "--smoke"));
    command.addAll(List.of(args));
    Process bench = new ProcessBuilder(command).directory(home.toFile())
        .redirectErrorStream(true).redirectOutput(output.toFile()).start();
    try {
      boolean exited = bench.waitFor(LIMIT_SECONDS, TimeUnit.SECONDS);
      assertThat(exited).as("bench/%s --smoke within %d s: %s", name, LIMIT_SECONDS, Files.readString(output)).isTrue();
      assertThat(bench.exitValue()).as("bench/%s --smoke: %s", name, Files.readString(output)).isZero();
      return Files.readString(output);
    } finally {
      if (bench.isAlive()) {
        // SIGTERM first: the scripts and the benchmarks stop what they started.
        bench.destroy();
        if (!bench.waitFor(30, TimeUnit.SECONDS)) {
          bench.destroyForcibly();
        }
      }
    }
  }
}
