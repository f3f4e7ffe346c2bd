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

  public static boolean alive(long pid, long startedAtMillis) {
    return find(pid, startedAtMillis).isPresent();
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
