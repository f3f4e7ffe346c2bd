package io.fleetvote.agent.lb;

import io.fleetvote.common.net.FreePorts;
import io.fleetvote.testkit.Await;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.StandardSocketOptions;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static io.fleetvote.agent.lb.HaproxyClientTest.failure;
import static io.fleetvote.agent.lb.TestHaproxy.BACKEND;
import static io.fleetvote.agent.lb.TestHaproxy.CHECK;
import static org.assertj.core.api.Assertions.assertThat;

/** HAProxy as the agent's child process: started, restarted after a crash, stopped softly. */
@ExtendWith(VertxExtension.class)
class HaproxySupervisorTest {

  @TempDir
  Path dir;
  private TestHaproxy haproxy;

  @AfterEach
  void stopHaproxy() throws Exception {
    if (haproxy != null) {
      haproxy.close();
    }
  }

  @Test
  void aKilledHaproxyIsStartedAgainAnnouncedWithItsNewPidAndHasForgottenItsDynamicServers(Vertx vertx)
      throws Exception {
    haproxy = TestHaproxy.started(vertx, dir);
    haproxy.client.addServer(BACKEND, "i-1", "10.0.0.1", 8080, CHECK).await();
    long first = haproxy.starts.get(0).pid();

    kill9(first);
    Await.onTimers(vertx, () -> Future.succeededFuture(haproxy.starts.size()), n -> n == 2, 5000).await();

    long second = haproxy.starts.get(1).pid();
    assertThat(second).isNotEqualTo(first).isEqualTo(haproxy.supervisor.pid());
    assertThat(haproxy.client.info().await().pid()).isEqualTo(second);
    assertThat(haproxy.client.servers(BACKEND).await())
        .as("HAProxy keeps runtime-added servers in memory only: a new process has just the configuration's (none)")
        .isEmpty();
  }

  @Test
  void restartsBackOffWhileHaproxyCannotStartAndSucceedOnceItCan(Vertx vertx) throws Exception {
    int port = FreePorts.pick();
    haproxy = new TestHaproxy(vertx, dir, port);
    haproxy.supervisor.start().await(20, TimeUnit.SECONDS);

    try (ServerSocket squatter = new ServerSocket()) {
      kill9(haproxy.starts.get(0).pid());
      squatter.setOption(StandardSocketOptions.SO_REUSEPORT, true);
      squatter.bind(new InetSocketAddress("127.0.0.1", port));
      Await.onTimers(vertx, () -> startsInLog(vertx), n -> n >= 4, 10_000).await();
      assertThat(haproxy.starts).as("failed restarts are not announced").hasSize(1);
    }
    Await.onTimers(vertx, () -> Future.succeededFuture(haproxy.starts.size()), n -> n == 2, 10_000).await();
    assertThat(haproxy.client.info().await().pid()).isEqualTo(haproxy.supervisor.pid());
  }

  @Test
  void aPortAnotherProcessHoldsFailsTheStartWithHaproxysReasonEvenWithSoReusePort(Vertx vertx) throws Exception {
    try (ServerSocket squatter = new ServerSocket()) {
      squatter.setOption(StandardSocketOptions.SO_REUSEPORT, true);
      squatter.bind(new InetSocketAddress("127.0.0.1", 0));
      haproxy = new TestHaproxy(vertx, dir, squatter.getLocalPort());
      HaproxyException e = failure(haproxy.supervisor.start());
      assertThat(e.getMessage()).contains("exited with code 1 while starting",
          "cannot bind socket (Address already in use) for [127.0.0.1:" + squatter.getLocalPort() + "]");
      assertThat(haproxy.supervisor.pid()).isEqualTo(-1);
      assertThat(haproxy.starts).isEmpty();
    }
  }

  @Test
  void stopLetsTheRequestInFlightFinishAndNothingIsRestarted(Vertx vertx) throws Exception {
    haproxy = TestHaproxy.started(vertx, dir);
    TestBackend app = TestBackend.start(vertx, "app-1").await();
    haproxy.client.addServer(BACKEND, "i-1", "127.0.0.1", app.port(), CHECK).await();
    haproxy.client.setState(BACKEND, "i-1", Haproxy.AdminState.READY).await();
    HttpClientAgent http = vertx.createHttpClient();
    Future<TestBackend.Response> inFlight = TestBackend.get(http, haproxy.port(), "/slow");
    Await.onTimers(vertx, () -> haproxy.server("i-1"), s -> s.sessions() == 1, 2000).await();

    haproxy.supervisor.stop().await(10, TimeUnit.SECONDS);
    assertThat(inFlight.await()).isEqualTo(new TestBackend.Response(200, "app-1"));
    assertThat(haproxy.supervisor.pid()).isEqualTo(-1);

    vertx.timer(4 * HaproxySupervisor.FIRST_BACKOFF_MS).await();
    assertThat(haproxy.starts).hasSize(1);
    assertThat(failure(haproxy.client.info()).getMessage())
        .contains("cannot connect to HAProxy's admin socket " + haproxy.config.getAdminSocket(), "refused");
  }

  private Future<Long> startsInLog(Vertx vertx) {
    return vertx.fileSystem().readFile(haproxy.logFile.toString())
        .map(log -> log.toString().lines().filter(line -> line.contains(" Fleetvote starts: ")).count());
  }

  private static void kill9(long pid) {
    ProcessHandle process = ProcessHandle.of(pid).orElseThrow();
    process.destroyForcibly();
    process.onExit().join();
  }
}
