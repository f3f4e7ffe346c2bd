package io.fleetvote.coordinator.fleet;

/**
 * A fleet action that failed for good: EC2 refused it in a way no retry fixes, or it kept failing until the retry
 * window closed. The message names the action, the attempts and EC2's last error code; the cause is the SDK's
 * exception.
 */
public final class FleetException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final String errorCode;
  private final int attempts;

  FleetException(String action, int attempts, long elapsedMillis, Throwable cause) {
    super(action + " failed after " + attempts + (attempts == 1 ? " attempt" : " attempts") + " in " + elapsedMillis
        + " ms: " + RetryPolicy.errorCode(cause) + ": " + RetryPolicy.errorMessage(cause), RetryPolicy.unwrap(cause));
    this.errorCode = RetryPolicy.errorCode(cause);
    this.attempts = attempts;
  }

  /** EC2's last error code (e.g. {@code InsufficientInstanceCapacity}), or the exception's class name. */
  public String errorCode() {
    return errorCode;
  }

  /** How many attempts the fleet made (each may include the SDK's own retries). */
  public int attempts() {
    return attempts;
  }
}
