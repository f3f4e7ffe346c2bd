package io.fleetvote.coordinator.fleet;

import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkClientException;

import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.function.DoubleSupplier;

/**
 * Which EC2 failures are worth another attempt, and when to make it: exponential backoff with jitter inside a retry
 * window. This runs on top of the SDK's own retries (a few attempts within seconds), to outlast throttling and capacity
 * shortages that go on for minutes. Retrying RunInstances is safe because every attempt carries the same ClientToken.
 */
final class RetryPolicy {

  /** Codes that mean "not now" rather than "never", whatever HTTP status they come with. */
  private static final Set<String> TRANSIENT_CODES = Set.of("RequestLimitExceeded", "InsufficientInstanceCapacity",
      "InternalError", "Unavailable", "ServiceUnavailable");

  private final long windowMillis;
  private final long firstDelayMillis;
  private final long maxDelayMillis;
  private final DoubleSupplier random;

  /** @param random uniform in [0, 1): the jitter */
  RetryPolicy(long windowMillis, long firstDelayMillis, long maxDelayMillis, DoubleSupplier random) {
    this.windowMillis = windowMillis;
    this.firstDelayMillis = firstDelayMillis;
    this.maxDelayMillis = maxDelayMillis;
    this.random = random;
  }

  /**
   * The wait before the attempt after failed attempt {@code attempt} (1-based), when the action has run for
   * {@code elapsedMillis}; empty when that attempt would start after the window closes. The wait is uniform in
   * [c/2, c] with c = min(max, first * 2^(attempt-1)), and never below the first delay.
   */
  OptionalLong nextDelay(int attempt, long elapsedMillis) {
    long ceiling = firstDelayMillis << Math.min(attempt - 1, 30);
    if (ceiling <= 0 || ceiling > maxDelayMillis) {
      ceiling = maxDelayMillis;
    }
    long delay = Math.max(firstDelayMillis, ceiling / 2 + (long) (random.getAsDouble() * (ceiling - ceiling / 2)));
    return elapsedMillis + delay > windowMillis ? OptionalLong.empty() : OptionalLong.of(delay);
  }

  /** Throttling, capacity and server errors, and failures to get an answer at all (I/O, timeouts). */
  static boolean retryable(Throwable failure) {
    Throwable error = unwrap(failure);
    if (error instanceof AwsServiceException service) {
      String code = code(service);
      return service.isThrottlingException() || service.statusCode() >= 500
          || (code != null && TRANSIENT_CODES.contains(code));
    }
    return error instanceof SdkClientException;
  }

  /** EC2's error code, or the exception's class name when EC2 sent none. */
  static String errorCode(Throwable failure) {
    Throwable error = unwrap(failure);
    String code = error instanceof AwsServiceException service ? code(service) : null;
    return code != null ? code : error.getClass().getSimpleName();
  }

  /** EC2's error message without the SDK's decorations, or the exception's message. */
  static String errorMessage(Throwable failure) {
    Throwable error = unwrap(failure);
    if (error instanceof AwsServiceException service && service.awsErrorDetails() != null
        && service.awsErrorDetails().errorMessage() != null) {
      return service.awsErrorDetails().errorMessage();
    }
    return String.valueOf(error.getMessage());
  }

  /** The failure itself, not the CompletableFuture wrappers around it. */
  static Throwable unwrap(Throwable failure) {
    Throwable error = failure;
    while ((error instanceof CompletionException || error instanceof ExecutionException) && error.getCause() != null) {
      error = error.getCause();
    }
    return error;
  }

  private static String code(AwsServiceException service) {
    return service.awsErrorDetails() == null ? null : service.awsErrorDetails().errorCode();
  }
}
