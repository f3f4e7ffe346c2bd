package io.fleetvote.agent.lb;

import java.nio.file.Path;

/** Which HAProxy a {@link HaproxySupervisor} runs and how long it gives it to start and to stop. */
public final class HaproxySupervisorOptions {

  public static final Path DEFAULT_HAPROXY = HaproxyConfig.DEFAULT_HAPROXY;
  public static final long DEFAULT_START_TIMEOUT_MS = 10_000;
  /** Below the rendered {@code hard-stop-after 30s}, after which HAProxy ends a soft stop by itself anyway. */
  public static final long DEFAULT_SOFT_STOP_MS = 10_000;
  public static final long DEFAULT_TERMINATE_MS = 5_000;

  private static final long MAX_WAIT_MS = 600_000;

  private Path haproxy = DEFAULT_HAPROXY;
  private long startTimeoutMs = DEFAULT_START_TIMEOUT_MS;
  private long softStopMs = DEFAULT_SOFT_STOP_MS;
  private long terminateMs = DEFAULT_TERMINATE_MS;

  public HaproxySupervisorOptions() {
  }

  public HaproxySupervisorOptions(HaproxySupervisorOptions other) {
    haproxy = other.haproxy;
    startTimeoutMs = other.startTimeoutMs;
    softStopMs = other.softStopMs;
    terminateMs = other.terminateMs;
  }

  public Path getHaproxy() {
    return haproxy;
  }

  /** The haproxy executable. */
  public HaproxySupervisorOptions setHaproxy(Path haproxy) {
    this.haproxy = Arguments.present("haproxy", haproxy);
    return this;
  }

  public long getStartTimeoutMs() {
    return startTimeoutMs;
  }

  /** How long a started HAProxy has to answer {@code show info} on its admin socket. */
  public HaproxySupervisorOptions setStartTimeoutMs(long startTimeoutMs) {
    this.startTimeoutMs = Arguments.within("startTimeoutMs", startTimeoutMs, 100, MAX_WAIT_MS);
    return this;
  }

  public long getSoftStopMs() {
    return softStopMs;
  }

  /** How long connections may take to finish after SIGUSR1 (soft stop) before SIGTERM. */
  public HaproxySupervisorOptions setSoftStopMs(long softStopMs) {
    this.softStopMs = Arguments.within("softStopMs", softStopMs, 0, MAX_WAIT_MS);
    return this;
  }

  public long getTerminateMs() {
    return terminateMs;
  }

  /** How long HAProxy has to exit after SIGTERM before SIGKILL. */
  public HaproxySupervisorOptions setTerminateMs(long terminateMs) {
    this.terminateMs = Arguments.within("terminateMs", terminateMs, 0, MAX_WAIT_MS);
    return this;
  }
}
