package io.fleetvote.agent.load;

import oshi.SystemInfo;
import oshi.software.os.OSProcess;
import oshi.software.os.OperatingSystem;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The load of one process and all its descendants, for an instance that shares its host (the sandbox, a
 * container): the CPU time (user + system) the tree used between two readings, in percent of {@code cores}
 * nominal cores, so a tree that keeps one core busy reads 100 on a 1-core instance.
 * <p>
 * The process is named by a pid file whose first token is the pid (the sandbox writes {@code "pid startMillis"}).
 * The file is read again for every sample, so a restarted app is followed. A process counts from the reading at
 * which it is first seen: with its whole CPU time if it started since the previous reading (children that come
 * and go between readings, a restarted app), else from that reading on. CPU time of children that exited between
 * two readings is not seen. A missing or unreadable pid file, or a process that is gone or a zombie, gives a
 * missing sample; so does the first reading, which only sets the baseline. The JDK finds the tree's processes,
 * OSHI reads each one.
 */
public final class ProcessTreeLoadSensor implements LoadSensor {

  /** OSHI derives start times from the boot time, which the kernel gives in whole seconds. */
  private static final long START_TIME_SLACK_MS = 1000;

  private final PidFile pidFile;
  private final double cores;
  private final Clock clock;
  private final OperatingSystem os;
  private Reading previous;

  /** CPU milliseconds by process at one moment, on the wall clock (as process start times are) and on the monotonic one. */
  private record Reading(Map<ProcessId, Long> cpuMillis, long wallMillis, long nanos) {
  }

  /** A pid is reused after its process dies; with the start time it names one process. */
  private record ProcessId(int pid, long startMillis) {
  }

  /** Sets up OSHI (reads {@code /proc} once): call it off the event loop. */
  public ProcessTreeLoadSensor(Path pidFile, double cores, Clock clock) {
    if (!(cores > 0)) {
      throw new IllegalArgumentException("cores must be > 0, got " + cores);
    }
    this.pidFile = new PidFile(pidFile);
    this.cores = cores;
    this.clock = clock;
    this.os = new SystemInfo().getOperatingSystem();
  }

  @Override
  public synchronized LoadSample sample() {
    Instant when = clock.instant();
    int pid;
    try {
      pid = pidFile.read();
    } catch (PidFile.Unreadable e) {
      return LoadSample.missing(when, e.getMessage());
    }
    OSProcess root = os.getProcess(pid);
    if (root == null || root.getState() == OSProcess.State.ZOMBIE || root.getState() == OSProcess.State.INVALID) {
      return LoadSample.missing(when, pidFile.notRunning(pid));
    }
    long nanos = System.nanoTime();
    List<OSProcess> tree = new ArrayList<>();
    tree.add(root);
    descendants(pid).forEach(child -> Optional.ofNullable(os.getProcess(child)).ifPresent(tree::add));
    Map<ProcessId, Long> cpuMillis = new HashMap<>();
    tree.forEach(p -> cpuMillis.put(new ProcessId(p.getProcessID(), p.getStartTime()), p.getUserTime() + p.getKernelTime()));
    Reading last = previous;
    previous = new Reading(cpuMillis, System.currentTimeMillis(), nanos);
    if (last == null) {
      return LoadSample.missing(when, "first reading of " + this + ", kept as the baseline");
    }
    long used = 0;
    for (Map.Entry<ProcessId, Long> process : cpuMillis.entrySet()) {
      Long before = last.cpuMillis().get(process.getKey());
      if (before != null) {
        used += Math.max(0, process.getValue() - before);
      } else if (process.getKey().startMillis() >= last.wallMillis() - START_TIME_SLACK_MS) {
        used += process.getValue();
      }
    }
    double elapsedMillis = (nanos - last.nanos()) / 1e6;
    return LoadSample.measured(100 * used / (elapsedMillis * cores), Double.NaN, when);
  }

  /**
   * The pids below {@code pid}. Finding them means reading every process's {@code stat}: the JDK does it natively,
   * OSHI's {@code getDescendantProcesses} in Java at several times the cost. With 70 processes on the host a
   * sample took 2.5 ms of CPU through OSHI's walk and 0.8 ms through the JDK's, once a second on every instance.
   */
  private static List<Integer> descendants(int pid) {
    return ProcessHandle.of(pid).stream().flatMap(ProcessHandle::descendants)
        .map(handle -> (int) handle.pid()).toList();
  }

  @Override
  public String toString() {
    return describe(Path.of(pidFile.toString()), cores);
  }

  /** What a sensor of {@code pidFile}'s process tree on {@code cores} measures. */
  public static String describe(Path pidFile, double cores) {
    return "CPU of the process tree of " + pidFile + " on " + cores + " core(s)";
  }
}
