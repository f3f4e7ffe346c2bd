package io.fleetvote.load.db;

import io.fleetvote.common.LogSafe;
import org.HdrHistogram.Histogram;

import java.time.Duration;
import java.util.Locale;

/**
 * What a stretch of a writer's run (one second, or all of it) counted: writes sent, acknowledged and failed (with
 * the first failure's message), and the acknowledged writes' latency. Latency counts from when a write was due (open
 * loop) or sent (closed loop) until its acknowledgement.
 */
public final class WriterReport {

  private static final long MAX_MICROS = 3_600_000_000L;

  private final Histogram latencyMicros = new Histogram(MAX_MICROS, 3);
  private long sent;
  private long acked;
  private long failed;
  private String firstError;
  private Duration elapsed = Duration.ZERO;

  void countSent() {
    sent++;
  }

  void countAcked(long latencyMicros) {
    acked++;
    this.latencyMicros.recordValue(Math.min(Math.max(latencyMicros, 0), MAX_MICROS));
  }

  void countFailed(String error) {
    failed++;
    if (firstError == null) {
      firstError = LogSafe.printable(error);
    }
  }

  /** How long the stretch lasted: what {@link #writesPerSecond()} divides by. */
  void elapsed(Duration stretch) {
    this.elapsed = stretch;
  }

  public long sent() {
    return sent;
  }

  public long acked() {
    return acked;
  }

  public long failed() {
    return failed;
  }

  /** The first failed write's error, null when none failed. */
  public String firstError() {
    return firstError;
  }

  public Duration elapsed() {
    return elapsed;
  }

  /** Acknowledged writes per second of the stretch (0 for a stretch of no time). */
  public double writesPerSecond() {
    return elapsed.isZero() ? 0 : acked * 1e9 / elapsed.toNanos();
  }

  /** Ack latency at a percentile, in milliseconds (0 when nothing was acknowledged). */
  public double percentileMillis(double percentile) {
    return latencyMicros.getTotalCount() == 0 ? 0 : latencyMicros.getValueAtPercentile(percentile) / 1000.0;
  }

  /** One line: {@code sent 200  acked 198  failed 2  p50 1.2  p99 4.5 ms}. */
  public String line() {
    return String.format(Locale.ROOT, "sent %6d  acked %6d  failed %5d  p50 %7.2f  p99 %7.2f ms", sent, acked, failed,
        percentileMillis(50), percentileMillis(99));
  }

  /**
   * The run's summary: {@code sent 1000, acked 998, failed 2 (first: Connection refused), 199.6 writes/s over 5.0 s,
   * ack latency p50 1.20 ms, p99 4.50 ms}.
   */
  public String summary() {
    return String.format(Locale.ROOT, "sent %d, acked %d, failed %d%s, %.1f writes/s over %.1f s, ack latency p50 %.2f"
        + " ms, p99 %.2f ms", sent, acked, failed, firstError == null ? "" : " (first: " + firstError + ")",
        writesPerSecond(), elapsed.toMillis() / 1000.0, percentileMillis(50), percentileMillis(99));
  }
}
