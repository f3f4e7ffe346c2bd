package io.fleetvote.sandbox.process;

import io.fleetvote.common.process.LoggedProcess;
import io.fleetvote.common.process.PidRecord;
import io.fleetvote.common.process.ProcessProbe;
import io.fleetvote.common.process.Sessions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Starts and stops the real processes behind sandbox instances. Processes outlive the sandbox (a restarted
 * sandbox adopts them again by pid and start time); their output goes to a log file in the instance's directory.
 * Stopping is SIGTERM to the process and its descendants, then SIGKILL after the process's stop timeout.
 */
public final class ProcessSupervisor {

  private static final Logger LOG = LoggerFactory.getLogger(ProcessSupervisor.class);
  private static final long POLL_MILLIS = 25;
  private static final long KILL_WAIT_MILLIS = 5_000;
  /** How long one reading of the process table serves {@link #tree}. */
  private static final long TABLE_MILLIS = 1_000;
  /** {@code sh -c} script for {@link #inGroups}: {@code $1} groups to join, then the command. */
  private static final String JOIN_AND_EXEC = "n=$1; shift; while [ \"$n\" -gt 0 ]; do"
      + " echo $$ > \"$1/cgroup.procs\" || { echo \"fleetvote sandbox: cannot join the instance's cgroup $1"
      + " (see above), so the process was not started\" >&2; exit 97; }; shift; n=$((n-1)); done; exec \"$@\"";

  private final Vertx vertx;
  /** Who started whom among this sandbox's descendants, as last read, and when (nanoTime); see {@link #tree}. */
  private Map<Long, List<ProcessHandle>> children;
  private long childrenReadAt;

  public ProcessSupervisor(Vertx vertx) {
    this.vertx = vertx;
  }

  /**
   * Starts {@code command} in {@code dir} with exactly {@code env}, inside the cgroups {@code groups} (none: where the
   * sandbox is), output appended to {@code dir/NAME.log}, and records {@code dir/NAME.pid} before returning, so a
   * sandbox that dies right after still finds the process.
   */
  public Future<RunningProcess> spawn(Path dir, String name, List<String> command, Map<String, String> env,
                                      List<Path> groups) {
    return vertx.executeBlocking(() -> {
      Files.createDirectories(dir);
      ProcessBuilder builder = LoggedProcess.builder(Sessions.inOwnSession(inGroups(groups, command)),
          dir.resolve(name + ".log")).directory(dir.toFile());
      builder.environment().clear();
      builder.environment().putAll(env);
      Process process = builder.start();
      long started = ProcessProbe.startMillis(process.toHandle()).orElse(System.currentTimeMillis());
      RunningProcess running = new RunningProcess(name, process.pid(), started);
      running.watch(process.onExit());
      new PidRecord(process.pid(), started).write(pidFile(dir, name));
      return running;
    }, false);
  }

  /**
   * The command run by a shell that first joins the cgroups (writes its pid to each {@code cgroup.procs}) and then
   * execs the command in place: the pid stays the one recorded in the pid file, and everything the command starts is
   * in the groups from its first instruction. Java cannot start a process in a cgroup, and moving a running process
   * would leave the children it already has behind. A group that cannot be joined stops the start, with a line in
   * the process's log and exit status 97.
   */
  static List<String> inGroups(List<Path> groups, List<String> command) {
    if (groups.isEmpty()) {
      return command;
    }
    List<String> wrapped = new ArrayList<>(List.of("/bin/sh", "-c", JOIN_AND_EXEC, "sh",
        Integer.toString(groups.size())));
    groups.forEach(group -> wrapped.add(group.toString()));
    wrapped.addAll(command);
    return wrapped;
  }

  /** The process recorded in {@code dir/NAME.pid}, if the file is there and readable. */
  public static Optional<RunningProcess> fromPidFile(Path dir, String name) {
    return PidRecord.read(pidFile(dir, name)).map(r -> new RunningProcess(name, r.pid(), r.startedAtMillis()));
  }

  /** Alive = the pid exists, started when we recorded, and is not a zombie (this machine's init does not reap). */
  public boolean alive(RunningProcess process) {
    return !process.exited() && ProcessProbe.alive(process.pid(), process.startedAtMillis());
  }

  /**
   * Whether the process exited, for a sweep over every instance: a process this sandbox started is its child, and the
   * JDK, which reaps it, says when it exits without a read of /proc (at 5,000 instances, reading /proc for each twice
   * a second took a good part of the sandbox's event loop); one adopted after a restart is read from /proc. The JDK
   * may say so a moment after the process is gone: {@link #alive} is exact.
   */
  public boolean exitNoticed(RunningProcess process) {
    return process.exited() || (process.watched() ? process.exitSeen() : !alive(process));
  }

  /** SIGKILL now, to the process and everything it started; the processes signalled. */
  public List<ProcessHandle> kill(RunningProcess process) {
    return handle(process).map(h -> signal(h, true)).orElse(List.of());
  }

