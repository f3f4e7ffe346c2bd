package io.fleetvote.common.process;

import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.util.concurrent.TimeUnit;

/**
 * The signals a stop ladder sends. TERM and KILL go through {@link ProcessHandle}; the others through
 * {@code kill -s}, on a worker thread, because Java cannot send them itself.
 */
public enum Signal {
  HUP, INT, QUIT, USR1, USR2, TERM, KILL;

  private static final long KILL_COMMAND_WAIT_MS = 5_000;

  /** Sends this signal to {@code pid}; false when it could not be sent (the process is gone, no {@code kill}). */
  public Future<Boolean> send(Vertx vertx, long pid) {
    return switch (this) {
      case TERM -> Future.succeededFuture(ProcessHandle.of(pid).map(ProcessHandle::destroy).orElse(false));
      case KILL -> Future.succeededFuture(ProcessHandle.of(pid).map(ProcessHandle::destroyForcibly).orElse(false));
      default -> vertx.executeBlocking(() -> kill(pid), false);
    };
  }

  private boolean kill(long pid) throws Exception {
    Process kill = new ProcessBuilder("kill", "-s", name(), Long.toString(pid))
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .start();
    return kill.waitFor(KILL_COMMAND_WAIT_MS, TimeUnit.MILLISECONDS) && kill.exitValue() == 0;
  }

  @Override
  public String toString() {
    return "SIG" + name();
  }
}
