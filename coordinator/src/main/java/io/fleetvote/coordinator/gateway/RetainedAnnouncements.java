package io.fleetvote.coordinator.gateway;

import io.fleetvote.common.Addresses;
import io.fleetvote.common.link.Frame;
import io.fleetvote.common.link.FrameCodec;
import io.fleetvote.common.msg.LbAnnouncement;
import io.fleetvote.common.msg.MessageException;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The latest announcement of each LB ({@link Addresses#LB_ANNOUNCEMENTS}) for as long as its lease: an
 * app agent that subscribes is told at once which LBs serve its group, instead of at each LB's next announcement (up
 * to a gossip period later, all of it in a new instance's way to its first request). Encoded only when a subscriber
 * asks (the relay encodes the live one for its own subscribers). Pure: the gateway's event loop calls it.
 */
final class RetainedAnnouncements {

  /** More LBs than any deployment runs; beyond it the oldest is forgotten (a cluster member could flood it). */
  static final int MAX_RETAINED = 1000;

  private record Held(LbAnnouncement announcement, long until) {
  }

  private final Clock clock;
  private final Map<String, Held> latest = new LinkedHashMap<>();

  RetainedAnnouncements(Clock clock) {
    this.clock = clock;
  }

  /** Keeps {@code body} if it is an LB announcement (anything else is the relay's to refuse); true if kept. */
  boolean remember(Object body) {
    if (!(body instanceof JsonObject json)) {
      return false;
    }
    LbAnnouncement announcement;
    try {
      announcement = LbAnnouncement.fromJson(json);
    } catch (MessageException e) {
      return false;
    }
    latest.remove(announcement.instanceId());
    latest.put(announcement.instanceId(), new Held(announcement, clock.millis() + announcement.leaseMillis()));
    if (latest.size() > MAX_RETAINED) {
      latest.remove(latest.keySet().iterator().next());
    }
    return true;
  }

  /** The frames of the announcements whose lease has not run out, oldest first. */
  List<Buffer> current() {
    long now = clock.millis();
    latest.values().removeIf(held -> held.until() <= now);
    List<Buffer> frames = new ArrayList<>(latest.size());
    latest.values().forEach(held -> frames.add(FrameCodec.encode(Frame.message(Addresses.LB_ANNOUNCEMENTS,
        held.announcement().toJson(), null))));
    return frames;
  }
}
