package io.fleetvote.common.process;

/** Bounds on the durations the supervisor's options take, named in the error. */
final class Millis {

  /** Ten minutes: longer than any start or stop Fleetvote waits for, shorter than a typo's hours. */
  static final long MAX = 600_000;

  private Millis() {
  }

  static long check(String what, long millis, long min) {
    if (millis < min || millis > MAX) {
      throw new IllegalArgumentException(what + " " + millis + " ms is not within " + min + ".." + MAX + " ms");
    }
    return millis;
  }
}
