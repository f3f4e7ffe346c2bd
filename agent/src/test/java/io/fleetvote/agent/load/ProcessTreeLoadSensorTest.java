package io.fleetvote.agent.load;

import io.fleetvote.common.process.ProcessProbe;
import io.fleetvote.testkit.Await;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

/** Real processes that burn or idle, named by pid files the way the sandbox writes them. */
class ProcessTreeLoadSensorTest {

  /** How long each measurement lasts: long enough for 10 ms CPU ticks to average out. */
  private static final long WINDOW_MS = 700;
  private static final String BURN = "while :; do :; done";

  @TempDir
  Path dir;
  private final List<Process> started = new ArrayList<>();

  @AfterEach
  void killWhatWasStarted() throws InterruptedException {
    for (Process process : started) {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
      process.waitFor(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void aBusyProcessReadsTheCpuItUsedInPercentOfOneCore() throws Exception {
    Process burner = start(BURN);
    ProcessTreeLoadSensor sensor = sensorFor(burner, 1);
    assertThat(sensor.sample().problem()).startsWith("first reading of ");
    Usage usage = Usage.of(burner);
    LoadSample sample = measure(sensor, burner);
    double used = usage.percentSince();
    assertThat(sample.isMissing()).as(sample.problem()).isFalse();
    // What the process got depends on what else the host runs: compare with the JDK's own count of its CPU time.
    assertThat(sample.cpuPercent()).as("the JDK counted %.1f %%", used).isCloseTo(used, offset(15.0));
    assertThat(sample.cpuPercent()).as("a busy loop gets some CPU").isGreaterThan(20.0);
    assertThat(sample.loadPerCore()).isNaN();
  }

  @Test
  void theSameTreeMeasuredAgainstTwoCoresReadsHalf() throws Exception {
    Process burner = start(BURN);
    ProcessTreeLoadSensor oneCore = sensorFor(burner, 1);
    ProcessTreeLoadSensor twoCores = sensorFor(burner, 2);
    oneCore.sample();
    twoCores.sample();
    double one = measure(oneCore, burner).cpuPercent();
    double two = twoCores.sample().cpuPercent();
    assertThat(two).isCloseTo(one / 2, offset(10.0));
  }

  @Test
  void childrenCountWithTheirParent() throws Exception {
    Process parent = start("(" + BURN + ") & (" + BURN + ") & wait");
    ProcessTreeLoadSensor sensor = sensorFor(parent, 1);
    awaitChildren(parent, 2);
    sensor.sample();
    Usage usage = Usage.of(parent);
    LoadSample sample = measure(sensor, parent);
    double tree = usage.percentSince();
    double busiest = usage.busiestChildPercent();
    assertThat(sample.cpuPercent()).as("the JDK counted %.1f %% for the tree", tree).isCloseTo(tree, offset(20.0));
    assertThat(sample.cpuPercent()).as("both children count: more than the busiest one alone (%.1f %%)", busiest)
        .isGreaterThan(busiest + 10);
  }

  @Test
  void anIdleProcessReadsNearZero() throws Exception {
    Process idle = start("sleep 60");
    ProcessTreeLoadSensor sensor = sensorFor(idle, 1);
    sensor.sample();
    assertThat(measure(sensor, idle).cpuPercent()).isLessThan(5.0);
  }

  @Test
  void aRestartedProcessIsFollowedThroughItsPidFile() throws Exception {
    Process first = start("sleep 60");
    ProcessTreeLoadSensor sensor = sensorFor(first, 1);
    sensor.sample();
    first.destroyForcibly().waitFor();
    LoadSample gone = sensor.sample();
    assertThat(gone.problem()).isEqualTo("process " + first.pid() + " of pid file " + dir.resolve("app.pid")
        + " is not running");
    Process second = start(BURN);
    Usage usage = Usage.of(second);
    writePidFile(second);
    LoadSample restarted = measure(sensor, second);
    assertThat(restarted.isMissing()).as(restarted.problem()).isFalse();
    assertThat(restarted.cpuPercent()).as("the new process counts from its start, not from zero")
        .isGreaterThan(5.0).isCloseTo(usage.percentSince(), offset(15.0));
  }

  @Test
  void aMissingOrGarbledPidFileGivesAMissingSampleThatSaysSo() throws IOException {
    ProcessTreeLoadSensor sensor = new ProcessTreeLoadSensor(dir.resolve("app.pid"), 1, Clock.systemUTC());
    assertThat(sensor.sample().problem()).startsWith("pid file " + dir.resolve("app.pid") + " cannot be read (")
        .contains("NoSuchFileException");
    Files.writeString(dir.resolve("app.pid"), "not-a-pid 1700000000000\n");
    assertThat(sensor.sample().problem()).startsWith("pid file " + dir.resolve("app.pid")
        + " does not start with a pid");
    Files.writeString(dir.resolve("app.pid"), "");
    assertThat(sensor.sample().isMissing()).isTrue();
  }

  @Test
  void aDeadProcessGivesAMissingSample() throws Exception {
    Process dead = start("exit 0");
    dead.waitFor();
    ProcessTreeLoadSensor sensor = sensorFor(dead, 1);
    LoadSample sample = sensor.sample();
    assertThat(sample.isMissing()).isTrue();
    assertThat(sample.problem()).endsWith(" is not running");
    assertThat(sample.cpuPercent()).isNaN();
  }

  /**
   * CPU time of a process tree as the JDK counts it (independently of OSHI), from one moment: the truth a sensor's
   * reading is held against, whatever share of the host the tree got.
   */
  private record Usage(ProcessHandle root, Map<Long, Duration> before, long startedNanos) {

    static Usage of(Process process) {
      Map<Long, Duration> cpu = new HashMap<>();
      tree(process.toHandle()).forEach(h -> cpu.put(h.pid(), cpu(h)));
      return new Usage(process.toHandle(), cpu, System.nanoTime());
    }

    double percentSince() {
      return tree(root).mapToDouble(this::percent).sum();
    }

    double busiestChildPercent() {
      return root.descendants().mapToDouble(this::percent).max().orElse(0);
    }

    private double percent(ProcessHandle handle) {
      double elapsedMillis = (System.nanoTime() - startedNanos) / 1e6;
      Duration used = cpu(handle).minus(before.getOrDefault(handle.pid(), Duration.ZERO));
      return 100 * used.toMillis() / elapsedMillis;
    }

    private static Stream<ProcessHandle> tree(ProcessHandle root) {
      return Stream.concat(Stream.of(root), root.descendants());
    }

    private static Duration cpu(ProcessHandle handle) {
      return handle.info().totalCpuDuration().orElse(Duration.ZERO);
    }
  }

  private static void awaitChildren(Process parent, int count) {
    Await.until(count + " children of the shell", Duration.ofSeconds(10), Duration.ofMillis(10),
        () -> parent.descendants().count(), n -> n >= count);
  }

  /** Starts {@code sh -c script}; the test's cleanup kills it and its children. */
  private Process start(String script) throws IOException {
    Process process = new ProcessBuilder("sh", "-c", script).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    started.add(process);
    return process;
  }

  /** A sensor reading the pid file of {@code process}, written as the sandbox writes it: "pid startMillis". */
  private ProcessTreeLoadSensor sensorFor(Process process, double cores) throws IOException {
    writePidFile(process);
    return new ProcessTreeLoadSensor(dir.resolve("app.pid"), cores, Clock.systemUTC());
  }

  private void writePidFile(Process process) throws IOException {
    long startMillis = ProcessProbe.startMillis(process.toHandle()).orElse(0L);
    Files.writeString(dir.resolve("app.pid"), process.pid() + " " + startMillis + "\n");
  }

  /** Lets {@code process} run for one window (failing if it dies meanwhile), then reads the sensor. */
  private static LoadSample measure(ProcessTreeLoadSensor sensor, Process process) throws InterruptedException {
    assertThat(process.waitFor(WINDOW_MS, TimeUnit.MILLISECONDS)).as("the measured process exited").isFalse();
    return sensor.sample();
  }
}
