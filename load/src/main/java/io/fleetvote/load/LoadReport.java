package io.fleetvote.load;

import io.vertx.core.json.JsonObject;
import org.HdrHistogram.Histogram;

import java.util.Collections;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Counts and latency of a stretch of a load run (one second, or all of it). Latency is measured from when a request
 * was due, so a server that stalls shows its stall instead of hiding it by slowing the sender. Failures are counted
 * by {@link FailureClass} as well.
 */
public final class LoadReport {

  private static final long MAX_MICROS = 3_600_000_000L;

  private final Histogram latencyMicros = new Histogram(MAX_MICROS, 3);
  private long sent;
  private long ok;
  private long failed;
  private final SortedMap<String, Long> failures = new TreeMap<>();

  void countSent() {
    sent++;
  }

  void countOk(long latencyMicros) {
    ok++;
    this.latencyMicros.recordValue(Math.min(Math.max(latencyMicros, 0), MAX_MICROS));
  }

  void countFailed(String failureClass) {
    failed++;
    failures.merge(failureClass, 1L, Long::sum);
  }

  void add(LoadReport other) {
    sent += other.sent;
    ok += other.ok;
    failed += other.failed;
    other.failures.forEach((failureClass, count) -> failures.merge(failureClass, count, Long::sum));
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

  /** Failed requests by {@link FailureClass} ({@code refused}, {@code http-503}...), in the classes' order. */
  public SortedMap<String, Long> failures() {
    return Collections.unmodifiableSortedMap(new TreeMap<>(failures));
  }

  boolean isEmpty() {
    return sent == 0 && ok == 0 && failed == 0;
  }

  /** Latency of answered requests at a percentile, in milliseconds (0 when none was answered). */
  public double percentileMillis(double percentile) {
    return latencyMicros.getTotalCount() == 0 ? 0 : latencyMicros.getValueAtPercentile(percentile) / 1000.0;
  }

  /**
   * One line: {@code sent 100 ok 97 failed 3 (http-503 2, refused 1) p50 4.1 p90 6.0 p99 9.8 max 12.3 ms}, the
   * failure classes only when some failed.
   */
  public String line() {
    String classes = failures.isEmpty() ? "" : failures.entrySet().stream()
        .map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.joining(", ", " (", ")"));
    return String.format("sent %6d  ok %6d  failed %5d%s  p50 %7.1f  p90 %7.1f  p99 %7.1f  max %7.1f ms", sent, ok,
        failed, classes, percentileMillis(50), percentileMillis(90), percentileMillis(99), percentileMillis(100));
  }

  /** The counts, {@code failures} as an object of class to count, and the percentiles in milliseconds. */
  public JsonObject toJson() {
    JsonObject classes = new JsonObject();
    failures.forEach(classes::put);
    return new JsonObject().put("sent", sent).put("ok", ok).put("failed", failed).put("failures", classes)
        .put("p50Millis", percentileMillis(50)).put("p90Millis", percentileMillis(90))
        .put("p99Millis", percentileMillis(99)).put("maxMillis", percentileMillis(100));
  }
}
