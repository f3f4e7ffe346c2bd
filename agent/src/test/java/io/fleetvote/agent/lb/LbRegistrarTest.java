package io.fleetvote.agent.lb;

import io.fleetvote.agent.check.AgentCheckVerticle;
import io.fleetvote.agent.lb.BackendPlan.Endpoint;
import io.fleetvote.common.msg.RegistrationReply;
import io.fleetvote.common.msg.RegistrationReply.Outcome;
import io.fleetvote.testkit.Await;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/** The registrar's register and deregister sequences against a real HAProxy, and against a socket that is wrong. */
@ExtendWith(VertxExtension.class)
class LbRegistrarTest {

  private static final String APP = "i-0000000000000a001";

  @TempDir
  Path dir;

  @Test
  void registeredAfterItsFirstPassingCheckThenDrainedAndDeleted(Vertx vertx) throws Exception {
    HttpServer app = app(vertx);
    try (TestHaproxy haproxy = TestHaproxy.started(vertx, dir)) {
      LbRegistrar registrar = registrar(vertx, haproxy.config.getAdminSocket());
      RegistrationReply ready = registrar.register(APP, new Endpoint("127.0.0.1", app.actualPort())).await(10, TimeUnit.SECONDS);
      assertThat(ready.outcome()).isEqualTo(Outcome.READY);
      assertThat(ready.message()).contains("first check passed");
      ServerState server = haproxy.server(APP).await();
      assertThat(server.up()).isTrue();
      assertThat(server.draining()).isFalse();
      assertThat(server.checkStatus()).startsWith("L7OK");
      assertThat(get(vertx, haproxy.port(), "/").await()).isEqualTo("served by the app");

      RegistrationReply again = registrar.register(APP, new Endpoint("127.0.0.1", app.actualPort())).await(10, TimeUnit.SECONDS);
      assertThat(again.outcome()).isEqualTo(Outcome.READY);
      assertThat(again.message()).contains("already in the backend");
      assertThat(haproxy.client.servers(TestHaproxy.BACKEND).await()).hasSize(1);

      RegistrationReply deleted = registrar.deregister(APP, 5000).await(10, TimeUnit.SECONDS);
      assertThat(deleted.outcome()).isEqualTo(Outcome.DELETED);
      assertThat(deleted.message()).isEqualTo("Server deleted.");
      assertThat(haproxy.server(APP).await()).isNull();
      RegistrationReply second = registrar.deregister(APP, 5000).await(10, TimeUnit.SECONDS);
      assertThat(second.outcome()).as("a second request (the agent's, after the reconcile's) gets the drain's answer")
          .isEqualTo(Outcome.DELETED);
      assertThat(second.message()).contains("a moment before");
      assertThat(registrar.deregister("i-0000000000000b002", 5000).await(10, TimeUnit.SECONDS).outcome())
          .isEqualTo(Outcome.NOT_REGISTERED);
    } finally {
      app.close().await();
    }
  }

  @Test
  void aRequestLongerThanTheDrainTimeoutHasItsSessionShutAndTheServerIsDeletedAllTheSame(Vertx vertx)
      throws Exception {
    HttpServer app = app(vertx);
    try (TestHaproxy haproxy = TestHaproxy.started(vertx, dir)) {
      LbRegistrar registrar = registrar(vertx, haproxy.config.getAdminSocket());
      registrar.register(APP, new Endpoint("127.0.0.1", app.actualPort())).await(10, TimeUnit.SECONDS);
      Future<String> slow = get(vertx, haproxy.port(), "/slow");
      awaitSessions(haproxy, 1);
      RegistrationReply forced = registrar.deregister(APP, 300).await(10, TimeUnit.SECONDS);
      assertThat(forced.outcome()).isEqualTo(Outcome.FORCED);
      assertThat(forced.message()).contains("sessions shut after 300 ms of drain");
      assertThat(haproxy.server(APP).await()).isNull();
      assertThat(slow.transform(r -> Future.succeededFuture(r.failed())).await()).as("the cut request failed")
          .isTrue();
    } finally {
      app.close().await();
    }
  }

