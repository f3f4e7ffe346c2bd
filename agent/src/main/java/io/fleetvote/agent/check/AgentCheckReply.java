package io.fleetvote.agent.check;

import java.util.Locale;

/**
 * What the agent tells HAProxy's agent-check, as pure logic: the instance's weight from its headroom, never a word
 * that takes a busy instance out. HAProxy reads one line ({@code reference/overload-and-capacity.md} a2):
 * <ul>
 *   <li>{@code up 73%}: the app is running; its weight grows with its headroom (100 minus its load, percent of its
 *   capacity): 100 % when idle, {@value #MIN_WEIGHT} % when saturated, so a busy instance gets less traffic but is
 *   never out (a weight of 0 would take it out, and if every instance were saturated the backend would answer 503).
 *   Only half the headroom counts, and the load is smoothed ({@link SmoothedLoad}): a weight that followed each
 *   sample in full would send everything to whichever instance was idle a second ago, and the loads would swing;</li>
 *   <li>{@code drain}: the instance is leaving (terminating, or drained by an operator), as the LB agent's own drain
 *   says too;</li>
 *   <li>{@code down #why}: the app refuses connections, so nothing can be served by it (the space before {@code #}
 *   matters: HAProxy ignores {@code down#why}).</li>
 * </ul>
 * It never says {@code ready} or {@code maint}: the admin state belongs to the LB agent's registration sequence
 * (a {@code ready} would cancel its drain before the first passing health check).
 */
public final class AgentCheckReply {

  /** The least weight a running app gets, in percent of its initial weight (100): a saturated one's. */
  public static final int MIN_WEIGHT = 50;

  private AgentCheckReply() {
  }

  /**
   * @param leaving     the instance is terminating or drained
   * @param refusing    its app refuses connections
   * @param loadPercent its load in percent of its capacity; NaN when not measured (weight 100)
   */
  public static String of(boolean leaving, boolean refusing, double loadPercent) {
    if (leaving) {
      return "drain #leaving\n";
    }
    if (refusing) {
      return "down #app refuses connections\n";
    }
    return String.format(Locale.ROOT, "up %d%%\n", weight(loadPercent));
  }

  /** The weight in percent for a load in percent of capacity: {@value #MIN_WEIGHT} plus half the headroom. */
  public static int weight(double loadPercent) {
    if (Double.isNaN(loadPercent)) {
      return 100;
    }
    double headroom = Math.max(0, Math.min(100, 100 - loadPercent));
    return (int) Math.round(MIN_WEIGHT + headroom * (100 - MIN_WEIGHT) / 100);
  }
}
