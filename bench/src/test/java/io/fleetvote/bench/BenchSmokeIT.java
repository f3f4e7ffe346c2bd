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
 * prints its table; the three on the DB pair (db-pair, switchover, failover) in one run of {@code bench/db-smoke}, on
 * one pair. Those that run the whole system also say that it did what it measures: load-balancing's replacement, drain and HAProxy restarts lose no request to a drain, and
 * failover's killed master loses no acknowledged write, and switchover's switchover is done and its abort aborted,
 * neither losing one. overload-to-launch is the demo cycled: DemoIT runs its cycle (growing and shrinking group web
 * without a failed request), so here it only has to start.
 */
class BenchSmokeIT {

  private static final long LIMIT_SECONDS = 240;

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
  void agentFleetConnectsEveryAgentOnceAndPrintsTheCoordinatorsCost() throws Exception {
    assertThat(smoke("agent-fleet")).contains("20 agents attested and connected", "vote->tally p99")
        .containsPattern("\\n20 +[0-9.]+ +[0-9]+ +[0-9.]+ +[0-9.]+ ms +20 +1\\.00\\n");
  }

  @Test
  void linkFailoverMovesEveryAgentOfAFrozenCoordinator() throws Exception {
    // Its one trial (a freeze; LinkFailoverIT kills one too) takes the coordinator holding most of the 5 agents.
    assertThat(smoke("link-failover"))
        .containsPattern("\\n1 +SIGSTOP +127\\.0\\.0\\.1:\\d+ +[1-5] +\\d+ +\\d+ +\\d+ +\\d\\n")
        .contains("SIGSTOP (1 trials, 5 agents)", "slowest agent on the other coordinator",
            "group's vote count short on the survivor");
  }

  @Test
  void dashboardPrintsWhatItPushesAndHowFastThePageApplies() throws Exception {
    assertThat(smoke("dashboard")).contains("dashboard, 3 instances, one browser", "apply one snapshot, median (ms)");
  }

  @Test
  void loadBalancingTimesAReplacementADrainAndHaproxyRestartsWithEveryInstanceBack() throws Exception {
    String text = smoke("load-balancing");
    assertThat(text).contains("agent start -> first request routed: ", "state drain -> Server deleted. under load: ",
        "HAProxy killed -> all 2 live instances back: ", "in a crash loop");
    assertThat(text).as("the replacement: its victim drained before it went")
        .containsPattern("requests during the replacements: [1-9]\\d* sent, 0 failed ");
  }

  @Test
  void theDbBenchmarksOnOnePairMeasureWritesSwitchOverAndFailOverLosingNoAcknowledgedWrite() throws Exception {
    String text = smoke("db-smoke");
    assertThat(text).contains("\n== bench db-pair --smoke\n", "\n== bench switchover --smoke\n",
        "\n== bench failover --smoke\n");
    String dbPair = text.substring(text.indexOf("== bench db-pair"), text.indexOf("== bench switchover"));
    String switchover = text.substring(text.indexOf("== bench switchover"), text.indexOf("== bench failover"));
    String failover = text.substring(text.indexOf("== bench failover"));

    assertThat(dbPair).contains("acked writes/s through the LB's write port, closed loop", "semi-sync off/on",
        "replication lag at 50 writes/s open loop", "targets (DESIGN.md)", "replication lag at the demo's write rate: "
            + "p99 <= 1 s");
    assertThat(dbPair).as("every closed-loop run acknowledged writes, none failed")
        .containsPattern("\\n1 +1 +on +[1-9]\\d* +[0-9.]+ +[0-9.]+ +[0-9.]+ +0 +\\d+  [1-9]\\d*\\n")
        .containsPattern("\\n1 +4 +off +[1-9]\\d* +[0-9.]+ +[0-9.]+ +[0-9.]+ +0 +\\d+  none \\(semi-sync off\\)\\n");

    assertThat(switchover).contains("switchover write block as the writer saw it",
        "switchover write block by the journal",
        "aborted switchover (the replica's IO thread stopped), request -> writes resume on the old master",
        "targets", "planned switchover write block <= 2 s p95");
    assertThat(switchover).as("one switchover done and one aborted, each journal step timed, writes back, none lost")
        .containsPattern("\\n1 +switchover +done +\\d+ +\\d+ +\\d+ +\\d+ +\\d+ +-?\\d+ +\\d+ +[1-9]\\d* +0 "
            + "+[0-9.]+\\n")
        .containsPattern("\\n2 +abort +aborted +\\d+ +\\d+ +\\d+ +\\d+ +\\d+ +-?\\d+ +\\d+ +[1-9]\\d* +0 "
            + "+[0-9.]+\\n")
        .containsPattern("acknowledged writes lost in all \\(the acked file on the final master i-[0-9a-f]+\\): 0 of "
            + "[1-9]\\d*;");

    assertThat(failover).contains("kill -> first write through the LB's write port", "kill -> detected",
        "targets (DESIGN.md)", "master killed -> first write through HAProxy succeeds: p50 <= 3 s, p95 <= 5 s",
        "acknowledged writes lost in a failover (semi-sync): 0; measured 0 in 1 of 1 trials: met");
    assertThat(failover).as("the trial: each journal step timed, the old master fenced, writes acknowledged, none lost")
        .containsPattern("\\n1 +\\d+ +\\d+ +\\d+ +\\d+ +-?\\d+  (agent|EC2 stop|down) +[1-9]\\d* +\\d+ +0 +-?\\d+ "
            + "+-\\n");
  }

  @Test
  void overloadToLaunchStartsTheDemoWithItsBenchmarkOptions() throws Exception {
    // Its cycle is the demo's, which DemoIT runs (one overload, with the scripted failover after it): here, only that
    // the script starts the demo with the options that make it a benchmark.
    Path home = FleetvoteHome.dir();
    Path output = dir.resolve("overload-to-launch.out");
    Process bench = new ProcessBuilder(home.resolve("bench").resolve("overload-to-launch").toString(), "--help",
        "--state-dir", dir.resolve("demo").toString()).directory(home.toFile()).redirectErrorStream(true)
        .redirectOutput(output.toFile()).start();
    assertThat(bench.waitFor(LIMIT_SECONDS, TimeUnit.SECONDS)).as("bench/overload-to-launch --help exits").isTrue();
    assertThat(bench.exitValue()).as(Files.readString(output)).isZero();
    assertThat(Files.readString(output)).contains("usage: fleetvote demo", "--exit-after-cycles", "--no-db-failover",
        "--cycles N", "--load-seconds");
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
