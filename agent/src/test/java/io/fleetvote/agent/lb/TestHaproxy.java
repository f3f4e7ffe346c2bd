package io.fleetvote.agent.lb;

import io.fleetvote.common.net.FreePorts;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.SocketAddress;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A real HAProxy of the tests' own: rendered configuration with a free frontend port, admin socket and log in the
 * test's temporary directory, run by a {@link HaproxySupervisor}. {@link #close()} stops it, and kills whatever
 * HAProxy it started that is still there, whether the test passed or not.
 */
final class TestHaproxy implements AutoCloseable {

  static final String BACKEND = HaproxyConfig.DEFAULT_BACKEND;
  /** Fast checks, so a first check passes about 100 ms (one downinter) after enable health. */
  static final Haproxy.CheckSettings CHECK = new Haproxy.CheckSettings(200, 100, 1, 2);

  final HaproxyConfig config;
  final Path configFile;
  final Path logFile;
  final HaproxyClient client;
  final HaproxySupervisor supervisor;
  /** Every start the supervisor announced, in order. */
  final List<Haproxy.Info> starts = new CopyOnWriteArrayList<>();

  TestHaproxy(Vertx vertx, Path dir, int port) throws IOException {
    this(vertx, dir, new HaproxyConfig(dir.resolve("admin.sock"), port));
  }

  TestHaproxy(Vertx vertx, Path dir, HaproxyConfig config) throws IOException {
    this.config = config;
    configFile = config.write(dir.resolve("haproxy.cfg"));
    logFile = dir.resolve("haproxy.log");
    client = new HaproxyClient(vertx, SocketAddress.domainSocketAddress(config.getAdminSocket().toString()));
    supervisor = new HaproxySupervisor(vertx, configFile, logFile, client,
        new HaproxySupervisorOptions().setSoftStopMs(2000)).onStart(starts::add);
  }

  static TestHaproxy started(Vertx vertx, Path dir) throws IOException, TimeoutException {
    TestHaproxy haproxy = new TestHaproxy(vertx, dir, FreePorts.pick());
    haproxy.supervisor.start().await(20, TimeUnit.SECONDS);
    return haproxy;
  }

  /** With the DB pair's write and read frontends too, on free ports. */
  static TestHaproxy startedWithDb(Vertx vertx, Path dir) throws IOException, TimeoutException {
    TestHaproxy haproxy = new TestHaproxy(vertx, dir, new HaproxyConfig(dir.resolve("admin.sock"), FreePorts.pick())
        .setDbPorts(FreePorts.pick(), FreePorts.pick()));
    haproxy.supervisor.start().await(20, TimeUnit.SECONDS);
    return haproxy;
  }

  int port() {
    return config.getPort();
  }

  Future<ServerState> server(String name) {
    return client.servers(BACKEND).map(servers -> servers.stream().filter(s -> s.name().equals(name)).findFirst()
        .orElse(null));
  }

  @Override
  public void close() throws TimeoutException {
    try {
      supervisor.stop().await(30, TimeUnit.SECONDS);
    } finally {
      for (Haproxy.Info start : starts) {
        ProcessHandle.of(start.pid())
            .filter(p -> p.info().command().map(c -> c.endsWith("haproxy")).orElse(false))
            .ifPresent(ProcessHandle::destroyForcibly);
      }
      client.close().await(5, TimeUnit.SECONDS);
    }
  }
}
