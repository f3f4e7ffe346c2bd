package io.fleetvote.agent.db;

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
 * Runs MariaDB as a child of the DB agent ({@code mariadbd --defaults-file=<my.cnf> --user=<the agent's user>}), its
 * output appended to a log file, through a {@link ChildSupervisor}, as HAProxy is run on an LB: a start counts once
 * the server answers the agent's account with this instance's {@code server_id} (not another MariaDB on the port); a
 * crashed server is started again after 500 ms, doubling to 5 s while it keeps failing; a stop is SIGTERM (MariaDB's
 * clean shutdown, which flushes InnoDB) and SIGKILL only after 60 s.
 */
public final class MariaDbSupervisor {

  static final long FIRST_BACKOFF_MS = 500;
  static final long MAX_BACKOFF_MS = 5_000;
  private static final long STABLE_MS = 30_000;
  /** A first start of a big datadir, or crash recovery, takes a while. */
  private static final long START_TIMEOUT_MS = 60_000;
  private static final long CLEAN_SHUTDOWN_MS = 60_000;

  private final ChildSupervisor<Long> child;

  public MariaDbSupervisor(Vertx vertx, String mariadbd, Path configFile, Path logFile, DbProbe probe, long serverId) {
    ChildOptions options = new ChildOptions()
        .setName("MariaDB")
        .setCommand(List.of(mariadbd, "--defaults-file=" + configFile, "--user=" + System.getProperty("user.name")))
        .setLogFile(logFile)
        .setStartTimeoutMs(START_TIMEOUT_MS)
        .setBackoff(new Backoff(FIRST_BACKOFF_MS, MAX_BACKOFF_MS, STABLE_MS))
        .setStopSteps(List.of(StopStep.signal(Signal.TERM, CLEAN_SHUTDOWN_MS)));
    this.child = new ChildSupervisor<>(vertx, options, pid -> probe.serverId().compose(id -> id == serverId
        ? Future.succeededFuture(id)
        : Future.failedFuture("a MariaDB with server_id " + id + " answers on the port, not this instance's " + serverId)));
  }

  public MariaDbSupervisor onStart(Consumer<Long> listener) {
    child.onReady(listener);
    return this;
  }

  public long pid() {
    return child.pid();
  }

  public ChildState state() {
    return child.state();
  }

  /** Starts MariaDB; fails, quoting the end of its log, when the first start does not answer. */
  public Future<Long> start() {
    return child.start().recover(e -> Future.failedFuture(e instanceof ChildStartException failed
        ? new IllegalStateException("MariaDB did not start (" + failed.problem() + ")", e) : e));
  }

  public Future<Void> stop() {
    return child.stop();
  }

  /**
   * SIGKILL to the running MariaDB, the fence of last resort for a server that does not answer (hung, stopped, or
   * refusing the agent): this supervisor starts it again, and it starts read-only. Whether there was one to kill.
   */
  public boolean kill() {
    long pid = child.pid();
    return pid > 0 && ProcessHandle.of(pid).map(ProcessHandle::destroyForcibly).orElse(false);
  }
}
