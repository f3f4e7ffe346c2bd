package io.fleetvote.coordinator;

import io.fleetvote.common.msg.AgentHeartbeat;

import java.time.Clock;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The agents of one deployment that are alive: the last heartbeat of each instance and when it was received.
 * An entry stops being live {@code expireAfterMillis} after its last heartbeat was received, and
 * {@link #expire()} removes it. Time comes from the injected {@link Clock}; not thread-safe (one verticle owns it).
 */
final class LiveRegistry {

  /** What {@link #accept} did with a heartbeat; a rejection has the reason it is counted and logged under. */
  enum Outcome {
    /** An instance the registry did not hold. */
    JOINED(null),
    /** An instance the registry held but that had expired, before {@link #expire()} removed it. */
    REJOINED(null),
    /** The next heartbeat of a live instance. */
    RENEWED(null),
    /** The heartbeat names another deployment than the coordinator's. */
    WRONG_DEPLOYMENT("deployment"),
    /** The heartbeat was sent further in the future of the coordinator's clock than the tolerance allows. */
    FROM_THE_FUTURE("future"),
    /** The heartbeat was sent before the one the registry holds (reordered or replayed). */
    STALE("stale");

    private final String reason;

    Outcome(String reason) {
      this.reason = reason;
    }

    boolean accepted() {
      return reason == null;
    }

    /** Why the heartbeat was not accepted; null when it was. */
    String reason() {
      return reason;
    }
  }

  /** The last accepted heartbeat of an instance and when it was received (coordinator clock, epoch ms). */
  record Entry(AgentHeartbeat heartbeat, long receivedAt) {
  }

  private final String deployment;
  private final long expireAfterMillis;
  private final long futureToleranceMillis;
  private final Clock clock;
  private final Map<String, Entry> entries = new TreeMap<>();

  LiveRegistry(String deployment, long expireAfterMillis, long futureToleranceMillis, Clock clock) {
    this.deployment = deployment;
    this.expireAfterMillis = expireAfterMillis;
    this.futureToleranceMillis = futureToleranceMillis;
    this.clock = clock;
  }

  /** Records the heartbeat unless it belongs elsewhere, comes from too far in the future or is older than the held one. */
  Outcome accept(AgentHeartbeat heartbeat) {
    long now = clock.millis();
    if (!heartbeat.deployment().equals(deployment)) {
      return Outcome.WRONG_DEPLOYMENT;
    }
    if (heartbeat.sentAt() > now + futureToleranceMillis) {
      return Outcome.FROM_THE_FUTURE;
    }
    Entry held = entries.get(heartbeat.instanceId());
    Outcome outcome;
    if (held == null) {
      outcome = Outcome.JOINED;
    } else if (expired(held, now)) {
      // An expired entry is gone already as far as anyone asking could tell: nothing to be stale against.
      outcome = Outcome.REJOINED;
    } else if (heartbeat.sentAt() < held.heartbeat().sentAt()) {
      return Outcome.STALE;
    } else {
      outcome = Outcome.RENEWED;
    }
    entries.put(heartbeat.instanceId(), new Entry(heartbeat, now));
    return outcome;
  }

  /** The live entries, sorted by instance id. */
  List<Entry> live() {
    long now = clock.millis();
    return entries.values().stream().filter(entry -> !expired(entry, now)).toList();
  }

  /** Removes the entries that have expired; returns their instance ids, sorted. */
  List<String> expire() {
    long now = clock.millis();
    List<String> removed = new ArrayList<>();
    for (Iterator<Entry> it = entries.values().iterator(); it.hasNext(); ) {
      Entry entry = it.next();
      if (expired(entry, now)) {
        removed.add(entry.heartbeat().instanceId());
        it.remove();
      }
    }
    return removed;
  }

  /** How long ago the entry's last heartbeat was received. */
  long millisSinceLastSeen(Entry entry) {
    return clock.millis() - entry.receivedAt();
  }

  private boolean expired(Entry entry, long now) {
    return now - entry.receivedAt() >= expireAfterMillis;
  }
}
