package io.fleetvote.agent.lb;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * Runs HAProxy as a child process of the agent ({@code haproxy -db -f <cfg>}: in the foreground, without
 * master-worker), its output appended to a log file. A start counts once the admin socket answers {@code show info}
 * with the child's pid. When the child exits without {@link #stop()} (a crash, kill -9) it is started again after
 * 200 ms, doubling to 5 s while it keeps failing; every start, the first and the later ones, is announced to the
 * {@link #onStart} listeners, because a new HAProxy knows none of the servers added to the one before. Optional:
 * where systemd owns HAProxy, the agent only talks to its socket. All state lives on the context the supervisor was
 * created on, where its futures complete and its listeners run. An HAProxy left behind by an agent that died keeps
 * serving, and holds the port: the next start fails on the busy port until it is stopped.
 */
public final class HaproxySupervisor {

  private static final Logger LOG = LoggerFactory.getLogger(HaproxySupervisor.class);
  static final long FIRST_BACKOFF_MS = 200;
  /** At most one start in 3 s while HAProxy keeps dying: a crash loop still has every instance back within 6 s. */
  static final long MAX_BACKOFF_MS = 3_000;
  /** A child that ran this long before it exited counts as a fresh failure: the backoff starts over. */
  private static final long STABLE_MS = 10_000;
  private static final long POLL_MS = 50;
  private static final long KILL_WAIT_MS = 5_000;
  private static final int LOG_TAIL_BYTES = 4096;
  private static final int LOG_TAIL_LINES = 6;
  /** Begins the line written to the log before each start. */
  private static final String START_MARK = "---";

  private final Vertx vertx;
  private final Context context;
  private final Path configFile;
  private final Path logFile;
  private final Haproxy probe;
  private final HaproxySupervisorOptions options;
  private final List<Consumer<Haproxy.Info>> startListeners = new CopyOnWriteArrayList<>();

  /** The running or starting child, if any. */
  private Child child;
  /** The start in progress (or the last one): stop() waits for it to give up. */
  private Future<Haproxy.Info> launching = Future.succeededFuture();
  /** Between start() and stop(): an exit is a crash, to be restarted. */
  private boolean supervising;
  private boolean stopping;
  private long restartTimer = -1;
  private long backoffMs = FIRST_BACKOFF_MS;
  private volatile long pid = -1;

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
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.configFile = configFile;
    this.logFile = logFile;
    this.probe = probe;
    this.options = new HaproxySupervisorOptions(options);
  }

  /** Called after every start, once the admin socket answers: re-add the servers then. */
  public HaproxySupervisor onStart(Consumer<Haproxy.Info> listener) {
    startListeners.add(listener);
    return this;
  }

  /** The running HAProxy's pid, or -1. */
  public long pid() {
    return pid;
  }

  /**
   * Starts HAProxy and keeps it running until {@link #stop()}. Fails, with the end of HAProxy's log in the message,
   * when the first start does not answer (a bad configuration, a busy port); nothing is restarted then.
   */
  public Future<Haproxy.Info> start() {
    return onContext(() -> {
      if (supervising || child != null) {
        return Future.failedFuture(new IllegalStateException("HAProxy of " + configFile + " is already started"));
      }
      supervising = true;
      stopping = false;
      backoffMs = FIRST_BACKOFF_MS;
      launching = launch().onFailure(e -> supervising = false);
      return launching;
    });
  }

  /**
   * Stops HAProxy for good: SIGUSR1 (soft stop: the listeners close, connections in flight finish), then SIGTERM
   * after {@code softStopMs}, then SIGKILL after {@code terminateMs}. Completes when the process is gone.
   */
  public Future<Void> stop() {
    return onContext(() -> {
      stopping = true;
      supervising = false;
      if (restartTimer != -1) {
        vertx.cancelTimer(restartTimer);
        restartTimer = -1;
      }
      return launching.transform(started -> stopChild());
    });
  }

  private Future<Haproxy.Info> launch() {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(options.getStartTimeoutMs());
    return vertx.executeBlocking(this::spawn, false).compose(process -> {
      Child started = new Child(process, Future.fromCompletionStage(process.onExit(), context)
          .map(Process::exitValue));
      child = started;
      pid = process.pid();
      started.exit.onComplete(done -> exited(started));
      return awaitAnswer(started, deadline)
          .recover(problem -> giveUp(started, problem))
          .onSuccess(info -> answered(started, info));
    });
  }

  private Process spawn() throws IOException {
    List<String> command = command();
    Files.createDirectories(logFile.toAbsolutePath().getParent());
    Files.writeString(logFile, START_MARK + " " + Instant.now() + " Fleetvote starts: " + String.join(" ", command)
        + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    return new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
        .start();
  }

  private List<String> command() {
    return List.of(options.getHaproxy().toString(), "-db", "-f", configFile.toString());
  }

  /** Polls {@code show info} until the child itself answers (not another HAProxy on a stale socket path). */
  private Future<Haproxy.Info> awaitAnswer(Child started, long deadline) {
    if (stopping) {
      return Future.failedFuture("stopped while starting");
    }
    if (started.exit.isComplete()) {
      return Future.failedFuture("exited with code " + started.exit.result() + " while starting");
    }
    return probe.info().transform(answer -> {
      if (answer.succeeded() && answer.result().pid() == started.process.pid()) {
        return Future.succeededFuture(answer.result());
      }
      if (System.nanoTime() - deadline > 0) {
        return Future.failedFuture("pid " + started.process.pid() + " did not answer show info within "
            + options.getStartTimeoutMs() + " ms (" + (answer.failed() ? answer.cause().getMessage()
            : "pid " + answer.result().pid() + " answers on its socket") + ")");
      }
      return delay(POLL_MS).compose(v -> awaitAnswer(started, deadline));
    });
  }

  /** A start that failed: the child is killed (unless stop() is taking care of it) and its log quoted. */
  private Future<Haproxy.Info> giveUp(Child started, Throwable problem) {
    if (stopping) {
      return Future.failedFuture(problem);
    }
    started.process.destroyForcibly();
    return exitWithin(started, KILL_WAIT_MS)
        .compose(gone -> vertx.executeBlocking(this::logTail, false))
        .transform(tail -> Future.failedFuture(new HaproxyException(String.join(" ", command()), null,
            problem.getMessage() + "; " + logFile + " ends: " + (tail.succeeded() ? tail.result()
                : "(unreadable: " + tail.cause().getMessage() + ")"), problem)));
  }

  private void answered(Child started, Haproxy.Info info) {
    started.answered = true;
    LOG.info("HAProxy started: pid {}, version {}, admin socket answers ({})", info.pid(), info.version(),
        configFile);
    for (Consumer<Haproxy.Info> listener : startListeners) {
      try {
        listener.accept(info);
      } catch (RuntimeException e) {
        LOG.error("an HAProxy start listener failed (pid {})", info.pid(), e);
      }
    }
  }

  private void exited(Child gone) {
    if (child != gone) {
      return;
    }
    child = null;
    pid = -1;
    if (!gone.answered || !supervising) {
      return; // a start in progress or a stop takes it from here
    }
    long ranMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - gone.startedNanos);
    if (ranMs >= STABLE_MS) {
      backoffMs = FIRST_BACKOFF_MS;
    }
    LOG.warn("HAProxy (pid {}) exited with code {} after {} ms; starting it again in {} ms", gone.process.pid(),
        gone.exit.result(), ranMs, backoffMs);
    restartLater();
  }

  private void restartLater() {
    long delayMs = backoffMs;
    backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
    restartTimer = vertx.setTimer(delayMs, t -> {
      restartTimer = -1;
      launching = launch().onFailure(e -> {
        if (supervising) {
          LOG.warn("HAProxy did not start again: {}; next try in {} ms", e.getMessage(), backoffMs);
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
    long childPid = running.process.pid();
    return vertx.executeBlocking(() -> softStop(childPid), false)
        .compose(sent -> exitWithin(running, sent ? options.getSoftStopMs() : 0))
        .compose(gone -> {
          if (gone) {
            return Future.succeededFuture(true);
          }
          LOG.warn("HAProxy (pid {}) still runs {} ms after SIGUSR1: SIGTERM", childPid, options.getSoftStopMs());
          running.process.destroy();
          return exitWithin(running, options.getTerminateMs());
        })
        .compose(gone -> {
          if (gone) {
            return Future.succeededFuture(true);
          }
          LOG.warn("HAProxy (pid {}) still runs {} ms after SIGTERM: SIGKILL", childPid, options.getTerminateMs());
          running.process.destroyForcibly();
          return exitWithin(running, KILL_WAIT_MS);
        })
        .compose(gone -> gone ? Future.<Void>succeededFuture()
            : Future.failedFuture("HAProxy (pid " + childPid + ") survived SIGKILL for " + KILL_WAIT_MS + " ms"))
        .onSuccess(v -> LOG.info("HAProxy (pid {}) stopped", childPid));
  }

  /** SIGUSR1, which Java cannot send itself; false when kill failed (the process is gone, or no kill). */
  private static boolean softStop(long pid) throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("kill", "-USR1", Long.toString(pid))
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .start();
    return kill.waitFor(KILL_WAIT_MS, TimeUnit.MILLISECONDS) && kill.exitValue() == 0;
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

  private Future<Void> delay(long millis) {
    Promise<Void> elapsed = Promise.promise();
    vertx.setTimer(millis, t -> elapsed.complete());
    return elapsed.future();
  }

  /** The last lines the last start wrote to the log, joined on one line: where HAProxy says why it stopped. */
  private String logTail() throws IOException {
    try (RandomAccessFile file = new RandomAccessFile(logFile.toFile(), "r")) {
      long from = Math.max(0, file.length() - LOG_TAIL_BYTES);
      byte[] bytes = new byte[(int) (file.length() - from)];
      file.seek(from);
      file.readFully(bytes);
      List<String> lines = Arrays.stream(new String(bytes, StandardCharsets.UTF_8).split("\n"))
          .map(String::strip).filter(line -> !line.isEmpty()).collect(Collectors.toList());
      int start = 0;
      for (int i = 0; i < lines.size(); i++) {
        if (lines.get(i).startsWith(START_MARK)) {
          start = i + 1;
        }
      }
      start = Math.max(start, lines.size() - LOG_TAIL_LINES);
      return start >= lines.size() ? "(nothing)" : String.join(" | ", lines.subList(start, lines.size()));
    }
  }

  private <T> Future<T> onContext(Supplier<Future<T>> action) {
    Promise<T> result = Promise.promise();
    context.runOnContext(v -> action.get().onComplete(result));
    return result.future();
  }

  /** One HAProxy process; its exit future completes on the supervisor's context. */
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
