package io.fleetvote.common.process;

/**
 * How a {@link ChildSupervisor} restarts a child that keeps dying: after {@code firstMs}, doubling up to
 * {@code maxMs}; a child that ran {@code stableMs} or longer before it died starts the doubling over.
 */
public record Backoff(long firstMs, long maxMs, long stableMs) {

  public Backoff {
    Millis.check("backoff firstMs", firstMs, 1);
    Millis.check("backoff maxMs", maxMs, firstMs);
    Millis.check("backoff stableMs", stableMs, 0);
  }

  /** The delay after {@code delayMs}: twice as long, at most {@code maxMs}. */
  long after(long delayMs) {
    return Math.min(delayMs * 2, maxMs);
  }
}
