package io.fleetvote.agent;

import io.fleetvote.agent.lb.Haproxy;
import io.fleetvote.agent.lb.HaproxyClient;
import io.fleetvote.agent.lb.HaproxyConfig;
import io.fleetvote.agent.lb.HaproxySupervisor;
import io.fleetvote.agent.lb.LbOptions;
import io.fleetvote.agent.lb.LbRegistrar;
import io.fleetvote.common.imds.InstanceIdentity;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.net.SocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What an LB agent keeps for as long as its process lives, whatever happens to its cluster membership: a small Vert.x
 * of its own, the HAProxy client, the registrar and, when the agent runs HAProxy itself, the supervisor that renders
 * the configuration and restarts HAProxy when it dies.
 */
final class LbRuntime {

  private static final Logger LOG = LoggerFactory.getLogger(LbRuntime.class);
  /** A unix socket path longer than this does not fit in sockaddr_un. */
  private static final int MAX_SOCKET_PATH = 100;

  private final Vertx vertx;
  private final LbRegistrar registrar;
  private final HaproxySupervisor supervisor;
  private final List<Runnable> onStart = new ArrayList<>();

  private LbRuntime(Vertx vertx, LbRegistrar registrar, HaproxySupervisor supervisor) {
    this.vertx = vertx;
    this.registrar = registrar;
    this.supervisor = supervisor;
  }

  /** Renders the configuration and starts HAProxy (when the agent runs it); blocks until it answers. */
  static LbRuntime start(InstanceIdentity identity, LbOptions options, Clock clock) {
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(2));
    HaproxySupervisor supervisor = null;
    Haproxy haproxy;
    if (options.getHaproxyDir() != null) {
      Path dir = Path.of(options.getHaproxyDir());
      Path socket = socketPath(dir, identity.instanceId());
      Path config = dir.resolve("haproxy.cfg");
      try {
        Files.createDirectories(dir);
        new HaproxyConfig(socket, options.getFrontendPort())
            .setBindAddress(options.getFrontendAddress() == null ? identity.privateIp() : options.getFrontendAddress())
            .setFrontend(options.frontend())
            .setBackend(options.backend())
            .setOpenBackend(options.openBackend())
            .write(config);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot write HAProxy's configuration to " + config, e);
      }
      haproxy = new HaproxyClient(vertx, SocketAddress.domainSocketAddress(socket.toString()));
      supervisor = new HaproxySupervisor(vertx, config, dir.resolve("haproxy.log"), haproxy);
    } else {
      haproxy = new HaproxyClient(vertx, SocketAddress.domainSocketAddress(options.getSocket()));
    }
    Promise<LbRegistrar> created = Promise.promise();
    vertx.runOnContext(x -> created.complete(new LbRegistrar(vertx, haproxy, options, identity.instanceId(), clock)));
    LbRuntime runtime = new LbRuntime(vertx, created.future().await(), supervisor);
    if (supervisor != null) {
      supervisor.onStart(info -> {
        LOG.info("{}: HAProxy {} up (pid {})", identity.instanceId(), info.version(), info.pid());
        runtime.onStart.forEach(Runnable::run);
      });
      supervisor.start().await();
    }
    return runtime;
  }

  LbRegistrar registrar() {
    return registrar;
  }

  /** Runs {@code listener} after every later start of HAProxy (a restart after a crash). */
  void onHaproxyStart(Runnable listener) {
    onStart.add(listener);
  }

  /** Stops HAProxy (when the agent runs it) and the runtime's Vert.x. */
  void stop() {
    try {
      if (supervisor != null) {
        supervisor.stop().await(30, TimeUnit.SECONDS);
      }
      vertx.close().await(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.warn("HAProxy or the LB runtime did not stop cleanly: {}", e.toString());
    }
  }

  /** {@code dir/admin.sock}, or a short path under the temporary directory when that would be too long. */
  private static Path socketPath(Path dir, String instanceId) {
    Path socket = dir.toAbsolutePath().resolve("admin.sock");
    return socket.toString().length() <= MAX_SOCKET_PATH ? socket
        : Path.of(System.getProperty("java.io.tmpdir"), "fleetvote-haproxy-" + instanceId + ".sock");
  }
}
