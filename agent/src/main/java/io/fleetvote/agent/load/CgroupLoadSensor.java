package io.fleetvote.agent.load;

import io.fleetvote.common.cgroup.CgroupLayout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * The load of an instance whose workload has a CPU quota of its own (a sandbox instance, a container): the CPU
 * time its cgroup used between two readings, in percent of the quota, so a saturated instance reads 100 whatever
 * the host's speed and however busy its other tenants are ({@code reference/overload-and-capacity.md} (d)).
 * <p>
 * The process is named by a pid file, read again for every sample, and so is {@code /proc/<pid>/cgroup}: a
 * restarted app is followed into its group. With cgroup v1 the quota is {@code cpu.cfs_quota_us /
 * cpu.cfs_period_us} of its {@code cpu} group and the usage {@code cpuacct.usage} (ns) of its {@code cpuacct} group;
 * with v2 {@code cpu.max} and {@code usage_usec} of {@code cpu.stat}. The group's accounting includes children that
 * came and went between readings. The figure is clamped to 0..100 (the kernel lets a group run a little over its
 * quota: 100.3 % was seen).
 * <p>
 * A process without a quota (capacity not enforced) or in the root group is measured by {@code fallback} instead
 * (the process tree against the instance's nominal cores); the sample at which that starts is missing and says so,
 * and so does {@link #toString()}. The first reading of a group, or after a gap, only sets the baseline.
 */
public final class CgroupLoadSensor implements LoadSensor {

  private final PidFile pidFile;
  private final LoadSensor fallback;
  private final Clock clock;
  private final Path root;
  private final LongSupplier nanoTime;
  private CgroupLayout layout;
  private Reading previous;
  /** Why the fallback measures now; null while the group is measured. */
  private String fallingBack;

  /** Where a process's CPU usage is accounted, and its capacity; {@code noQuota} says why there is none. */
  private record Source(Path usage, boolean v2, double capacity, String noQuota) {

    static Source none(String why) {
      return new Source(null, false, Double.NaN, why);
    }

    long usageNanos() throws IOException {
      if (!v2) {
        return Long.parseLong(Files.readString(usage).trim());
      }
      for (String line : Files.readAllLines(usage)) {
        if (line.startsWith("usage_usec ")) {
          return Long.parseLong(line.substring("usage_usec ".length()).trim()) * 1000;
        }
      }
      throw new IOException(usage + " has no usage_usec");
    }
  }

  /** One reading: the group's usage at a moment of the monotonic clock. */
  private record Reading(Path usage, long usageNanos, long nanos) {
  }

  /** Measures the process of {@code pidFile} on this machine; {@code fallback} when it has no quota. */
  public CgroupLoadSensor(Path pidFile, LoadSensor fallback, Clock clock) {
    this(pidFile, fallback, clock, Path.of("/"), System::nanoTime);
  }

  /** With {@code /proc} and {@code /sys} read under {@code root} and a monotonic clock of its own, for tests. */
  CgroupLoadSensor(Path pidFile, LoadSensor fallback, Clock clock, Path root, LongSupplier nanoTime) {
    this.pidFile = new PidFile(pidFile);
    this.fallback = fallback;
    this.clock = clock;
    this.root = root;
    this.nanoTime = nanoTime;
  }

  @Override
  public synchronized LoadSample sample() {
    Instant when = clock.instant();
    int pid;
    Source source;
    long usage;
    try {
      pid = pidFile.read();
    } catch (PidFile.Unreadable e) {
      return gap(when, e.getMessage());
    }
    try {
      if (!running(pid)) {
        return gap(when, pidFile.notRunning(pid));
      }
      source = source(pid);
      if (source.noQuota() != null) {
        return fallBack(when, source.noQuota());
      }
      usage = source.usageNanos();
    } catch (NoSuchFileException e) {
      return gap(when, pidFile.notRunning(pid));
    } catch (IOException | RuntimeException e) {
      return gap(when, "the cgroup of process " + pid + " cannot be read (" + e + ")");
    }
    long nanos = nanoTime.getAsLong();
    Reading last = previous;
    previous = new Reading(source.usage(), usage, nanos);
    fallingBack = null;
    if (last == null || !last.usage().equals(source.usage()) || usage < last.usageNanos() || nanos <= last.nanos()) {
      return LoadSample.missing(when, "first reading of " + source.usage().getParent() + " (process " + pid
          + ", quota " + String.format(Locale.ROOT, "%.3f", source.capacity()) + " CPU), kept as the baseline");
    }
    double percent = 100.0 * (usage - last.usageNanos()) / ((nanos - last.nanos()) * source.capacity());
    return LoadSample.measured(Math.max(0, Math.min(100, percent)), Double.NaN, when);
  }

  /** Where the process's usage and quota are: v1's cpu and cpuacct groups, else v2's group. */
  private Source source(int pid) throws IOException {
    CgroupLayout.Membership groups = layout().membershipOf(Integer.toString(pid));
    Optional<CgroupLayout.Group> cpu = groups.v1("cpu");
    if (cpu.isPresent()) {
      if (cpu.get().isRoot()) {
        return Source.none("process " + pid + " sits in the root cpu cgroup");
      }
      long quota = readLong(cpu.get().dir().resolve("cpu.cfs_quota_us"));
      if (quota <= 0) {
        return Source.none("the cpu cgroup " + cpu.get().dir() + " of process " + pid + " has no quota");
      }
      double capacity = (double) quota / readLong(cpu.get().dir().resolve("cpu.cfs_period_us"));
      Optional<CgroupLayout.Group> accounting = groups.v1("cpuacct");
      if (accounting.isPresent()) {
        return new Source(accounting.get().dir().resolve("cpuacct.usage"), false, capacity, null);
      }
      return groups.v2().map(g -> new Source(g.dir().resolve("cpu.stat"), true, capacity, null))
          .orElse(Source.none("process " + pid + " is in no cgroup that accounts its CPU"));
    }
    Optional<CgroupLayout.Group> unified = groups.v2();
    if (unified.isEmpty()) {
      return Source.none("process " + pid + " is in no cgroup with a cpu controller");
    }
    if (unified.get().isRoot()) {
      return Source.none("process " + pid + " sits in the root cgroup");
    }
    Path max = unified.get().dir().resolve("cpu.max");
    if (!Files.exists(max)) {
      return Source.none("the cgroup " + unified.get().dir() + " of process " + pid + " has no cpu controller");
    }
    String[] quota = Files.readString(max).trim().split(" ");
    if (quota[0].equals("max")) {
      return Source.none("the cgroup " + unified.get().dir() + " of process " + pid + " has no quota");
    }
    return new Source(unified.get().dir().resolve("cpu.stat"), true,
        (double) Long.parseLong(quota[0]) / Long.parseLong(quota[1]), null);
  }

  /** A zombie (nobody reaped it) still has a /proc entry, with the root groups in it. */
  private boolean running(int pid) throws IOException {
    String stat = Files.readString(root.resolve("proc").resolve(Integer.toString(pid)).resolve("stat"));
    int close = stat.lastIndexOf(')');
    return close < 0 || close + 2 >= stat.length() || stat.charAt(close + 2) != 'Z';
  }

  /** The cgroup mounts, read once: they do not move while the agent runs. */
  private CgroupLayout layout() throws IOException {
    if (layout == null) {
      layout = CgroupLayout.read(root);
    }
    return layout;
  }

  /** No reading now: the next one is a baseline again. */
  private LoadSample gap(Instant when, String problem) {
    previous = null;
    return LoadSample.missing(when, problem);
  }

  /**
   * Measures with the fallback. The sample at which it starts (again) is missing and says why: the fallback's own
   * reading then only renews its baseline, which may be from long ago.
   */
  private LoadSample fallBack(Instant when, String why) {
    previous = null;
    LoadSample sample = fallback.sample();
    if (why.equals(fallingBack)) {
      return sample;
    }
    fallingBack = why;
    return LoadSample.missing(when, why + ": measuring the " + fallback + " instead, from the next reading");
  }

  private static long readLong(Path file) throws IOException {
    return Long.parseLong(Files.readString(file).trim());
  }

  @Override
  public synchronized String toString() {
    String measured = "CPU of the cgroup of the process in " + pidFile + " in percent of its quota";
    return fallingBack == null ? measured + " (without a quota: the " + fallback + ")"
        : measured + ", now the " + fallback + " because " + fallingBack;
  }
}