  /**
   * SIGKILL to all of them and everything they started, at once; completes when every process signalled is gone (a
   * child that holds a socket may outlive its parent by a moment).
   */
  public Future<Void> killAll(List<RunningProcess> processes) {
    List<ProcessHandle> tree = processes.stream().flatMap(p -> kill(p).stream()).toList();
    Promise<Void> done = Promise.promise();
    long deadline = System.nanoTime() + KILL_WAIT_MILLIS * 1_000_000;
    pollTree(tree, deadline, done);
    return done.future();
  }

  private void pollTree(List<ProcessHandle> tree, long deadline, Promise<Void> done) {
    List<ProcessHandle> left = tree.stream().filter(h -> !ProcessProbe.gone(h)).toList();
    if (left.isEmpty()) {
      done.complete();
    } else if (System.nanoTime() >= deadline) {
      LOG.error("processes {} survived SIGKILL for {} ms", left.stream().map(ProcessHandle::pid).toList(),
          KILL_WAIT_MILLIS);
      done.complete();
    } else {
      vertx.setTimer(POLL_MILLIS, t -> pollTree(left, deadline, done));
    }
  }

  /**
   * Stops the processes one after the other, in the order given: SIGTERM, wait up to {@code graceMillis},
   * SIGKILL, wait. Completes when all are gone (or could not be killed, which is logged).
   */
  public Future<Void> stop(List<RunningProcess> processes, List<Long> graceMillis) {
    Future<Void> chain = Future.succeededFuture();
    for (int i = 0; i < processes.size(); i++) {
      RunningProcess process = processes.get(i);
      long grace = graceMillis.get(i);
      chain = chain.compose(x -> stopOne(process, grace));
    }
    return chain;
  }

  private Future<Void> stopOne(RunningProcess process, long graceMillis) {
    Optional<ProcessHandle> handle = handle(process);
    if (handle.isEmpty()) {
      return Future.succeededFuture();
    }
    signal(handle.get(), false);
    return awaitExit(process, graceMillis).compose(exited -> {
      if (exited) {
        return Future.succeededFuture();
      }
      LOG.warn("process {} (pid {}) did not stop within {} ms of SIGTERM: SIGKILL", process.name(), process.pid(),
          graceMillis);
      kill(process);
      return awaitExit(process, KILL_WAIT_MILLIS).map(gone -> {
        if (!gone) {
          LOG.error("process {} (pid {}) survived SIGKILL for {} ms", process.name(), process.pid(), KILL_WAIT_MILLIS);
        }
        return null;
      });
    });
  }

  private Future<Boolean> awaitExit(RunningProcess process, long withinMillis) {
    Promise<Boolean> done = Promise.promise();
    long deadline = System.nanoTime() + withinMillis * 1_000_000;
    poll(process, deadline, done);
    return done.future();
  }

  private void poll(RunningProcess process, long deadline, Promise<Boolean> done) {
    // The JDK's word for a child (no read of /proc: terminating 5,000 instances polled /proc 200,000 times a second).
    if (exitNoticed(process)) {
      done.complete(true);
    } else if (System.nanoTime() >= deadline) {
      done.complete(false);
    } else {
      vertx.setTimer(POLL_MILLIS, t -> poll(process, deadline, done));
    }
  }

  private List<ProcessHandle> signal(ProcessHandle handle, boolean force) {
    List<ProcessHandle> tree = tree(handle);
    for (ProcessHandle member : tree) {
      if (force) {
        member.destroyForcibly();
      } else {
        member.destroy();
      }
    }
    return tree;
  }

  /**
   * The process and everything it started. For a child of this sandbox, from a table of who started whom, read once
   * for all the signals sent within {@link #TABLE_MILLIS}: {@link ProcessHandle#descendants} reads the whole process
   * table each time, and terminating 5,000 instances read it 5,000 times, on the event loop, for minutes. A process
   * started since the table was read is missed by a SIGTERM, not by the SIGKILL that follows it, nor by the sweep of
   * the instance's cgroup. One adopted after a restart is not this sandbox's child: it is asked directly.
   */
  private synchronized List<ProcessHandle> tree(ProcessHandle root) {
    long self = ProcessHandle.current().pid();
    if (root.parent().map(ProcessHandle::pid).orElse(-1L) != self) {
      List<ProcessHandle> tree = new ArrayList<>(List.of(root));
      root.descendants().forEach(tree::add);
      return tree;
    }
    long now = System.nanoTime();
    if (children == null || now - childrenReadAt > TABLE_MILLIS * 1_000_000) {
      Map<Long, List<ProcessHandle>> table = new HashMap<>();
      ProcessHandle.current().descendants().forEach(h -> h.parent()
          .ifPresent(parent -> table.computeIfAbsent(parent.pid(), pid -> new ArrayList<>()).add(h)));
      children = table;
      childrenReadAt = now;
    }
    List<ProcessHandle> tree = new ArrayList<>(List.of(root));
    for (int i = 0; i < tree.size(); i++) {
      tree.addAll(children.getOrDefault(tree.get(i).pid(), List.of()));
    }
    return tree;
  }

  private static Optional<ProcessHandle> handle(RunningProcess process) {
    return process.exited() ? Optional.empty() : ProcessProbe.find(process.pid(), process.startedAtMillis());
  }

  private static Path pidFile(Path dir, String name) {
    return dir.resolve(name + ".pid");
  }
}
