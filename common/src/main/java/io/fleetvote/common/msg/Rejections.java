package io.fleetvote.common.msg;

import io.fleetvote.common.LogSafe;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.micrometer.backends.BackendRegistries;
import org.slf4j.Logger;

import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The one way every verticle counts and logs the messages it does not accept: each is counted in {@code metric} by
 * address and reason, and logged at most once per address and reason every {@code quietMillis}, with how many more
 * were only counted meanwhile; a flood of bad messages neither floods the log nor hides. Text from the message is
 * made safe for the log ({@link LogSafe}). Use from one context.
 */
public final class Rejections {

  /** Quiet time by default: one line per kind of bad message every ten seconds at most. */
  public static final long DEFAULT_QUIET_MILLIS = 10_000;
  /** The coordinator's counter: heartbeats, votes, every message it reads off the bus. */
  public static final String COORDINATOR_METRIC = "fleetvote.coordinator.messages.rejected";
  /** The agent's counter. */
  public static final String AGENT_METRIC = "fleetvote.agent.messages.rejected";
  public static final String DESCRIPTION = "Messages received on the event bus and not accepted, by address and reason";

  private final MeterRegistry meters;
  private final String metric;
  private final String description;
  private final Logger log;
  private final String who;
  private final Clock clock;
  private final long quietMillis;
  private final Map<String, Long> loggedAt = new HashMap<>();
  private final Map<String, Integer> unlogged = new HashMap<>();

  /**
   * @param metric the counter's name, e.g. {@code fleetvote.coordinator.messages.rejected}
   * @param who    what the log lines begin with (the instance or coordinator id)
   */
  public Rejections(MeterRegistry meters, String metric, String description, Logger log, String who, Clock clock,
                    long quietMillis) {
    this.meters = meters;
    this.metric = metric;
    this.description = description;
    this.log = log;
    this.who = who;
    this.clock = clock;
    this.quietMillis = quietMillis;
  }

  /**
   * Counting into the process's metrics (Vert.x's default registry, scraped at /metrics), or into one nobody scrapes
   * when the process has none (tools, some tests).
   */
  public static Rejections of(String metric, Logger log, String who, Clock clock) {
    MeterRegistry meters = Objects.requireNonNullElseGet(BackendRegistries.getDefaultNow(), SimpleMeterRegistry::new);
    return new Rejections(meters, metric, DESCRIPTION, log, who, clock, DEFAULT_QUIET_MILLIS);
  }

  /** Registers the counters at 0, so a rate or an alert on them has a series from the start. */
  public Rejections expect(String address, String... reasons) {
    for (String reason : reasons) {
      counter(address, reason);
    }
    return this;
  }

  /** A message on {@code address} not accepted for {@code reason}; {@code what} says which and why. */
  public void reject(String address, String reason, String what) {
    counter(address, reason).increment();
    String key = address + " " + reason;
    long now = clock.millis();
    Long last = loggedAt.get(key);
    if (last != null && now - last < quietMillis) {
      unlogged.merge(key, 1, Integer::sum);
      return;
    }
    loggedAt.put(key, now);
    Integer more = unlogged.remove(key);
    log.warn("{}: rejected on {} ({}): {}{}", who, address, reason, LogSafe.printable(what),
        more == null ? "" : " (and " + more + " more like it since the last such line, only counted)");
  }

  /** Counted only: an expected rejection that is not worth a log line (a vote that waits for a describe). */
  public void count(String address, String reason) {
    counter(address, reason).increment();
  }

  private Counter counter(String address, String reason) {
    return Counter.builder(metric).description(description).tag("address", address).tag("reason", reason)
        .register(meters);
  }
}
