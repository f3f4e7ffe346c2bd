package io.fleetvote.coordinator.fleet;

import java.time.Duration;

/** Told of each failed attempt of a fleet action that will be tried again, so that it can be written to the ledger. */
@FunctionalInterface
public interface RetryListener {

  /**
   * @param attempt   which attempt failed (1 for the first)
   * @param errorCode EC2's error code (e.g. {@code RequestLimitExceeded}, {@code InsufficientInstanceCapacity}), or
   *                  the exception's class name when EC2 sent none
   * @param message   what EC2 or the HTTP client said
   * @param nextIn    when the next attempt is made
   */
  void retrying(int attempt, String errorCode, String message, Duration nextIn);

  RetryListener NONE = (attempt, errorCode, message, nextIn) -> { };
}