  @Test
  void aSocketThatAnswersGarbageOrIsGoneFailsTheRegistrationByNameAndTheRegistrarGoesOn(Vertx vertx)
      throws Exception {
    HttpServer app = app(vertx);
    Path path = dir.resolve("admin.sock");
    FakeAdminSocket garbage = FakeAdminSocket.start(vertx, path, "hello\n", 1).await();
    LbRegistrar registrar = registrar(vertx, path);
    try {
      RegistrationReply failed = registrar.register(APP, new Endpoint("127.0.0.1", app.actualPort())).await(10, TimeUnit.SECONDS);
      assertThat(failed.outcome()).isEqualTo(Outcome.FAILED);
      assertThat(failed.message()).contains("show servers state be_web", "hello");
      garbage.close().await();
      Files.deleteIfExists(path);

      RegistrationReply gone = registrar.register(APP, new Endpoint("127.0.0.1", app.actualPort())).await(10, TimeUnit.SECONDS);
      assertThat(gone.outcome()).isEqualTo(Outcome.FAILED);
      assertThat(gone.message()).contains("cannot connect to HAProxy's admin socket " + path);
      assertThat(registrar.deregister(APP, 1000).await(10, TimeUnit.SECONDS).outcome()).isEqualTo(Outcome.FAILED);

      try (TestHaproxy haproxy = TestHaproxy.started(vertx, dir)) {
        assertThat(haproxy.config.getAdminSocket()).isEqualTo(path);
        assertThat(registrar.register(APP, new Endpoint("127.0.0.1", app.actualPort())).await(10, TimeUnit.SECONDS).outcome())
            .as("the same registrar, once HAProxy answers").isEqualTo(Outcome.READY);
      }
    } finally {
      app.close().await();
    }
  }

  @Test
  void theAgentCheckSetsTheWeightADeadAppIsTakenOutAndTheServerIsDeletedAllTheSame(Vertx vertx) throws Exception {
    HttpServer app = app(vertx);
    AtomicReference<String> says = new AtomicReference<>("up 30%\n");
    AgentCheckVerticle agent = new AgentCheckVerticle(APP, "127.0.0.1", 0, says::get, Clock.systemUTC());
    vertx.deployVerticle(agent).await();
    try (TestHaproxy haproxy = TestHaproxy.started(vertx, dir)) {
      LbRegistrar registrar = registrar(vertx, haproxy.config.getAdminSocket());
      RegistrationReply ready = registrar.register(APP, new Endpoint("127.0.0.1", app.actualPort(), agent.port()))
          .await(10, TimeUnit.SECONDS);
      assertThat(ready.outcome()).isEqualTo(Outcome.READY);
      Await.onTimers(vertx, () -> haproxy.server(APP), s -> s.weight() == 30, 10_000).await();
      assertThat(get(vertx, haproxy.port(), "/").await()).as("a busy instance still serves")
          .isEqualTo("served by the app");

      says.set("down #app refuses connections\n");
      ServerState down = Await.onTimers(vertx, () -> haproxy.server(APP), s -> !s.up(), 10_000).await();
      assertThat(down.weight()).isEqualTo(30);
      says.set("up 100%\n");
      Await.onTimers(vertx, () -> haproxy.server(APP), s -> s.up() && s.weight() == 100, 10_000).await();

      RegistrationReply deleted = registrar.deregister(APP, 5000).await(10, TimeUnit.SECONDS);
      assertThat(deleted.outcome()).as(deleted.message()).isEqualTo(Outcome.DELETED);
      assertThat(haproxy.server(APP).await()).isNull();
      assertThat(haproxy.client.servers(HaproxyConfig.DEFAULT_OPEN_BACKEND).await()).isEmpty();
    } finally {
      app.close().await();
    }
  }

