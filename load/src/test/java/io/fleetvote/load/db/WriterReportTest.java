package io.fleetvote.load.db;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class WriterReportTest {

  @Test
  void percentilesAreThoseOfTheAcknowledgedWrites() {
    WriterReport report = new WriterReport();
    for (int millis = 1; millis <= 100; millis++) {
      report.countSent();
      report.countAcked(millis * 1000L);
    }

    assertThat(report.percentileMillis(50)).isCloseTo(50.0, within(0.1));
    assertThat(report.percentileMillis(99)).isCloseTo(99.0, within(0.1));
  }

  @Test
  void writesPerSecondCountAcknowledgedWritesOnlyOverTheStretch() {
    WriterReport report = new WriterReport();
    for (int i = 0; i < 10; i++) {
      report.countSent();
      report.countAcked(500);
    }
    report.countSent();
    report.countFailed("MySQLException: read-only");
    report.elapsed(Duration.ofMillis(2500));

    assertThat(report.writesPerSecond()).isEqualTo(4.0);
  }

  @Test
  void theSummaryNamesTheFirstFailureOnly() {
    WriterReport report = new WriterReport();
    report.countSent();
    report.countAcked(1200);
    report.countSent();
    report.countFailed("ConnectException: Connection refused");
    report.countSent();
    report.countFailed("no answer within 5000 ms");
    report.elapsed(Duration.ofSeconds(1));

    assertThat(report.failed()).isEqualTo(2);
    assertThat(report.firstError()).isEqualTo("ConnectException: Connection refused");
    assertThat(report.summary()).isEqualTo("sent 3, acked 1, failed 2 (first: ConnectException: Connection refused),"
        + " 1.0 writes/s over 1.0 s, ack latency p50 1.20 ms, p99 1.20 ms");
  }

  @Test
  void nothingAcknowledgedHasNoLatencyAndNoRate() {
    WriterReport report = new WriterReport();

    assertThat(report.percentileMillis(99)).isZero();
    assertThat(report.writesPerSecond()).isZero();
    assertThat(report.summary()).startsWith("sent 0, acked 0, failed 0, 0.0 writes/s");
  }
}
