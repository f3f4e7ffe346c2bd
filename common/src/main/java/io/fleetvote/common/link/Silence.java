package io.fleetvote.common.link;

/**
 * How long a peer has been silent, less the time its judge was held up. The judge is a periodic check: when it fires
 * late by L ms, its event loop (or its whole process: a GC pause, a starved or frozen JVM) was busy or stopped for
 * those L ms, and whatever the peer sent meanwhile waited unread. Those L ms do not count against the peer, so a judge
 * that falls behind does not close live connections, which would come back at once and put it further behind.
 * <p>
 * A judge that is late at every check still judges: the silence grows by at least one period per check, so a peer that
 * is really gone is found within its lease counted in the judge's own checks. One event loop's object, not
 * thread-safe.
 */
public final class Silence {

  private final long periodMillis;
  private long lastCheckAt;
  private boolean checkedOnce;
  private long stalledMillis;

  /** For a judge whose check runs every {@code periodMillis}. */
  public Silence(long periodMillis) {
    if (periodMillis <= 0) {
      throw new IllegalArgumentException("a check period must be positive, not " + periodMillis);
    }
    this.periodMillis = periodMillis;
  }

  /** The check runs at {@code now}: how late it is adds to the time the judge was held up. */
  public void checked(long now) {
    if (checkedOnce) {
      stalledMillis += Math.max(0, now - lastCheckAt - periodMillis);
    }
    lastCheckAt = now;
    checkedOnce = true;
  }

  /** What to keep beside the moment a peer was heard from, for {@link #since}. */
  public long mark() {
    return stalledMillis;
  }

  /** The peer's silence at {@code now}: since {@code heardAt} (taken with {@code mark}), less the time held up since. */
  public long since(long now, long heardAt, long mark) {
    return Math.max(0, now - heardAt - (stalledMillis - mark));
  }

  /** All the time the judge was held up so far (a figure to report). */
  public long stalledMillis() {
    return stalledMillis;
  }
}
