package io.fleetvote.common.process;

import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.util.Objects;

/**
 * One rung of a stop ladder: {@code action} asks the child to end, then the ladder waits up to {@code waitMs} for it
 * to exit before the next rung. An action that fails or answers false (nothing was sent) waits no time. After the
 * last rung comes SIGKILL, always.
 *
 * @param name what the action is, for the log ("SIGUSR1", "mysqladmin shutdown")
 */
public record StopStep(String name, Action action, long waitMs) {

  /** Asks the child of {@code pid} to end; true once asked. */
  @FunctionalInterface
  public interface Action {
    Future<Boolean> apply(Vertx vertx, long pid);
  }

  public StopStep {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("a stop step needs a name");
    }
    Objects.requireNonNull(action, "the action of stop step " + name);
    Millis.check("stop step " + name + " waitMs", waitMs, 0);
  }

  /** Sends {@code signal}, then waits up to {@code waitMs}. */
  public static StopStep signal(Signal signal, long waitMs) {
    return new StopStep(signal.toString(), signal::send, waitMs);
  }
}
