package io.fleetvote.common.msg;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.fleetvote.common.time.ManualClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

class RejectionsTest {

  private final ManualClock clock = new ManualClock(Instant.parse("2026-12-01T00:00:00Z"));
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private final Logger log = (Logger) LoggerFactory.getLogger("rejections-test");
  private final ListAppender<ILoggingEvent> lines = new ListAppender<>();
  private final Rejections rejections = new Rejections(meters, "test.rejected", "test", log, "c1", clock, 10_000);

  RejectionsTest() {
    lines.start();
    log.addAppender(lines);
  }

  @AfterEach
  void detach() {
    log.detachAppender(lines);
  }

  @Test
  void everyRejectionIsCountedAndEachKindLoggedOncePerQuietTime() {
    rejections.expect("fleetvote.votes", "future");
    assertThat(count("fleetvote.votes", "future")).isZero();

    for (int i = 0; i < 50; i++) {
      rejections.reject("fleetvote.votes", "invalid", "vote " + i);
    }
    rejections.reject("fleetvote.votes", "future", "ahead");
    rejections.reject("fleetvote.agents.heartbeat", "invalid", "beat\nforged");
    assertThat(count("fleetvote.votes", "invalid")).isEqualTo(50);
    assertThat(lines.list).extracting(ILoggingEvent::getFormattedMessage).containsExactly(
        "c1: rejected on fleetvote.votes (invalid): vote 0",
        "c1: rejected on fleetvote.votes (future): ahead",
        "c1: rejected on fleetvote.agents.heartbeat (invalid): beat?forged");

    clock.advanceMillis(10_000);
    rejections.reject("fleetvote.votes", "invalid", "vote 50");
    assertThat(lines.list.get(3).getFormattedMessage()).isEqualTo("c1: rejected on fleetvote.votes (invalid): vote 50 "
        + "(and 49 more like it since the last such line, only counted)");

    rejections.count("fleetvote.votes", "not-yet-described");
    assertThat(count("fleetvote.votes", "not-yet-described")).isEqualTo(1);
    assertThat(lines.list).hasSize(4);
  }

  private double count(String address, String reason) {
    return meters.get("test.rejected").tag("address", address).tag("reason", reason).counter().count();
  }
}
