package io.fleetvote.coordinator.auth;

import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Failed logins slow down whoever makes them: after {@link #FREE_FAILURES} failures in a row for a user name or from
 * an address, the next attempt waits 1 s, then 2, 4, ... up to 15 minutes. A success clears the name's count and
 * the address's. Keeps at most {@link #MAX_KEYS} keys (the oldest go first), so a flood of names cannot exhaust
 * memory. Not thread-safe: used on one event loop.
 */
public final class LoginThrottle {

  static final int FREE_FAILURES = 5;
  static final long MAX_LOCK_MILLIS = 15 * 60_000;
  static final int MAX_KEYS = 10_000;

  private record Failures(int count, long lockedUntil) {
  }

  private final Clock clock;
  private final Map<String, Failures> failures = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Failures> eldest) {
      return size() > MAX_KEYS;
    }
  };

  public LoginThrottle(Clock clock) {
    this.clock = clock;
  }

  /** How long the caller must wait before trying again (ms), when either key is locked now. */
  public Optional<Long> lockedFor(String name, String address) {
    long now = clock.millis();
    long until = Math.max(until("user:" + name), until("ip:" + address));
    return until > now ? Optional.of(until - now) : Optional.empty();
  }

  public void failed(String name, String address) {
    count("user:" + name);
    count("ip:" + address);
  }

  public void succeeded(String name, String address) {
    failures.remove("user:" + name);
    failures.remove("ip:" + address);
  }

  private long until(String key) {
    Failures f = failures.get(key);
    return f == null ? 0 : f.lockedUntil();
  }

  private void count(String key) {
    Failures before = failures.getOrDefault(key, new Failures(0, 0));
    int count = before.count() + 1;
    long lock = count < FREE_FAILURES ? 0
        : Math.min(MAX_LOCK_MILLIS, 1000L << Math.min(20, count - FREE_FAILURES));
    failures.put(key, new Failures(count, lock == 0 ? 0 : clock.millis() + lock));
  }
}
