package io.fleetvote.agent.load;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** A fake /proc and /sys/fs/cgroup tree whose counters the test moves, with a monotonic clock it moves too. */
class CgroupLoadSensorTest {

  private static final String HYBRID = """
      32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
      33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
      41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
      """;
  private static final String PURE_V2 = "35 24 0:30 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";
  private static final long SECOND = 1_000_000_000L;

  @TempDir
  Path root;
  private final AtomicLong nanos = new AtomicLong(5 * SECOND);
  private final FakeSensor fallback = new FakeSensor();
  private CgroupLoadSensor sensor;

  /** Stands in for the process-tree sensor: a fixed reading. */
  private static final class FakeSensor implements LoadSensor {
    private int samples;

    @Override
    public LoadSample sample() {
      samples++;
      return LoadSample.measured(42, Double.NaN, Instant.EPOCH);
    }

    @Override
    public String toString() {
      return "fake process tree";
    }
  }

  @BeforeEach
  void sensor() throws IOException {
    Files.createDirectories(root.resolve("run"));
    sensor = new CgroupLoadSensor(root.resolve("run/app.pid"), fallback,
        Clock.fixed(Instant.parse("2026-12-01T10:00:00Z"), ZoneOffset.UTC), root, nanos::get);
  }

  @Test
  void withCgroupV1TheUsageOfCpuacctIsAPercentageOfTheCpuQuota() throws IOException {
    mountinfo(HYBRID);
    Path cpu = v1Process(123, "/sb/i-1", 5_000, 20_000);
    Path cpuacct = root.resolve("sys/fs/cgroup/cpuacct/sb/i-1");
    usageV1(cpuacct, 7 * SECOND);

    assertThat(sensor.sample().problem()).isEqualTo("first reading of " + cpuacct + " (process 123, quota 0.250 CPU),"
        + " kept as the baseline");
    usageV1(cpuacct, 7 * SECOND + SECOND / 5);
    nanos.addAndGet(SECOND);
    LoadSample sample = sensor.sample();
    assertThat(sample.isMissing()).as(sample.problem()).isFalse();
    assertThat(sample.cpuPercent()).isCloseTo(80, within(1e-9));
    assertThat(cpu).exists();
  }

  @Test
  void aGroupThatRanALittleOverItsQuotaReadsAHundred() throws IOException {
    mountinfo(HYBRID);
    v1Process(123, "/sb/i-1", 5_000, 20_000);
    Path cpuacct = root.resolve("sys/fs/cgroup/cpuacct/sb/i-1");
    usageV1(cpuacct, 0);
    sensor.sample();
    usageV1(cpuacct, 2_507_500_000L);
    nanos.addAndGet(10 * SECOND);
    assertThat(sensor.sample().cpuPercent()).as("100.3 % clamped").isEqualTo(100);
  }

  @Test
  void withCgroupV2UsageUsecIsAPercentageOfCpuMax() throws IOException {
    mountinfo(PURE_V2);
    process(77, "0::/services/sb/i-2\n");
    Path group = Files.createDirectories(root.resolve("sys/fs/cgroup/services/sb/i-2"));
    Files.writeString(group.resolve("cpu.max"), "25000 100000\n");
    Files.writeString(group.resolve("cpu.stat"), "usage_usec 1000000\nuser_usec 900000\nsystem_usec 100000\n");
    pidFile(77);
    assertThat(sensor.sample().isMissing()).isTrue();
    Files.writeString(group.resolve("cpu.stat"), "usage_usec 1500000\nuser_usec 1300000\nsystem_usec 200000\n");
    nanos.addAndGet(4 * SECOND);
    assertThat(sensor.sample().cpuPercent()).isCloseTo(50, within(1e-9));
  }

  @Test
  void withoutAQuotaTheProcessTreeIsMeasuredAndTheFirstSuchSampleSaysSo() throws IOException {
    mountinfo(HYBRID);
    Path cpu = v1Process(123, "/sb/i-1", -1, 100_000);
    usageV1(root.resolve("sys/fs/cgroup/cpuacct/sb/i-1"), 0);

    LoadSample first = sensor.sample();
    assertThat(first.problem()).isEqualTo("the cpu cgroup " + cpu + " of process 123 has no quota: measuring the "
        + "fake process tree instead, from the next reading");
    assertThat(fallback.samples).as("the fallback's baseline").isEqualTo(1);
    assertThat(sensor.toString()).endsWith("now the fake process tree because the cpu cgroup " + cpu
        + " of process 123 has no quota");
    LoadSample second = sensor.sample();
    assertThat(second.isMissing()).isFalse();
    assertThat(second.cpuPercent()).isEqualTo(42);
  }

