package io.fleetvote.agent.lb;

import io.fleetvote.agent.lb.Haproxy.Added;
import io.fleetvote.agent.lb.Haproxy.AdminState;
import io.fleetvote.agent.lb.Haproxy.Deleted;
import io.fleetvote.testkit.Await;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.IntStream;

import static io.fleetvote.agent.lb.TestHaproxy.BACKEND;
import static io.fleetvote.agent.lb.TestHaproxy.CHECK;
import static org.assertj.core.api.Assertions.assertThat;

/** The runtime API of a real HAProxy 2.6, started for each test. */
@ExtendWith(VertxExtension.class)
class HaproxyClientTest {

  @TempDir
  Path dir;
  private TestHaproxy haproxy;
  private HaproxyClient lb;
  private HttpClientAgent http;

  @BeforeEach
  void startHaproxy(Vertx vertx) throws Exception {
    haproxy = TestHaproxy.started(vertx, dir);
    lb = haproxy.client;
    http = vertx.createHttpClient();
  }

  @AfterEach
  void stopHaproxy() throws Exception {
    haproxy.close();
  }

  @Test
  void aNewServersFirstCheckComesAfterItsDownInterNotItsInter(Vertx vertx) throws Exception {
    TestBackend app = TestBackend.start(vertx, "app-1").await();
    // A new server counts as down: HAProxy schedules its checks by downinter until it is up.
    lb.addServer(BACKEND, "i-1", "127.0.0.1", app.port(), new Haproxy.CheckSettings(60_000, 100, 2, 2)).await();
    lb.enableHealth(BACKEND, "i-1").await();
    lb.setState(BACKEND, "i-1", AdminState.DRAIN).await();
    ServerState checked = Await.onTimers(vertx, () -> haproxy.server("i-1"), s -> s.checkStatus().equals("L7OK"),
        20_000).await();
    assertThat(checked.checkStatus()).as("checked long before its 60 s inter").startsWith("L7OK");
  }

  @Test
  void aServerIsAddedCheckedMadeReadyServesThenDrainsAndIsDeleted(Vertx vertx) throws Exception {
    TestBackend app = TestBackend.start(vertx, "app-1").await();
    assertThat(lb.addServer(BACKEND, "i-1", "127.0.0.1", app.port(), CHECK).await()).isEqualTo(Added.REGISTERED);
    ServerState added = haproxy.server("i-1").await();
    assertThat(added.maintenance()).as("a new dynamic server starts in maintenance").isTrue();
    assertThat(added.address()).isEqualTo("127.0.0.1");
    assertThat(added.port()).isEqualTo(app.port());

    lb.enableHealth(BACKEND, "i-1").await();
    lb.setState(BACKEND, "i-1", AdminState.DRAIN).await();
    ServerState checked = Await.onTimers(vertx, () -> haproxy.server("i-1"), s -> s.checkStatus().equals("L7OK"), 5000)
        .await();
    assertThat(checked.draining()).isTrue();
    assertThat(checked.up()).isTrue();
    assertThat(checked.total()).as("a draining server gets no load-balanced traffic").isZero();

    lb.setState(BACKEND, "i-1", AdminState.READY).await();
    assertThat(TestBackend.get(http, haproxy.port(), "/").await()).isEqualTo(new TestBackend.Response(200, "app-1"));
    Future<TestBackend.Response> inFlight = TestBackend.get(http, haproxy.port(), "/slow");
    Await.onTimers(vertx, () -> haproxy.server("i-1"), s -> s.sessions() == 1, 2000).await();

    lb.setState(BACKEND, "i-1", AdminState.DRAIN).await();
    ServerState drained = Await.onTimers(vertx, () -> haproxy.server("i-1"), s -> s.sessions() == 0 && s.queued() == 0,
        5000).await();
    assertThat(inFlight.await()).as("drain lets the request in flight finish")
        .isEqualTo(new TestBackend.Response(200, "app-1"));
    assertThat(drained.total()).isEqualTo(2);
    assertThat(drained.http5xx()).isZero();

    lb.setState(BACKEND, "i-1", AdminState.MAINT).await();
    assertThat(lb.deleteServer(BACKEND, "i-1").await()).isEqualTo(Deleted.DELETED);
    assertThat(lb.servers(BACKEND).await()).isEmpty();
    assertThat(app.requests()).isEqualTo(2);
  }

