package io.fleetvote.sandbox;

import io.vertx.core.json.JsonObject;

/**
 * Faults injected through the admin API, each for the next {@code count} occurrences or, without a count,
 * until cleared. Counts are of EC2 API calls as they arrive, so every attempt of an SDK retry is one call.
 * Faults are not persisted: a restarted sandbox starts healthy.
 */
public final class Faults {

  /** A count meaning "until cleared". */
  public static final int UNTIL_CLEARED = -1;

  private int throttleRemaining;
  private int capacityRemaining;
  private int slowBootRemaining;
  private long slowBootMillis;
  private long throttled;
  private long capacityRefused;
  private long slowedBoots;

  public void throttle(int count) {
    throttleRemaining = count;
  }

  public void refuseCapacity(int count) {
    capacityRemaining = count;
  }

  public void slowBoot(long delayMillis, int count) {
    slowBootMillis = delayMillis;
    slowBootRemaining = count;
  }

  public void clear() {
    throttleRemaining = 0;
    capacityRemaining = 0;
    slowBootRemaining = 0;
    slowBootMillis = 0;
  }

  /** True when this API call is to be answered with RequestLimitExceeded. */
  public boolean takeThrottle() {
    if (take(throttleRemaining)) {
      throttleRemaining = next(throttleRemaining);
      throttled++;
      return true;
    }
    return false;
  }

  /** True when this RunInstances call is to be answered with InsufficientInstanceCapacity. */
  public boolean takeCapacityRefusal() {
    if (take(capacityRemaining)) {
      capacityRemaining = next(capacityRemaining);
      capacityRefused++;
      return true;
    }
    return false;
  }

  /** The extra boot time of the next launched instance (0 when none). */
  public long takeBootDelay() {
    if (take(slowBootRemaining)) {
      slowBootRemaining = next(slowBootRemaining);
      slowedBoots++;
      return slowBootMillis;
    }
    return 0;
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("throttle", new JsonObject().put("remaining", throttleRemaining).put("total", throttled))
        .put("capacity", new JsonObject().put("remaining", capacityRemaining).put("total", capacityRefused))
        .put("slowBoot", new JsonObject().put("remaining", slowBootRemaining).put("delayMillis", slowBootMillis)
            .put("total", slowedBoots));
  }

  private static boolean take(int remaining) {
    return remaining > 0 || remaining == UNTIL_CLEARED;
  }

  private static int next(int remaining) {
    return remaining == UNTIL_CLEARED ? UNTIL_CLEARED : remaining - 1;
  }
}
