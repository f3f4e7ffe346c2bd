package io.fleetvote.agent.lb;

import io.fleetvote.agent.lb.Haproxy.AdminState;
import io.fleetvote.agent.lb.Haproxy.CheckSettings;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.SocketAddress;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.IntStream;

import static io.fleetvote.agent.lb.HaproxyClientTest.failure;
import static io.fleetvote.agent.lb.TestHaproxy.BACKEND;
import static io.fleetvote.agent.lb.TestHaproxy.CHECK;
import static org.assertj.core.api.Assertions.assertThat;

/** What the client does when the arguments, the socket or what answers on it are wrong. */
@ExtendWith(VertxExtension.class)
class HaproxyClientFaultsTest {

  @TempDir
  Path dir;

  @Test
  void badArgumentsAreRefusedAndNothingIsSent(Vertx vertx) throws Exception {
    FakeAdminSocket socket = FakeAdminSocket.start(vertx, dir.resolve("admin.sock"), "\n", 1).await();
    HaproxyClient lb = client(vertx, dir.resolve("admin.sock"), new HaproxyClientOptions());
    Map<String, Supplier<Future<?>>> bad = Map.ofEntries(
        Map.entry("ip", () -> lb.addServer(BACKEND, "i-1", "localhost", 8080, CHECK)),
        Map.entry("ip '0.0.0.0'", () -> lb.addServer(BACKEND, "i-1", "0.0.0.0", 8080, CHECK)),
        Map.entry("ip '10.0.0.256'", () -> lb.addServer(BACKEND, "i-1", "10.0.0.256", 8080, CHECK)),
        Map.entry("port 0 ", () -> lb.addServer(BACKEND, "i-1", "10.0.0.1", 0, CHECK)),
        Map.entry("port 70000 ", () -> lb.addServer(BACKEND, "i-1", "10.0.0.1", 70000, CHECK)),
        Map.entry("server name 'i 1'", () -> lb.addServer(BACKEND, "i 1", "10.0.0.1", 8080, CHECK)),
        Map.entry("server name 'i-1\\nshow info'", () -> lb.enableHealth(BACKEND, "i-1\nshow info")),
        Map.entry("server name 'i-1;shutdown sessions server be_web/i-2'",
            () -> lb.setState(BACKEND, "i-1;shutdown sessions server be_web/i-2", AdminState.MAINT)),
        Map.entry("backend 'be web'", () -> lb.servers("be web")),
        Map.entry("server name ''", () -> lb.deleteServer(BACKEND, "")),
        Map.entry("server name 'null'", () -> lb.shutdownSessions(BACKEND, null)),
        Map.entry("check inter (ms) 0 ", () -> lb.addServer(BACKEND, "i-1", "10.0.0.1", 8080,
            new CheckSettings(0, 100, 2, 2))),
        Map.entry("check downinter (ms) 50 ", () -> lb.addServer(BACKEND, "i-1", "10.0.0.1", 8080,
            new CheckSettings(1000, 50, 2, 2))),
        Map.entry("check rise 0 ", () -> lb.addServer(BACKEND, "i-1", "10.0.0.1", 8080,
            new CheckSettings(1000, 100, 0, 2))),
        Map.entry("check settings are missing", () -> lb.addServer(BACKEND, "i-1", "10.0.0.1", 8080, null)),
        Map.entry("state is missing", () -> lb.setState(BACKEND, "i-1", null)));
    for (Map.Entry<String, Supplier<Future<?>>> call : bad.entrySet()) {
      HaproxyException refused = failure(call.getValue().get());
      assertThat(refused.reply()).isNull();
      assertThat(refused.getMessage()).contains(call.getKey()).endsWith("; nothing was sent")
          .doesNotContain("\n");
    }
    assertThat(socket.commands()).isEmpty();

    lb.enableHealth(BACKEND, "i-1").await();
    assertThat(socket.commands()).containsExactly("enable health be_web/i-1");
  }

