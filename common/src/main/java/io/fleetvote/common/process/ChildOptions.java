package io.fleetvote.common.process;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * What a {@link ChildSupervisor} runs and how: the command, the log its output is appended to, how long a start may
 * take, the restart backoff and the stop ladder. For MariaDB that reads: {@code mysqld --datadir=...}, a SQL ping as
 * the readiness check, a start timeout of minutes (crash recovery), one rung SIGTERM with a long wait.
 */
public final class ChildOptions {

  public static final String DEFAULT_NAME = "child";
  public static final long DEFAULT_START_TIMEOUT_MS = 10_000;
  public static final long DEFAULT_POLL_MS = 50;
  public static final Backoff DEFAULT_BACKOFF = new Backoff(200, 3_000, 10_000);
  public static final List<StopStep> DEFAULT_STOP_STEPS = List.of(StopStep.signal(Signal.TERM, 10_000));
  public static final long DEFAULT_KILL_WAIT_MS = 5_000;

  private String name = DEFAULT_NAME;
  private List<String> command;
  private Path logFile;
  private long startTimeoutMs = DEFAULT_START_TIMEOUT_MS;
  private long pollMs = DEFAULT_POLL_MS;
  private Backoff backoff = DEFAULT_BACKOFF;
  private List<StopStep> stopSteps = DEFAULT_STOP_STEPS;
  private long killWaitMs = DEFAULT_KILL_WAIT_MS;

  public ChildOptions() {
  }

  public ChildOptions(ChildOptions other) {
    name = other.name;
    command = other.command;
    logFile = other.logFile;
    startTimeoutMs = other.startTimeoutMs;
    pollMs = other.pollMs;
    backoff = other.backoff;
    stopSteps = other.stopSteps;
    killWaitMs = other.killWaitMs;
  }

  public String getName() {
    return name;
  }

  /** What the child is, in every log line and error ("HAProxy", "MariaDB"). */
  public ChildOptions setName(String name) {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("a child's name must not be blank");
    }
    this.name = name;
    return this;
  }

  public List<String> getCommand() {
    return command;
  }

  /** The program and its arguments, run as they are (no shell). Required. */
  public ChildOptions setCommand(List<String> command) {
    if (command == null || command.isEmpty() || command.stream().anyMatch(Objects::isNull)) {
      throw new IllegalArgumentException(name + ": the command must be a program and its arguments, none null: "
          + command);
    }
    this.command = List.copyOf(command);
    return this;
  }

  public Path getLogFile() {
    return logFile;
  }

  /** Where the child's stdout and stderr are appended, after a line that marks each start. Required. */
  public ChildOptions setLogFile(Path logFile) {
    if (logFile == null) {
      throw new IllegalArgumentException(name + ": the log file is missing");
    }
    this.logFile = logFile;
    return this;
  }

  public long getStartTimeoutMs() {
    return startTimeoutMs;
  }

  /** How long a spawned child has to pass its readiness check before it is killed and the start fails. */
  public ChildOptions setStartTimeoutMs(long startTimeoutMs) {
    this.startTimeoutMs = Millis.check(name + " startTimeoutMs", startTimeoutMs, 100);
    return this;
  }

  public long getPollMs() {
    return pollMs;
  }

  /** How long after a failed readiness check the next one is asked. */
  public ChildOptions setPollMs(long pollMs) {
    this.pollMs = Millis.check(name + " pollMs", pollMs, 1);
    return this;
  }

  public Backoff getBackoff() {
    return backoff;
  }

  public ChildOptions setBackoff(Backoff backoff) {
    if (backoff == null) {
      throw new IllegalArgumentException(name + ": the backoff is missing");
    }
    this.backoff = backoff;
    return this;
  }

  public List<StopStep> getStopSteps() {
    return stopSteps;
  }

  /** The rungs {@link ChildSupervisor#stop()} walks down, in order, before SIGKILL; none: SIGKILL at once. */
  public ChildOptions setStopSteps(List<StopStep> stopSteps) {
    if (stopSteps == null || stopSteps.stream().anyMatch(Objects::isNull)) {
      throw new IllegalArgumentException(name + ": the stop steps must be a list without nulls: " + stopSteps);
    }
    this.stopSteps = List.copyOf(stopSteps);
    return this;
  }

  public long getKillWaitMs() {
    return killWaitMs;
  }

  /** How long a SIGKILLed child may take to be reaped before the stop (or the failed start) gives up on it. */
  public ChildOptions setKillWaitMs(long killWaitMs) {
    this.killWaitMs = Millis.check(name + " killWaitMs", killWaitMs, 1);
    return this;
  }
}
