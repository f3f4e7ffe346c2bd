package io.fleetvote.common.process;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Runs one program as a child process and keeps it running: spawns it (output appended to its log), polls a
 * {@link ReadinessCheck} until the child is ready or its start times out, starts it again with {@link Backoff} when
 * it dies, and on {@link #stop()} walks it down its {@link StopStep} ladder, then SIGKILL. Every ready start, the
 * first and the later ones, is announced to the {@link #onReady} listeners: a restarted server has lost whatever was
 * set up at runtime in the one before. All state lives on the context the supervisor was created on, where its
 * futures complete and its listeners run; {@link #state()} and {@link #pid()} may be read from any thread.
 *
 * @param <T> what the readiness check answers (HAProxy's {@code show info}), handed to the listeners
 */
public final class ChildSupervisor<T> {

  private static final Logger LOG = LoggerFactory.getLogger(ChildSupervisor.class);

  private final Vertx vertx;
  private final Context context;
  private final ChildOptions options;
  private final ReadinessCheck<T> readiness;
  private final ChildLog log;
  private final String name;
  private final List<Consumer<T>> readyListeners = new CopyOnWriteArrayList<>();
  private final List<Consumer<ChildState>> stateListeners = new CopyOnWriteArrayList<>();
  private final List<Consumer<ChildExit>> exitListeners = new CopyOnWriteArrayList<>();

  /** The running or starting child, if any. */
  private Child child;
  /** The start in progress (or the last one): stop() waits for it to give up. */
  private Future<T> launching = Future.succeededFuture();
  /** Between start() and stop(): an exit is a crash, to be restarted. */
  private boolean supervising;
  private boolean stopping;
  private long restartTimer = -1;
  private long backoffMs;
  private volatile ChildState state = ChildState.STOPPED;
  private volatile long pid = -1;

  /** @throws IllegalArgumentException when the options have no command or no log file */
  public ChildSupervisor(Vertx vertx, ChildOptions options, ReadinessCheck<T> readiness) {
    this.options = new ChildOptions(options);
    this.name = this.options.getName();
    if (this.options.getCommand() == null || this.options.getLogFile() == null) {
      throw new IllegalArgumentException(name + ": a supervised child needs a command and a log file");
    }
    if (readiness == null) {
      throw new IllegalArgumentException(name + ": a supervised child needs a readiness check");
    }
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.readiness = readiness;
    this.log = new ChildLog(this.options.getLogFile());
    this.backoffMs = this.options.getBackoff().firstMs();
  }

  /** Called after every start, once the child is ready, with what its readiness check answered. */
  public ChildSupervisor<T> onReady(Consumer<T> listener) {
    readyListeners.add(listener);
    return this;
  }

  /** Called on every change of {@link #state()}. */
  public ChildSupervisor<T> onState(Consumer<ChildState> listener) {
    stateListeners.add(listener);
    return this;
  }

  /** Called whenever a child process ends, whether it crashed, failed to start or was stopped. */
  public ChildSupervisor<T> onExit(Consumer<ChildExit> listener) {
    exitListeners.add(listener);
    return this;
  }

  public ChildState state() {
    return state;
  }

  /** The running (or starting) child's pid, or -1. */
  public long pid() {
    return pid;
  }

  public List<String> command() {
    return options.getCommand();
  }

  /**
   * Starts the child and keeps it running until {@link #stop()}. Fails with a {@link ChildStartException}, which
   * quotes the end of the child's log, when the first start is not ready in time; nothing is restarted then.
   */
  public Future<T> start() {
    return onContext(() -> {
      if (supervising || child != null) {
        return Future.failedFuture(new IllegalStateException(name + " (" + String.join(" ", command())
            + ") is already started"));
      }
      supervising = true;
      stopping = false;
      backoffMs = options.getBackoff().firstMs();
      launching = launch().onFailure(e -> {
        supervising = false;
        if (!stopping) {
          setState(ChildState.STOPPED);
        }
      });
      return launching;
    });
  }

  /**
   * Stops the child for good, walking it down the stop ladder, and cancels a pending restart. Completes when the
   * process is gone; fails when it survived SIGKILL.
   */
  public Future<Void> stop() {
    return onContext(() -> {
      stopping = true;
      supervising = false;
      if (restartTimer != -1) {
        vertx.cancelTimer(restartTimer);
        restartTimer = -1;
      }
      if (state != ChildState.STOPPED) {
        setState(ChildState.STOPPING);
      }
      return launching.transform(started -> stopChild()).onSuccess(v -> setState(ChildState.STOPPED));
    });
  }

  private Future<T> launch() {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(options.getStartTimeoutMs());
    return vertx.executeBlocking(this::spawn, false)
        .recover(e -> Future.failedFuture(new ChildStartException(name, command(), "cannot be started: " + e, e)))
        .compose(process -> {
          Child started = new Child(process, Future.fromCompletionStage(process.onExit(), context)
              .map(Process::exitValue));
          child = started;
          pid = process.pid();
          setState(ChildState.STARTING);
          started.exit.onComplete(done -> exited(started));
          return awaitReady(started, deadline)
              .recover(problem -> giveUp(started, problem))
              .onSuccess(answer -> ready(started, answer));
        });
  }

  private Process spawn() throws IOException {
    log.markStart(command());
    return LoggedProcess.builder(command(), log.file()).start();
  }

  /** Asks the readiness check until it answers for this child, the child exits, or the start times out. */
  private Future<T> awaitReady(Child started, long deadline) {
    if (stopping) {
      return Future.failedFuture("stopped while starting");
    }
    if (started.exit.isComplete()) {
      return Future.failedFuture("exited with code " + started.exit.result() + " while starting");
    }
    return check(started.process.pid()).transform(answer -> {
      if (answer.succeeded()) {
        return Future.succeededFuture(answer.result());
      }
      if (System.nanoTime() - deadline > 0) {
        return Future.failedFuture("pid " + started.process.pid() + " was not ready within "
            + options.getStartTimeoutMs() + " ms (" + describe(answer.cause()) + ")");
      }
      return vertx.timer(options.getPollMs()).compose(v -> awaitReady(started, deadline));
    });
  }

  /** The readiness check, a throwing or null-returning one counted as "not ready" rather than a dead start. */
  private Future<T> check(long childPid) {
    try {
      Future<T> answer = readiness.check(childPid);
      return answer != null ? answer : Future.failedFuture("the readiness check answered null");
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  /** A start that failed: the child is killed (unless stop() is taking care of it) and its log quoted. */
  private Future<T> giveUp(Child started, Throwable problem) {
    if (stopping) {
      return Future.failedFuture(problem);
    }
    started.process.destroyForcibly();
    return exitWithin(started, options.getKillWaitMs())
        .compose(gone -> vertx.executeBlocking(log::tail, false))
        .transform(tail -> Future.failedFuture(new ChildStartException(name, command(),
            describe(problem) + "; " + log.file() + " ends: " + (tail.succeeded() ? tail.result()
                : "(unreadable: " + describe(tail.cause()) + ")"), problem)));
  }

  private void ready(Child started, T answer) {
    started.answered = true;
    setState(ChildState.READY);
    LOG.info("{} ready: pid {} ({})", name, started.process.pid(), String.join(" ", command()));
    readyListeners.forEach(listener -> notify(listener, answer));
  }

  private void exited(Child gone) {
    if (child != gone) {
      return;
    }
    child = null;
    pid = -1;
    boolean crashed = gone.answered && supervising;
    long ranMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - gone.startedNanos);
    ChildExit exit = new ChildExit(gone.process.pid(), gone.exit.result(), ranMs, !crashed);
    exitListeners.forEach(listener -> notify(listener, exit));
    if (!crashed) {
      return; // a start in progress or a stop takes it from here
    }
    if (ranMs >= options.getBackoff().stableMs()) {
      backoffMs = options.getBackoff().firstMs();
    }
    LOG.warn("{} (pid {}) exited with code {} after {} ms; starting it again in {} ms", name, gone.process.pid(),
        gone.exit.result(), ranMs, backoffMs);
    restartLater();
  }

  private void restartLater() {
    setState(ChildState.BACKING_OFF);
    long delayMs = backoffMs;
    backoffMs = options.getBackoff().after(backoffMs);
    restartTimer = vertx.setTimer(delayMs, t -> {
      restartTimer = -1;
      launching = launch().onFailure(e -> {
        if (supervising) {
          LOG.warn("{} did not start again: {}; next try in {} ms", name, e.getMessage(), backoffMs);
          restartLater();
        }
      });
    });
  }

  private Future<Void> stopChild() {
    Child running = child;
    if (running == null) {
      return Future.succeededFuture();
    }
    return climbDown(running, 0, 0).onSuccess(v -> LOG.info("{} (pid {}) stopped", name, running.process.pid()));
  }

  /**
   * Rung {@code rung} of the stop ladder, and the ones below it while the child still runs; SIGKILL last.
   * {@code waitedMs}: how long the rung above waited for the child to exit.
   */
  private Future<Void> climbDown(Child running, int rung, long waitedMs) {
    List<StopStep> steps = options.getStopSteps();
    long childPid = running.process.pid();
    String next = rung < steps.size() ? steps.get(rung).name() : Signal.KILL.toString();
    if (rung > 0) {
      LOG.warn("{} (pid {}) still runs {} ms after {}: {}", name, childPid, waitedMs, steps.get(rung - 1).name(),
          next);
    }
    if (rung == steps.size()) {
      running.process.destroyForcibly();
      return exitWithin(running, options.getKillWaitMs()).compose(gone -> gone ? Future.<Void>succeededFuture()
          : Future.failedFuture(name + " (pid " + childPid + ") survived SIGKILL for " + options.getKillWaitMs()
              + " ms"));
    }
    StopStep step = steps.get(rung);
    return act(step, childPid).compose(sent -> {
      long waitMs = sent ? step.waitMs() : 0;
      return exitWithin(running, waitMs).compose(gone -> gone ? Future.succeededFuture()
          : climbDown(running, rung + 1, waitMs));
    });
  }

  /** The step's action; one that throws or fails counts as not sent, and the ladder goes on. */
  private Future<Boolean> act(StopStep step, long childPid) {
    try {
      return step.action().apply(vertx, childPid).otherwise(e -> {
        LOG.warn("{} (pid {}): {} failed: {}", name, childPid, step.name(), describe(e));
        return false;
      }).map(Boolean.TRUE::equals);
    } catch (RuntimeException e) {
      LOG.warn("{} (pid {}): {} failed: {}", name, childPid, step.name(), describe(e));
      return Future.succeededFuture(false);
    }
  }

  private Future<Boolean> exitWithin(Child running, long millis) {
    if (running.exit.isComplete()) {
      return Future.succeededFuture(true);
    }
    Promise<Boolean> exited = Promise.promise();
    long timer = vertx.setTimer(Math.max(1, millis), t -> exited.tryComplete(false));
    running.exit.onComplete(done -> {
      vertx.cancelTimer(timer);
      exited.tryComplete(true);
    });
    return exited.future();
  }

  private void setState(ChildState next) {
    if (state == next) {
      return;
    }
    state = next;
    stateListeners.forEach(listener -> notify(listener, next));
  }

  private <E> void notify(Consumer<E> listener, E event) {
    try {
      listener.accept(event);
    } catch (RuntimeException e) {
      LOG.error("a listener of {} failed on {}", name, event, e);
    }
  }

  private <R> Future<R> onContext(Supplier<Future<R>> action) {
    Promise<R> result = Promise.promise();
    context.runOnContext(v -> action.get().onComplete(result));
    return result.future();
  }

  private static String describe(Throwable e) {
    return e.getMessage() == null ? e.toString() : e.getMessage();
  }

  /** One child process; its exit future completes on the supervisor's context. */
  private static final class Child {
    final Process process;
    final Future<Integer> exit;
    final long startedNanos = System.nanoTime();
    boolean answered;

    Child(Process process, Future<Integer> exit) {
      this.process = process;
      this.exit = exit;
    }
  }
}