  @Test
  void whenNoServerPassesItsHealthCheckHaproxyFailsOpenToThoseThatAcceptConnectionsAndSaysSo(Vertx vertx)
      throws Exception {
    AtomicBoolean sick = new AtomicBoolean();
    HttpServer first = app(vertx, sick);
    HttpServer second = app(vertx, sick);
    HttpServer dead = app(vertx, sick);
    try (TestHaproxy haproxy = TestHaproxy.started(vertx, dir)) {
      LbRegistrar registrar = registrar(vertx, haproxy.config.getAdminSocket());
      String deadOne = "i-0000000000000a003";
      for (var entry : Map.of(APP, first, "i-0000000000000a002", second, deadOne, dead).entrySet()) {
        assertThat(registrar.register(entry.getKey(), new Endpoint("127.0.0.1", entry.getValue().actualPort()))
            .await(10, TimeUnit.SECONDS).outcome()).isEqualTo(Outcome.READY);
      }
      assertThat(registrar.status().await().failOpen()).isFalse();
      dead.close().await();
      sick.set(true);

      BackendStatus open = Await.onTimers(vertx, registrar::status, BackendStatus::failOpen, 10_000).await();
      assertThat(open.note()).contains("none of the 3 server(s) of be_web passes its health check", "L7STS",
          "routes to the 2 that accept connections");
      Await.onTimers(vertx, registrar::status, s -> s.open().stream().noneMatch(o -> o.name().equals(deadOne) && o.up()),
          10_000).await();
      for (int i = 0; i < 20; i++) {
        assertThat(get(vertx, haproxy.port(), "/").await()).as("request " + i + " while every check fails")
            .isEqualTo("served by the app");
      }

      sick.set(false);
      BackendStatus healed = Await.onTimers(vertx, registrar::status, s -> !s.failOpen(), 10_000).await();
      assertThat(healed.note()).isEmpty();
      assertThat(get(vertx, haproxy.port(), "/").await()).isEqualTo("served by the app");
    } finally {
      first.close().await();
      second.close().await();
    }
  }

  private static LbRegistrar registrar(Vertx vertx, Path socket) {
    LbOptions options = new LbOptions(new JsonObject().put("serves", "web").put("socket", socket.toString())
        .put("checkInterMs", 200).put("rise", 1));
    HaproxyClient client = new HaproxyClient(vertx, SocketAddress.domainSocketAddress(socket.toString()));
    return new LbRegistrar(vertx, client, options, "i-00000000000000lb1", Clock.systemUTC());
  }

  /** The app: {@code /health} and {@code /} answer at once, {@code /slow} after 10 s. */
  private static HttpServer app(Vertx vertx) {
    return app(vertx, new AtomicBoolean());
  }

  /** The same, its {@code /health} answering 500 while {@code sick} is set (all else keeps working). */
  private static HttpServer app(Vertx vertx, AtomicBoolean sick) {
    return vertx.createHttpServer().requestHandler(request -> {
      if (request.path().equals("/health") && sick.get()) {
        request.response().setStatusCode(500).end("sick");
      } else if (request.path().equals("/slow")) {
        vertx.setTimer(10_000, t -> request.response().end("slow"));
      } else {
        request.response().end("served by the app");
      }
    }).listen(0, "127.0.0.1").await();
  }

  private static Future<String> get(Vertx vertx, int port, String path) {
    HttpClient http = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(false));
    return http.request(HttpMethod.GET, port, "127.0.0.1", path)
        .compose(request -> request.send().compose(response -> response.statusCode() == 200 ? response.body()
            : Future.failedFuture("HTTP " + response.statusCode())))
        .map(Buffer::toString)
        .eventually(() -> http.close());
  }

  private static void awaitSessions(TestHaproxy haproxy, int sessions) {
    Await.until("a session on " + APP, Duration.ofSeconds(10), Duration.ofMillis(20),
        () -> haproxy.server(APP).await().sessions(), n -> n >= sessions);
  }
}
