package io.fleetvote.agent.lb;

import io.fleetvote.common.msg.DbRoute;
import io.fleetvote.testkit.Await;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The DB pair's backends on a real HAProxy, with TCP servers that answer their own name: the write port reaches the
 * route's master alone, and a new master replaces the old one without the write backend ever holding two; the
 * read port reaches the replicas; a deposed leader's older route is ignored; a route without a master empties the
 * write backend; a restarted HAProxy gets the last route again.
 */
class DbBackendsTest {

  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir
  Path dir;
  Vertx vertx;
  TestHaproxy haproxy;
  DbBackends backends;
  final List<NetServer> servers = new ArrayList<>();
  NetClient client;
  final Map<String, Integer> ports = new ConcurrentHashMap<>();
  /** The most servers the write backend was seen holding at once. */
  int mostWriteServers;

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    haproxy = TestHaproxy.startedWithDb(vertx, dir);
    client = vertx.createNetClient();
    LbOptions options = new LbOptions(new JsonObject().put("serves", "web").put("socket", "/unused")
        .put("checkInterMs", 200).put("checkDownInterMs", 100).put("rise", 1).put("fall", 2));
    backends = new DbBackends(vertx, haproxy.client, "i-000000000000000aa", options);
    for (String name : List.of("i-0000000000000000a", "i-0000000000000000b", "i-0000000000000000c")) {
      NetServer server = vertx.createNetServer().connectHandler(socket -> socket.write(name + "\n"));
      ports.put(name, server.listen(0, "127.0.0.1").await().actualPort());
      servers.add(server);
    }
  }

  @AfterEach
  void stop() throws Exception {
    if (haproxy != null) {
      haproxy.close();
    }
    vertx.close().await();
  }

  @Test
  void writesReachTheMasterAloneAndReadsTheReplicasAsTheNewestFencesRouteSays() throws Exception {
    backends.follow(route(1, "i-0000000000000000a", "i-0000000000000000b"));
    Await.until("writes to a", WAIT, () -> "i-0000000000000000a".equals(answer(haproxy.config.getDbWritePort())));
    Await.until("reads from b", WAIT, () -> "i-0000000000000000b".equals(answer(haproxy.config.getDbReadPort())));

    // A new master: the old one leaves before it comes, so the write backend never holds two.
    // One look at a time: on a busy machine, looks every 20 ms would queue up on the runtime API faster than HAProxy
    // answers them, and the test's own questions would wait behind them.
    AtomicBoolean looking = new AtomicBoolean();
    long watcher = vertx.setPeriodic(20, t -> {
      if (looking.compareAndSet(false, true)) {
        haproxy.client.servers(HaproxyConfig.DB_WRITE_BACKEND)
            .onSuccess(list -> mostWriteServers = Math.max(mostWriteServers, list.size()))
            .onComplete(x -> looking.set(false));
      }
    });
    backends.follow(route(2, "i-0000000000000000c", "i-0000000000000000b"));
    Await.until("writes to c", WAIT, () -> "i-0000000000000000c".equals(answer(haproxy.config.getDbWritePort())));
    assertThat(names(HaproxyConfig.DB_WRITE_BACKEND)).containsExactly("i-0000000000000000c");

    // A deposed leader's route (fence 1) changes nothing.
    backends.follow(route(1, "i-0000000000000000a", "i-0000000000000000b"));
    backends.follow(route(2, "i-0000000000000000c", "i-0000000000000000b")); // in order after it on the context
    Await.until("the route of fence 2 applied", WAIT, () -> backends.state().fence() == 2);
    assertThat(names(HaproxyConfig.DB_WRITE_BACKEND)).containsExactly("i-0000000000000000c");
    vertx.cancelTimer(watcher);
    assertThat(mostWriteServers).as("servers in the write backend at once").isEqualTo(1);

    // No master: nothing takes writes; reads go on.
    backends.follow(route(2, null, "i-0000000000000000b"));
    Await.until("no write server", WAIT, () -> names(HaproxyConfig.DB_WRITE_BACKEND).isEmpty());
    assertThat(answer(haproxy.config.getDbReadPort())).isEqualTo("i-0000000000000000b");

    // HAProxy restarted: its dynamic servers are gone until the last route is applied again.
    backends.follow(route(3, "i-0000000000000000a", "i-0000000000000000b"));
    Await.until("writes to a again", WAIT, () -> "i-0000000000000000a".equals(answer(
        haproxy.config.getDbWritePort())));
    int starts = haproxy.starts.size();
    ProcessHandle.of(haproxy.starts.get(starts - 1).pid()).ifPresent(ProcessHandle::destroyForcibly);
    Await.until("HAProxy restarted", WAIT, () -> haproxy.starts.size() > starts);
    backends.haproxyStarted();
    Await.until("writes to a after the restart", WAIT, () -> "i-0000000000000000a".equals(answer(
        haproxy.config.getDbWritePort())));
  }

  private DbRoute route(long fence, String master, String replica) {
    return new DbRoute("prod", "db", fence, System.currentTimeMillis(), master == null ? null : endpoint(master),
        List.of(endpoint(replica)));
  }

  private DbRoute.Endpoint endpoint(String name) {
    return new DbRoute.Endpoint(name, "127.0.0.1", ports.get(name));
  }

  private List<String> names(String backend) {
    return haproxy.client.servers(backend).await().stream().map(ServerState::name).toList();
  }

  /**
   * The first line a connection to the port answers; empty when it is refused or closed. The handlers are set on the
   * event loop as the connection completes, before its first read: set from this thread, a quick answer and close
   * could come before them and be missed.
   */
  private String answer(int port) {
    try {
      return client.connect(port, "127.0.0.1").compose(socket -> {
        Promise<String> line = Promise.promise();
        Buffer got = Buffer.buffer();
        socket.handler(data -> {
          got.appendBuffer(data);
          if (got.toString().contains("\n")) {
            line.tryComplete(got.toString().strip());
            socket.close();
          }
        });
        socket.closeHandler(x -> line.tryComplete(""));
        return line.future();
      }).timeout(10, TimeUnit.SECONDS).await();
    } catch (RuntimeException e) {
      return "";
    }
  }
}
