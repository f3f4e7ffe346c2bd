package io.fleetvote.common.process;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import java.time.Instant;
import java.util.Optional;

/**
 * Finds a recorded process among the living. The pid must still belong to the process that was started (same start
 * time), and a zombie counts as gone: on this machine nobody reaps orphans, so a dead orphan stays a zombie. A
 * multi-threaded process whose main thread has exited shows as a zombie while its other threads still exit (and
 * still hold its sockets): it is gone only once no other thread is left.
 */
public final class ProcessProbe {

  /** Linux counts a process's start in USER_HZ ticks, 100 a second on every architecture it runs on. */
  private static final long CLOCK_TICKS_PER_SECOND = 100;
  /** When the machine booted ({@code btime} of {@code /proc/stat}), in epoch millis; -1 where it cannot be read. */
  private static final long BOOT_MILLIS = bootMillis();

  private ProcessProbe() {
  }

  public static Optional<ProcessHandle> find(long pid, long startedAtMillis) {
    return ProcessHandle.of(pid)
        .filter(ProcessHandle::isAlive)
        .filter(h -> h.info().startInstant().map(Instant::toEpochMilli)
            .map(start -> Math.abs(start - startedAtMillis) < 1_000).orElse(false))
        .filter(h -> !gone(h));
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
    String stat;
    try {
      stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
    } catch (IOException e) {
      return false;
    }
    int close = stat.lastIndexOf(')');
    String[] fields = close > 0 && close + 2 < stat.length() ? stat.substring(close + 2).split(" ") : new String[0];
    if (fields.length < 20) {
      return false;
    }
    long started;
    try {
      // field 22 (starttime) is the 20th after the name; field 3 (state) the first
      started = BOOT_MILLIS + Long.parseLong(fields[19]) * 1000 / CLOCK_TICKS_PER_SECOND;
    } catch (NumberFormatException e) {
      return false;
    }
    if (Math.abs(started - startedAtMillis) >= 1_000) {
      return false;
    }
    char state = fields[0].isEmpty() ? '?' : fields[0].charAt(0);
    return !(state == 'Z' || state == 'X') || threads(pid) > 1;
  }

  private static long bootMillis() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/stat"))) {
        if (line.startsWith("btime ")) {
          return Long.parseLong(line.substring("btime ".length()).trim()) * 1000;
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux: find() instead
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
