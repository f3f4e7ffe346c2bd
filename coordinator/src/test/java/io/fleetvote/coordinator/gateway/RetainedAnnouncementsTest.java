package io.fleetvote.coordinator.gateway;

import io.fleetvote.common.Addresses;
import io.fleetvote.common.link.Frame;
import io.fleetvote.common.msg.LbAnnouncement;
import io.fleetvote.common.time.ManualClock;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class RetainedAnnouncementsTest {

  private final ManualClock clock = new ManualClock(Instant.parse("2026-12-03T06:00:00Z"));
  private final RetainedAnnouncements retained = new RetainedAnnouncements(clock);

  @Test
  void theLatestAnnouncementOfEachLbIsHeldUntilItsLeaseRunsOut() {
    assertThat(retained.remember(announcement(lb(1), 3000, 1))).isTrue();
    clock.advanceMillis(1000);
    assertThat(retained.remember(announcement(lb(2), 3000, 2))).isTrue();
    clock.advanceMillis(1000);
    assertThat(retained.remember(announcement(lb(1), 3000, 3))).as("a newer one replaces the LB's last").isTrue();
    assertThat(bodies(retained.current())).containsExactly(announcement(lb(2), 3000, 2),
        announcement(lb(1), 3000, 3));

    clock.advanceMillis(1999);
    assertThat(bodies(retained.current())).containsExactly(announcement(lb(2), 3000, 2),
        announcement(lb(1), 3000, 3));
    clock.advanceMillis(1);
    assertThat(bodies(retained.current())).as("the second LB's lease ran out").containsExactly(announcement(lb(1), 3000, 3));
    clock.advanceMillis(1000);
    assertThat(retained.current()).isEmpty();
  }

  @Test
  void whatIsNotAnAnnouncementIsNotHeld() {
    assertThat(retained.remember(null)).isFalse();
    assertThat(retained.remember("grow")).isFalse();
    assertThat(retained.remember(announcement(lb(1), 3000, 1).put("frontendPort", 0))).isFalse();
    assertThat(retained.remember(new JsonObject().put("instanceId", lb(1)))).isFalse();
    assertThat(retained.current()).isEmpty();
  }

  @Test
  void aFloodOfLbsKeepsTheNewestOnes() {
    for (int i = 0; i < RetainedAnnouncements.MAX_RETAINED + 5; i++) {
      retained.remember(announcement(lb(i), 60_000, i));
    }
    List<JsonObject> held = bodies(retained.current());
    assertThat(held).hasSize(RetainedAnnouncements.MAX_RETAINED);
    assertThat(held.get(0)).isEqualTo(announcement(lb(5), 60_000, 5));
  }

  private static String lb(int n) {
    return String.format("i-%017x", n);
  }

  private static JsonObject announcement(String lb, long leaseMillis, long sentAt) {
    return new LbAnnouncement(lb, "prod", "web", "10.0.0.1", 80, sentAt, leaseMillis).toJson();
  }

  /** The bodies of frames, checking that each is a message to the announcements' address. */
  private static List<JsonObject> bodies(List<Buffer> frames) {
    return frames.stream().map(buffer -> {
      assertThat(buffer.getInt(0)).isEqualTo(buffer.length() - 4);
      Frame frame = Frame.fromJson(buffer.getBuffer(4, buffer.length()).toJsonObject());
      assertThat(frame.type()).isEqualTo(Frame.Type.MESSAGE);
      assertThat(frame.address()).isEqualTo(Addresses.LB_ANNOUNCEMENTS);
      return frame.body();
    }).toList();
  }
}
