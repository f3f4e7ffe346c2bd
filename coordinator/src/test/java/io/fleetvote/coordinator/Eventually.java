package io.fleetvote.coordinator;

import java.time.Duration;
import java.util.function.Predicate;
import java.util.function.Supplier;

/** Waits for what timers and other processes do: polls a probe until its value is right, or fails with the last one. */
public final class Eventually {

  private static final long POLL_INTERVAL_MS = 50;

  private Eventually() {
  }

  /** Polls {@code probe} until {@code done} holds for its value and returns that value; fails after {@code timeout}. */
  public static <T> T await(String what, Duration timeout, Supplier<T> probe, Predicate<T> done) {
    long deadline = System.nanoTime() + timeout.toNanos();
    T value = probe.get();
    while (!done.test(value)) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + timeout + " waiting for " + what + "; last seen: " + value);
      }
      try {
        Thread.sleep(POLL_INTERVAL_MS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for " + what, e);
      }
      value = probe.get();
    }
    return value;
  }

  /** Polls {@code condition} until it holds; fails after {@code timeout}. */
  public static void await(String what, Duration timeout, java.util.function.BooleanSupplier condition) {
    await(what, timeout, condition::getAsBoolean, Boolean::booleanValue);
  }
}
