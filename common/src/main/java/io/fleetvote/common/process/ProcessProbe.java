package io.fleetvote.common.process;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Finds a recorded process among the living. The pid must still belong to the process that was started (same start
 * time), and a zombie counts as gone: on this machine nobody reaps orphans, so a dead orphan stays a zombie. A
 * multi-threaded process whose main thread has exited shows as a zombie while its other threads still exit (and
 * still hold its sockets): it is gone only once no other thread is left.
 */
public final class ProcessProbe {

  /** Linux counts a process's start in USER_HZ ticks, 100 a second on every architecture it runs on. */
  private static final long CLOCK_TICKS_PER_SECOND = 100;
  /**
   * When the machine booted, in epoch millis to about 10 ms: now less {@code /proc/uptime}; -1 where it cannot be
   * read. Not {@code btime} of {@code /proc/stat}, which the JDK's {@link ProcessHandle.Info#startInstant} builds on:
   * it is whole seconds, so every start it gives is up to a second early (973 ms on one machine).
   */
  private static final long BOOT_MILLIS = bootMillis();
  /** Two records of one process's start differ by less than this (a pid is not reused so soon). */
  private static final long SAME_START_MILLIS = 2_000;

  private ProcessProbe() {
  }

  public static Optional<ProcessHandle> find(long pid, long startedAtMillis) {
    return ProcessHandle.of(pid)
        .filter(ProcessHandle::isAlive)
        .filter(h -> startMillis(h).map(start -> Math.abs(start - startedAtMillis) < SAME_START_MILLIS).orElse(false))
        .filter(h -> !gone(h));
  }

  /** When {@code process} started, in epoch millis: from {@code /proc} to about 10 ms, else as the JDK says. */
  public static Optional<Long> startMillis(ProcessHandle process) {
    if (BOOT_MILLIS >= 0) {
      Optional<String[]> fields = statFields(process.pid());
      if (fields.isPresent()) {
        try {
          return Optional.of(startMillis(fields.get()));
        } catch (NumberFormatException e) {
          // as the JDK says, below
        }
      }
    }
    return process.info().startInstant().map(Instant::toEpochMilli);
  }

  private static long startMillis(String[] statFields) {
    // field 22 (starttime, clock ticks after boot) is the 20th after the name
    return BOOT_MILLIS + Long.parseLong(statFields[19]) * 1000 / CLOCK_TICKS_PER_SECOND;
  }

  /** The fields of {@code /proc/PID/stat} after the process's name (the state first); empty if unreadable. */
  private static Optional<String[]> statFields(long pid) {
    String stat;
    try {
      stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
    } catch (IOException e) {
      return Optional.empty();
    }
    int close = stat.lastIndexOf(')');
    String[] fields = close > 0 && close + 2 < stat.length() ? stat.substring(close + 2).split(" ") : new String[0];
    return fields.length < 20 ? Optional.empty() : Optional.of(fields);
  }

  /** The process has exited: not alive, or a zombie whose threads have all exited (its files are closed). */
  public static boolean gone(ProcessHandle process) {
    return !process.isAlive() || (isZombie(process.pid()) && threads(process.pid()) <= 1);
  }

  private static int threads(long pid) {
    try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
      return (int) tasks.count();
    } catch (IOException | UncheckedIOException e) {
      return 0;
    }
  }

  /**
   * Whether {@link #find} would find the process, from one read of {@code /proc/PID/stat} (its state and its start,
   * in clock ticks after boot, as the JDK reads them) instead of the half-dozen that {@link ProcessHandle#info} and
   * the checks above make: the sandbox asks it of every process of every instance twice a second, a thousand
   * instances' worth. Where {@code /proc} has no boot time (not Linux), it asks {@link #find}.
   */
  public static boolean alive(long pid, long startedAtMillis) {
    if (BOOT_MILLIS < 0) {
      return find(pid, startedAtMillis).isPresent();
    }
    Optional<String[]> read = statFields(pid);
    if (read.isEmpty()) {
      return false;
    }
    String[] fields = read.get();
    long started;
    try {
      started = startMillis(fields);
    } catch (NumberFormatException e) {
      return false;
    }
    if (Math.abs(started - startedAtMillis) >= SAME_START_MILLIS) {
      return false;
    }
    char state = fields[0].isEmpty() ? '?' : fields[0].charAt(0);
    return !(state == 'Z' || state == 'X') || threads(pid) > 1;
  }

  private static long bootMillis() {
    try {
      long now = System.currentTimeMillis();
      String uptime = Files.readString(Path.of("/proc/uptime")).trim().split("\\s+")[0];
      return now - new BigDecimal(uptime).movePointRight(3).longValue();
    } catch (IOException | RuntimeException e) {
      // not Linux: the JDK's start instants instead
    }
    return -1;
  }

  private static boolean isZombie(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      int close = stat.lastIndexOf(')');
      char state = close > 0 && close + 2 < stat.length() ? stat.charAt(close + 2) : '?';
      return state == 'Z' || state == 'X';
    } catch (IOException e) {
      return true;
    }
  }
}
