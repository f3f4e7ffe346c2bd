package io.fleetvote.testkit;

import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Waits for what timers and other processes do: asks again until the answer is right, or fails naming what it waited
 * for with the last answer. The one condition-poll helper of the tests and the benchmarks: from a thread of their own
 * ({@link #until}), or on Vert.x timers from an event loop ({@link #onTimers}: no sleeping thread).
 */
public final class Await {

  /** How often {@link #until} asks, unless told. */
  public static final Duration EVERY = Duration.ofMillis(50);
  /** How often {@link #onTimers} asks. */
  public static final long TIMER_EVERY_MS = 20;

  private Await() {
  }

  /** Asks {@code probe} until {@code done} holds for its answer and returns that answer; fails after {@code timeout}. */
  public static <T> T until(String what, Duration timeout, Supplier<T> probe, Predicate<T> done) {
    return until(what, timeout, EVERY, probe, done);
  }

  /** {@link #until(String, Duration, Supplier, Predicate)}, asking every {@code every} (a benchmark's resolution). */
  public static <T> T until(String what, Duration timeout, Duration every, Supplier<T> probe, Predicate<T> done) {
    long deadline = System.nanoTime() + timeout.toNanos();
    T value = probe.get();
    while (!done.test(value)) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("timed out after " + timeout + " waiting for " + what + "; last seen: " + value);
      }
      try {
        Thread.sleep(every.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for " + what, e);
      }
      value = probe.get();
    }
    return value;
  }

  /** Asks {@code condition} until it holds; fails after {@code timeout}. */
  public static void until(String what, Duration timeout, BooleanSupplier condition) {
    until(what, timeout, condition::getAsBoolean, Boolean::booleanValue);
  }

  /**
   * Asks again every {@value #TIMER_EVERY_MS} ms, on Vert.x timers, until the answer satisfies {@code condition}; fails
   * with the last answer after {@code withinMs}.
   */
  public static <T> Future<T> onTimers(Vertx vertx, Supplier<Future<T>> ask, Predicate<T> condition, long withinMs) {
    return attempt(vertx, ask, condition, System.nanoTime() + Duration.ofMillis(withinMs).toNanos(), withinMs);
  }

  private static <T> Future<T> attempt(Vertx vertx, Supplier<Future<T>> ask, Predicate<T> condition, long deadline,
                                       long withinMs) {
    return ask.get().compose(answer -> {
      if (condition.test(answer)) {
        return Future.succeededFuture(answer);
      }
      if (System.nanoTime() - deadline > 0) {
        return Future.failedFuture(new AssertionError("condition not met within " + withinMs + " ms; last answer: "
            + answer));
      }
      return vertx.timer(TIMER_EVERY_MS).compose(t -> attempt(vertx, ask, condition, deadline, withinMs));
    });
  }
}
