package io.fleetvote.agent.lb;

import io.fleetvote.common.process.Backoff;
import io.fleetvote.common.process.ChildOptions;
import io.fleetvote.common.process.ChildStartException;
import io.fleetvote.common.process.ChildState;
import io.fleetvote.common.process.ChildSupervisor;
import io.fleetvote.common.process.Signal;
import io.fleetvote.common.process.StopStep;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/**
 * Runs HAProxy as a child process of the agent ({@code haproxy -db -f <cfg>}: in the foreground, without
 * master-worker), its output appended to a log file, through a {@link ChildSupervisor}. What is HAProxy's here: a
 * start counts once the admin socket answers {@code show info} with the child's pid (not another HAProxy on a stale
 * socket path); a crashed HAProxy is started again after 200 ms, doubling to 3 s while it keeps failing, and every
 * start is announced to the {@link #onStart} listeners, because a new HAProxy knows none of the servers added to the
 * one before; a stop is a soft stop first. Optional: where systemd owns HAProxy, the agent only talks to its socket.
 * An HAProxy left behind by an agent that died keeps serving, and holds the port: the next start fails on the busy
 * port until it is stopped.
 */
public final class HaproxySupervisor {

  static final long FIRST_BACKOFF_MS = 200;
  /** At most one start in 3 s while HAProxy keeps dying: a crash loop still has every instance back within 6 s. */
  static final long MAX_BACKOFF_MS = 3_000;
  /** A child that ran this long before it exited counts as a fresh failure: the backoff starts over. */
  private static final long STABLE_MS = 10_000;

  private final ChildSupervisor<Haproxy.Info> child;

  /**
   * @param configFile the haproxy.cfg ({@link HaproxyConfig#write})
   * @param logFile    where HAProxy's stdout and stderr are appended
   * @param probe      the admin socket of that configuration, asked {@code show info} to see HAProxy up
   */
  public HaproxySupervisor(Vertx vertx, Path configFile, Path logFile, Haproxy probe) {
    this(vertx, configFile, logFile, probe, new HaproxySupervisorOptions());
  }

  public HaproxySupervisor(Vertx vertx, Path configFile, Path logFile, Haproxy probe,
                           HaproxySupervisorOptions options) {
    ChildOptions child = new ChildOptions()
        .setName("HAProxy")
        .setCommand(List.of(options.getHaproxy().toString(), "-db", "-f", configFile.toString()))
        .setLogFile(logFile)
        .setStartTimeoutMs(options.getStartTimeoutMs())
        .setBackoff(new Backoff(FIRST_BACKOFF_MS, MAX_BACKOFF_MS, STABLE_MS))
        // SIGUSR1 is HAProxy's soft stop: the listeners close, connections in flight finish.
        .setStopSteps(List.of(StopStep.signal(Signal.USR1, options.getSoftStopMs()),
            StopStep.signal(Signal.TERM, options.getTerminateMs())));
    this.child = new ChildSupervisor<>(vertx, child, pid -> answersAs(probe, pid));
  }

  /** Called after every start, once the admin socket answers: re-add the servers then. */
  public HaproxySupervisor onStart(Consumer<Haproxy.Info> listener) {
    child.onReady(listener);
    return this;
  }

  /** The running HAProxy's pid, or -1. */
  public long pid() {
    return child.pid();
  }

  public ChildState state() {
    return child.state();
  }

  /**
   * Starts HAProxy and keeps it running until {@link #stop()}. Fails with a {@link HaproxyException} that quotes the
   * end of HAProxy's log when the first start does not answer (a bad configuration, a busy port); nothing is
   * restarted then.
   */
  public Future<Haproxy.Info> start() {
    return child.start().recover(e -> Future.failedFuture(e instanceof ChildStartException failed
        ? new HaproxyException(String.join(" ", failed.command()), null, failed.problem(), e.getCause()) : e));
  }

  /**
   * Stops HAProxy for good: SIGUSR1 (soft stop), then SIGTERM after {@code softStopMs}, then SIGKILL after
   * {@code terminateMs}. Completes when the process is gone.
   */
  public Future<Void> stop() {
    return child.stop();
  }

  /** {@code show info} answered by HAProxy {@code pid} itself. */
  private static Future<Haproxy.Info> answersAs(Haproxy probe, long pid) {
    return probe.info().compose(info -> info.pid() == pid ? Future.succeededFuture(info)
        : Future.failedFuture("pid " + info.pid() + " answers show info on the admin socket, not pid " + pid));
  }
}
