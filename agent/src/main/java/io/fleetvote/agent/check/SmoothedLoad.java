package io.fleetvote.agent.check;

/**
 * A load smoothed over time (an exponentially weighted moving average with a time constant): each reading moves it by
 * the share of the time constant that passed since the previous one, so how often it is read does not change how
 * fast it follows. Not thread-safe; pure logic on the caller's clock.
 */
public final class SmoothedLoad {

  private final long timeConstantMillis;
  private double value = Double.NaN;
  private long at;

  public SmoothedLoad(long timeConstantMillis) {
    if (timeConstantMillis <= 0) {
      throw new IllegalArgumentException("the time constant must be positive, got " + timeConstantMillis);
    }
    this.timeConstantMillis = timeConstantMillis;
  }

  /** Takes the load read at {@code nowMillis} (NaN: not measured, the smoothed value stays) and returns the result. */
  public double update(double sample, long nowMillis) {
    if (Double.isNaN(sample)) {
      return value;
    }
    if (Double.isNaN(value)) {
      value = sample;
    } else {
      double share = 1 - Math.exp(-Math.max(0, nowMillis - at) / (double) timeConstantMillis);
      value += (sample - value) * share;
    }
    at = nowMillis;
    return value;
  }
}
