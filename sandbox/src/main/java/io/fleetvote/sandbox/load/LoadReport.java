package io.fleetvote.sandbox.load;

import io.vertx.core.json.JsonObject;
import org.HdrHistogram.Histogram;

/**
 * Counts and latency of a stretch of a load run (one second, or all of it). Latency is measured from when a request
 * was due, so a server that stalls shows its stall instead of hiding it by slowing the sender.
 */
public final class LoadReport {

  private static final long MAX_MICROS = 3_600_000_000L;

  private final Histogram latencyMicros = new Histogram(MAX_MICROS, 3);
  private long sent;
  private long ok;
  private long failed;

  void countSent() {
    sent++;
  }

  void countOk(long latencyMicros) {
    ok++;
    this.latencyMicros.recordValue(Math.min(Math.max(latencyMicros, 0), MAX_MICROS));
  }

  void countFailed() {
    failed++;
  }

  void add(LoadReport other) {
    sent += other.sent;
    ok += other.ok;
    failed += other.failed;
    latencyMicros.add(other.latencyMicros);
  }

  public long sent() {
    return sent;
  }

  public long ok() {
    return ok;
  }

  public long failed() {
    return failed;
  }

  /** Latency of answered requests at a percentile, in milliseconds (0 when none was answered). */
  public double percentileMillis(double percentile) {
    return latencyMicros.getTotalCount() == 0 ? 0 : latencyMicros.getValueAtPercentile(percentile) / 1000.0;
  }

  /** One line: {@code sent 100 ok 100 failed 0 p50 4.1 p90 6.0 p99 9.8 max 12.3 ms}. */
  public String line() {
    return String.format("sent %6d  ok %6d  failed %5d  p50 %7.1f  p90 %7.1f  p99 %7.1f  max %7.1f ms", sent, ok,
        failed, percentileMillis(50), percentileMillis(90), percentileMillis(99), percentileMillis(100));
  }

  public JsonObject toJson() {
    return new JsonObject().put("sent", sent).put("ok", ok).put("failed", failed)
        .put("p50Millis", percentileMillis(50)).put("p90Millis", percentileMillis(90))
        .put("p99Millis", percentileMillis(99)).put("maxMillis", percentileMillis(100));
  }
}
