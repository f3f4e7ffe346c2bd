package io.fleetvote.common.process;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Real small child processes (sh, sleep) started, restarted, and stopped down their ladders. */
@ExtendWith(VertxExtension.class)
class ChildSupervisorTest {

  private static final long WAIT_S = 10;
  /** Writes the ready file named by $1 (after whatever comes first in the script), then becomes a sleep. */
  private static final String READY_THEN_SLEEP = "echo up > \"$1\"; exec sleep 30";

  @TempDir
  Path dir;
  private ChildSupervisor<String> supervisor;
  /** Every pid the supervisor spawned, killed after each test whether it passed or not. */
  private final List<Long> pids = new CopyOnWriteArrayList<>();
  private final BlockingQueue<ChildState> states = new LinkedBlockingQueue<>();
  private final BlockingQueue<String> readies = new LinkedBlockingQueue<>();
  private final BlockingQueue<ChildExit> exits = new LinkedBlockingQueue<>();

  @AfterEach
  void killEveryChild() throws Exception {
    try {
      if (supervisor != null) {
        supervisor.stop().await(WAIT_S, TimeUnit.SECONDS);
      }
    } finally {
      for (long pid : pids) {
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
      }
    }
  }

  @Test
  void aChildIsReadyOnceItsCheckPassesAndTheListenersHearWhatTheCheckAnswered(Vertx vertx) throws Exception {
    supervise(vertx, options(READY_THEN_SLEEP));

    assertThat(supervisor.start().await(WAIT_S, TimeUnit.SECONDS)).isEqualTo("up");
    assertThat(supervisor.state()).isEqualTo(ChildState.READY);
    assertThat(next(readies)).isEqualTo("up");
    assertThat(ProcessHandle.of(supervisor.pid()).map(ProcessHandle::isAlive)).contains(true);
    assertThat(pids).containsExactly(supervisor.pid());
    assertThat(states).containsExactly(ChildState.STARTING, ChildState.READY);
  }

  @Test
  void aChildThatExitsAtOnceFailsTheStartWithItsExitCodeAndTheEndOfItsLog(Vertx vertx) {
    supervise(vertx, options("echo 'no such datadir' >&2; exit 3"));

    assertThatThrownBy(() -> supervisor.start().await(WAIT_S, TimeUnit.SECONDS))
        .isInstanceOf(ChildStartException.class)
        .hasMessageContaining("exited with code 3 while starting")
        .hasMessageContaining("ends: no such datadir");
    assertThat(supervisor.state()).isEqualTo(ChildState.STOPPED);
    assertThat(supervisor.pid()).isEqualTo(-1);
    assertThat(readies).isEmpty();
  }

  @Test
  void aChildThatNeverGetsReadyIsKilledWhenItsStartTimesOut(Vertx vertx) throws Exception {
    supervisor = new ChildSupervisor<>(vertx, options(READY_THEN_SLEEP).setStartTimeoutMs(300),
        pid -> Future.failedFuture("not listening yet"));
    record();

    assertThatThrownBy(() -> supervisor.start().await(WAIT_S, TimeUnit.SECONDS))
        .isInstanceOf(ChildStartException.class)
        .hasMessageContaining("was not ready within 300 ms (not listening yet)");
    ChildExit exit = next(exits);
    assertThat(exit.exitCode()).as("SIGKILL").isEqualTo(137);
    assertThat(exit.expected()).isTrue();
    assertThat(supervisor.state()).isEqualTo(ChildState.STOPPED);
  }

  @Test
  void aCrashedChildIsStartedAgainAfterItsBackoffAndAnnouncedAgain(Vertx vertx) throws Exception {
    supervise(vertx, options(READY_THEN_SLEEP));
    supervisor.start().await(WAIT_S, TimeUnit.SECONDS);
    long first = supervisor.pid();
    readies.clear();
    Files.delete(dir.resolve("ready"));

    ProcessHandle.of(first).orElseThrow().destroyForcibly();

    assertThat(next(readies)).isEqualTo("up");
    ChildExit crash = next(exits);
    assertThat(crash).isEqualTo(new ChildExit(first, 137, crash.ranMs(), false));
    assertThat(supervisor.pid()).isNotEqualTo(first).isEqualTo(pids.get(1));
    assertThat(states).containsExactly(ChildState.STARTING, ChildState.READY, ChildState.BACKING_OFF,
        ChildState.STARTING, ChildState.READY);
  }

  @Test
  void aStopWhileBackingOffCancelsTheRestart(Vertx vertx) throws Exception {
    supervise(vertx, options(READY_THEN_SLEEP).setBackoff(new Backoff(300, 300, 10_000)));
    supervisor.start().await(WAIT_S, TimeUnit.SECONDS);
    ProcessHandle.of(supervisor.pid()).orElseThrow().destroyForcibly();
    next(exits);

    supervisor.stop().await(WAIT_S, TimeUnit.SECONDS);
    vertx.timer(3 * 300).await();

    assertThat(pids).hasSize(1);
    assertThat(supervisor.state()).isEqualTo(ChildState.STOPPED);
  }