  @Test
  void aServerWithARequestInFlightIsDeletedOnlyAfterItsSessionsAreShut(Vertx vertx) throws Exception {
    TestBackend app = TestBackend.start(vertx, "app-1").await();
    lb.addServer(BACKEND, "i-1", "127.0.0.1", app.port(), CHECK).await();
    lb.setState(BACKEND, "i-1", AdminState.READY).await();
    Future<TestBackend.Response> inFlight = TestBackend.get(http, haproxy.port(), "/slow");
    Await.onTimers(vertx, () -> haproxy.server("i-1"), s -> s.sessions() == 1, 2000).await();
    lb.setState(BACKEND, "i-1", AdminState.MAINT).await();

    assertThat(lb.deleteServer(BACKEND, "i-1").await()).isEqualTo(Deleted.STILL_CONNECTED);
    lb.shutdownSessions(BACKEND, "i-1").await();
    Await.onTimers(vertx, () -> lb.deleteServer(BACKEND, "i-1"), deleted -> deleted == Deleted.DELETED, 2000).await();
    assertThat(inFlight.await().status()).as("the shut request fails; it never reached the app a second time")
        .isBetween(500, 599);
    assertThat(app.requests()).isEqualTo(1);
  }

  @Test
  void aSecondAddOfTheSameNameAnswersAlreadyExists() throws Exception {
    assertThat(lb.addServer(BACKEND, "i-1", "10.1.2.3", 8080, CHECK).await()).isEqualTo(Added.REGISTERED);
    assertThat(lb.addServer(BACKEND, "i-1", "10.1.2.3", 8080, CHECK).await()).isEqualTo(Added.ALREADY_EXISTS);
    assertThat(lb.servers(BACKEND).await()).extracting(ServerState::name).containsExactly("i-1");
  }

  @Test
  void deletingAServerThatIsNotThereAnswersNoSuchServer() throws Exception {
    assertThat(lb.deleteServer(BACKEND, "i-404").await()).isEqualTo(Deleted.NO_SUCH_SERVER);
  }

  @Test
  void everyCommandOnAnUnknownBackendFailsWithHaproxysAnswer() throws Exception {
    assertThat(failure(lb.addServer("be_nope", "i-1", "10.1.2.3", 8080, CHECK)).reply()).isEqualTo(
        "No such backend.\n");
    assertThat(failure(lb.enableHealth("be_nope", "i-1")).reply()).startsWith("No such backend.\n");
    assertThat(failure(lb.setState("be_nope", "i-1", AdminState.READY)).reply()).startsWith("No such backend.\n");
    assertThat(failure(lb.deleteServer("be_nope", "i-1")).reply()).isEqualTo("No such backend.\n");
    HaproxyException servers = failure(lb.servers("be_nope"));
    assertThat(servers.command()).isEqualTo("show servers state be_nope");
    assertThat(servers.reply()).isEqualTo("Can't find backend.\n\n");
  }

  @Test
  void commandsOnAnUnknownServerFailWithNoSuchServer() throws Exception {
    assertThat(failure(lb.enableHealth(BACKEND, "i-404")).reply()).isEqualTo("No such server.\n\n");
    assertThat(failure(lb.setState(BACKEND, "i-404", AdminState.DRAIN)).reply()).isEqualTo("No such server.\n\n");
    assertThat(failure(lb.shutdownSessions(BACKEND, "i-404")).reply()).isEqualTo("No such server.\n\n");
  }

  @Test
  void fiftyAddsAtOnceThroughOneClientAreAllRegistered() throws Exception {
    List<Future<Added>> adds = IntStream.range(0, 50)
        .mapToObj(i -> lb.addServer(BACKEND, "i-" + i, "10.0.0." + (i + 1), 8080, CHECK)).toList();
    Future.join(adds).await(20, TimeUnit.SECONDS);
    assertThat(adds).extracting(Future::result).containsOnly(Added.REGISTERED).hasSize(50);
    List<ServerState> servers = lb.servers(BACKEND).await();
    assertThat(servers).extracting(ServerState::name).doesNotHaveDuplicates().hasSize(50);
    assertThat(servers).extracting(ServerState::address).contains("10.0.0.1", "10.0.0.50");
  }

  @Test
  void infoNamesTheProcessTheSupervisorStarted() throws Exception {
    Haproxy.Info info = lb.info().await();
    assertThat(info.pid()).isEqualTo(haproxy.supervisor.pid());
    assertThat(info.version()).startsWith("2.6.");
    assertThat(info.uptimeSeconds()).isBetween(0L, 60L);
  }

  /** The HaproxyException the future failed with (waits up to 10 s). */
  static HaproxyException failure(Future<?> future) throws TimeoutException {
    Throwable cause = future.<Throwable>transform(done -> Future.succeededFuture(done.cause()))
        .await(10, TimeUnit.SECONDS);
    assertThat(cause).as("the command's failure").isInstanceOf(HaproxyException.class);
    return (HaproxyException) cause;
  }
}