  @Test
  void aProcessInTheRootGroupIsMeasuredByTheFallback() throws IOException {
    mountinfo(HYBRID);
    process(123, "2:cpuacct:/\n1:cpu:/\n0::/\n");
    pidFile(123);
    assertThat(sensor.sample().problem()).startsWith("process 123 sits in the root cpu cgroup: measuring the fake");
    assertThat(sensor.sample().cpuPercent()).isEqualTo(42);
  }

  @Test
  void aVanishedProcessGivesAMissingSampleAndItsSuccessorIsFollowed() throws IOException {
    mountinfo(HYBRID);
    v1Process(123, "/sb/i-1", 5_000, 20_000);
    Path cpuacct = root.resolve("sys/fs/cgroup/cpuacct/sb/i-1");
    usageV1(cpuacct, SECOND);
    sensor.sample();
    deleteTree(root.resolve("proc/123"));
    assertThat(sensor.sample().problem()).isEqualTo("process 123 of pid file " + root.resolve("run/app.pid")
        + " is not running");

    v1Process(124, "/sb/i-1", 5_000, 20_000);
    usageV1(cpuacct, 2 * SECOND);
    assertThat(sensor.sample().problem()).as("after a gap, a new baseline").startsWith("first reading of ");
    usageV1(cpuacct, 2 * SECOND + SECOND / 10);
    nanos.addAndGet(SECOND);
    assertThat(sensor.sample().cpuPercent()).isCloseTo(40, within(1e-9));
  }

  @Test
  void aZombieIsNotRunning() throws IOException {
    mountinfo(HYBRID);
    v1Process(123, "/sb/i-1", 5_000, 20_000);
    Files.writeString(root.resolve("proc/123/stat"), "123 (java) Z 1 123 123 0 -1\n");
    assertThat(sensor.sample().problem()).endsWith(" is not running");
  }

  @Test
  void aMissingPidFileGivesAMissingSample() {
    assertThat(sensor.sample().problem()).startsWith("pid file " + root.resolve("run/app.pid") + " cannot be read (");
  }

  /** A process in the v1 cpu and cpuacct groups at {@code path}, with this quota; the pid file names it. */
  private Path v1Process(int pid, String path, long quota, long period) throws IOException {
    process(pid, "2:cpuacct:" + path + "\n1:cpu:" + path + "\n0::/\n");
    Path cpu = Files.createDirectories(root.resolve("sys/fs/cgroup/cpu" + path));
    Files.writeString(cpu.resolve("cpu.cfs_quota_us"), quota + "\n");
    Files.writeString(cpu.resolve("cpu.cfs_period_us"), period + "\n");
    Files.createDirectories(root.resolve("sys/fs/cgroup/cpuacct" + path));
    pidFile(pid);
    return cpu;
  }

  private void process(int pid, String cgroup) throws IOException {
    Path proc = Files.createDirectories(root.resolve("proc/" + pid));
    Files.writeString(proc.resolve("cgroup"), cgroup);
    Files.writeString(proc.resolve("stat"), pid + " (java) S 1 " + pid + " " + pid + " 0 -1\n");
  }

  private void pidFile(int pid) throws IOException {
    Files.writeString(root.resolve("run/app.pid"), pid + " 1764583200000\n");
  }

  private void mountinfo(String text) throws IOException {
    Files.writeString(Files.createDirectories(root.resolve("proc/self")).resolve("mountinfo"), text);
  }

  private static void usageV1(Path cpuacct, long nanos) throws IOException {
    Files.writeString(cpuacct.resolve("cpuacct.usage"), nanos + "\n");
  }

  private static void deleteTree(Path dir) throws IOException {
    try (var files = Files.walk(dir)) {
      for (Path file : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(file);
      }
    }
  }
}