  @Test
  void theFirstRungEndsAChildThatHonoursItAndNothingIsRestarted(Vertx vertx) throws Exception {
    supervise(vertx, options(READY_THEN_SLEEP).setStopSteps(List.of(StopStep.signal(Signal.USR1, 5_000),
        StopStep.signal(Signal.TERM, 5_000))));
    supervisor.start().await(WAIT_S, TimeUnit.SECONDS);

    supervisor.stop().await(WAIT_S, TimeUnit.SECONDS);

    ChildExit exit = next(exits);
    assertThat(exit.exitCode()).as("128 + SIGUSR1").isEqualTo(138);
    assertThat(exit.expected()).isTrue();
    assertThat(supervisor.state()).isEqualTo(ChildState.STOPPED);
    assertThat(supervisor.pid()).isEqualTo(-1);
    assertThat(pids).hasSize(1);
  }

  @Test
  void aChildThatIgnoresSigtermIsKilledOnceItsTimeIsUp(Vertx vertx) throws Exception {
    supervise(vertx, options("trap '' TERM; " + READY_THEN_SLEEP)
        .setStopSteps(List.of(StopStep.signal(Signal.TERM, 300))));
    supervisor.start().await(WAIT_S, TimeUnit.SECONDS);

    supervisor.stop().await(WAIT_S, TimeUnit.SECONDS);

    assertThat(next(exits).exitCode()).as("SIGKILL").isEqualTo(137);
    assertThat(supervisor.state()).isEqualTo(ChildState.STOPPED);
  }

  @Test
  void aGracefulActionThatFailsIsPassedOverForTheNextRung(Vertx vertx) throws Exception {
    List<Long> asked = new CopyOnWriteArrayList<>();
    StopStep shutdownCommand = new StopStep("shutdown command", (v, pid) -> {
      asked.add(pid);
      return Future.failedFuture("cannot connect");
    }, 60_000);
    supervise(vertx, options(READY_THEN_SLEEP).setStopSteps(List.of(shutdownCommand,
        StopStep.signal(Signal.TERM, 5_000))));
    supervisor.start().await(WAIT_S, TimeUnit.SECONDS);
    long pid = supervisor.pid();

    supervisor.stop().await(WAIT_S, TimeUnit.SECONDS);

    assertThat(asked).containsExactly(pid);
    assertThat(next(exits).exitCode()).as("128 + SIGTERM").isEqualTo(143);
  }

  @Test
  void aSecondStartIsRefusedWhileTheFirstChildRuns(Vertx vertx) throws Exception {
    supervise(vertx, options(READY_THEN_SLEEP));
    supervisor.start().await(WAIT_S, TimeUnit.SECONDS);

    assertThatThrownBy(() -> supervisor.start().await(WAIT_S, TimeUnit.SECONDS))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("is already started");
    assertThat(pids).hasSize(1);
  }

  @Test
  void optionsRefuseWhatCannotRun(Vertx vertx) {
    assertThatThrownBy(() -> new ChildOptions().setName("MariaDB").setCommand(List.of()))
        .hasMessageStartingWith("MariaDB: the command must be a program and its arguments");
    assertThatThrownBy(() -> new Backoff(500, 100, 0))
        .hasMessage("backoff maxMs 100 ms is not within 500..600000 ms");
    assertThatThrownBy(() -> StopStep.signal(Signal.TERM, -1))
        .hasMessage("stop step SIGTERM waitMs -1 ms is not within 0..600000 ms");
    assertThatThrownBy(() -> new ChildSupervisor<>(vertx, new ChildOptions().setName("MariaDB"),
        pid -> Future.succeededFuture()))
        .hasMessage("MariaDB: a supervised child needs a command and a log file");
  }

  @Test
  void theBackoffDoublesUpToItsCeiling() {
    Backoff backoff = new Backoff(200, 3_000, 10_000);
    assertThat(backoff.after(200)).isEqualTo(400);
    assertThat(backoff.after(1_600)).isEqualTo(3_000);
    assertThat(backoff.after(3_000)).isEqualTo(3_000);
  }

  /** {@code sh -c script sh <ready file>}, its log in the test's directory. */
  private ChildOptions options(String script) {
    return new ChildOptions().setName("test child")
        .setCommand(List.of("sh", "-c", script, "sh", dir.resolve("ready").toString()))
        .setLogFile(dir.resolve("child.log"))
        .setStopSteps(List.of(StopStep.signal(Signal.TERM, 5_000)));
  }

  /** Ready once the child has written its ready file, answering what it wrote. */
  private void supervise(Vertx vertx, ChildOptions options) {
    Path ready = dir.resolve("ready");
    supervisor = new ChildSupervisor<>(vertx, options, pid -> vertx.fileSystem().exists(ready.toString())
        .compose(there -> there ? vertx.fileSystem().readFile(ready.toString()).map(b -> b.toString().strip())
            : Future.failedFuture("no ready file yet")));
    record();
  }

  private static <E> E next(BlockingQueue<E> events) throws InterruptedException {
    E event = events.poll(WAIT_S, TimeUnit.SECONDS);
    assertThat(event).as("an event within " + WAIT_S + " s").isNotNull();
    return event;
  }

  private void record() {
    supervisor.onState(state -> {
      if (state == ChildState.STARTING) {
        pids.add(supervisor.pid());
      }
      states.add(state);
    }).onReady(readies::add).onExit(exits::add);
  }
}