  @Test
  void aSocketThatAnswersGarbageFailsEveryCommandByNameAndTheClientGoesOnWithTheRealOne(Vertx vertx)
      throws Exception {
    Path path = dir.resolve("admin.sock");
    FakeAdminSocket garbage = FakeAdminSocket.start(vertx, path, "hello\n", 1).await();
    HaproxyClient lb = client(vertx, path, new HaproxyClientOptions());
    Map<String, Supplier<Future<?>>> commands = Map.of(
        "add server be_web/i-1 10.0.0.1:8080 check inter 200ms downinter 100ms rise 1 fall 2",
        () -> lb.addServer(BACKEND, "i-1", "10.0.0.1", 8080, CHECK),
        "enable health be_web/i-1", () -> lb.enableHealth(BACKEND, "i-1"),
        "set server be_web/i-1 state drain", () -> lb.setState(BACKEND, "i-1", AdminState.DRAIN),
        "shutdown sessions server be_web/i-1", () -> lb.shutdownSessions(BACKEND, "i-1"),
        "del server be_web/i-1", () -> lb.deleteServer(BACKEND, "i-1"),
        "show servers state be_web", () -> lb.servers(BACKEND),
        "show info", lb::info);
    for (Map.Entry<String, Supplier<Future<?>>> command : commands.entrySet()) {
      HaproxyException e = failure(command.getValue().get());
      assertThat(e.command()).isEqualTo(command.getKey());
      assertThat(e.reply()).isEqualTo("hello\n");
      assertThat(e.getMessage()).contains("'" + command.getKey() + "'", "hello");
    }
    garbage.close().await();
    Files.deleteIfExists(path);

    try (TestHaproxy real = TestHaproxy.started(vertx, dir)) {
      assertThat(real.config.getAdminSocket()).isEqualTo(path);
      assertThat(lb.info().await().pid()).isEqualTo(real.supervisor.pid());
      assertThat(lb.addServer(BACKEND, "i-1", "10.0.0.1", 8080, CHECK).await()).isEqualTo(Haproxy.Added.REGISTERED);
    }
  }

  @Test
  void aMissingSocketFailsAtOnceNamingItsPath(Vertx vertx) throws Exception {
    Path missing = dir.resolve("nope.sock");
    HaproxyClient lb = client(vertx, missing, new HaproxyClientOptions());
    long started = System.nanoTime();
    HaproxyException e = failure(lb.info());
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)).isLessThan(1000);
    assertThat(e.getMessage()).contains("cannot connect to HAProxy's admin socket " + missing, "is HAProxy running?");
    assertThat(e.reply()).isNull();
  }

  @Test
  void aSocketThatNeverAnswersTimesOutAndIsClosed(Vertx vertx) throws Exception {
    FakeAdminSocket silent = FakeAdminSocket.start(vertx, dir.resolve("admin.sock"), null, 0).await();
    HaproxyClient lb = client(vertx, dir.resolve("admin.sock"), new HaproxyClientOptions().setCommandTimeoutMs(300));
    long started = System.nanoTime();
    HaproxyException e = failure(lb.info());
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)).isBetween(300L, 2000L);
    assertThat(e.getMessage()).contains("no complete reply from " + dir.resolve("admin.sock") + " within 300 ms");
    assertThat(silent.commands()).containsExactly("show info");
  }

  @Test
  void noMoreThanMaxConnectionsAreOpenAtOnceAndTheRestWaitTheirTurn(Vertx vertx) throws Exception {
    FakeAdminSocket slow = FakeAdminSocket.start(vertx, dir.resolve("admin.sock"), "\n", 100).await();
    HaproxyClient lb = client(vertx, dir.resolve("admin.sock"), new HaproxyClientOptions().setMaxConnections(3));
    List<Future<Void>> calls = IntStream.range(0, 12).mapToObj(i -> lb.enableHealth(BACKEND, "i-" + i)).toList();
    Future.all(calls).await(10, TimeUnit.SECONDS);
    assertThat(slow.commands()).hasSize(12);
    assertThat(slow.maxOpen()).isEqualTo(3);
  }

  @Test
  void aLoopbackTcpAdminSocketWorksToo(Vertx vertx) throws Exception {
    FakeAdminSocket tcp = FakeAdminSocket.start(vertx, SocketAddress.inetSocketAddress(0, "127.0.0.1"),
        "Server deleted.\n", 1).await();
    HaproxyClient lb = new HaproxyClient(vertx, SocketAddress.inetSocketAddress(tcp.port(), "127.0.0.1"));
    assertThat(lb.address()).isEqualTo("127.0.0.1:" + tcp.port());
    assertThat(lb.deleteServer(BACKEND, "i-1").await()).isEqualTo(Haproxy.Deleted.DELETED);
  }

  private static HaproxyClient client(Vertx vertx, Path socket, HaproxyClientOptions options) {
    return new HaproxyClient(vertx, SocketAddress.domainSocketAddress(socket.toString()), options);
  }
}
