package io.fleetvote.agent.load;

import java.time.Instant;
import java.util.Objects;

/**
 * One reading of a {@link LoadSensor}: either a measurement or a missing sample that says why there is none.
 *
 * @param cpuPercent  CPU used since the sensor's previous reading, in percent of the cores it measures against (the
 *                    host's, a cgroup's quota, or a process tree's nominal cores, so it may exceed 100); NaN when
 *                    missing
 * @param loadPerCore the 1-minute load average divided by the logical cores; NaN when missing or not measured
 * @param when        when the reading was taken
 * @param problem     why the sample is missing (a dead process, an unreadable pid file, the first reading that
 *                    only sets a baseline); null for a measurement
 */
public record LoadSample(double cpuPercent, double loadPerCore, Instant when, String problem) {

  public LoadSample {
    Objects.requireNonNull(when, "when");
    if (problem == null && !(cpuPercent >= 0 && Double.isFinite(cpuPercent))) {
      throw new IllegalArgumentException("a measured CPU load must be a finite percentage >= 0, got " + cpuPercent);
    }
  }

  /** A measurement; {@code loadPerCore} may be NaN when the sensor does not measure it. */
  public static LoadSample measured(double cpuPercent, double loadPerCore, Instant when) {
    return new LoadSample(cpuPercent, loadPerCore, when, null);
  }

  /** No measurement, and why. */
  public static LoadSample missing(Instant when, String problem) {
    return new LoadSample(Double.NaN, Double.NaN, when, Objects.requireNonNull(problem, "problem"));
  }

  public boolean isMissing() {
    return problem != null;
  }
}
