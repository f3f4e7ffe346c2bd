package io.fleetvote.common.process;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;

/**
 * Finds a recorded process among the living. The pid must still belong to the process that was started (same start
 * time), and a zombie counts as gone: on this machine nobody reaps orphans, so a dead orphan stays a zombie.
 */
public final class ProcessProbe {

  private ProcessProbe() {
  }

  public static Optional<ProcessHandle> find(long pid, long startedAtMillis) {
    return ProcessHandle.of(pid)
        .filter(ProcessHandle::isAlive)
        .filter(h -> h.info().startInstant().map(Instant::toEpochMilli)
            .map(start -> Math.abs(start - startedAtMillis) < 1_000).orElse(false))
        .filter(h -> !isZombie(h.pid()));
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
