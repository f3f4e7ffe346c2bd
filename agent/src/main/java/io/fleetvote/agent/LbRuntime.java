package io.fleetvote.agent;

import io.fleetvote.agent.lb.Haproxy;
import io.fleetvote.agent.lb.DbBackends;
import io.fleetvote.agent.lb.HaproxyClient;
import io.fleetvote.agent.lb.HaproxyConfig;
import io.fleetvote.agent.lb.HaproxySupervisor;
import io.fleetvote.agent.lb.LbOptions;
import io.fleetvote.agent.lb.LbRegistrar;
import io.fleetvote.common.imds.InstanceIdentity;
import io.vertx.core.Future;
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
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Role {@code lb}: what an LB agent keeps for as long as its process lives, whatever happens to its cluster
 * membership (a small Vert.x of its own, the HAProxy client, the registrar and, when the agent runs HAProxy itself,
 * the supervisor that renders the configuration and restarts HAProxy when it dies); on each clustered Vert.x the
 * {@link LbVerticle}, told of every later start of HAProxy.
 */
final class LbRuntime implements RoleRuntime {

  private static final Logger LOG = LoggerFactory.getLogger(LbRuntime.class);
  /** A unix socket path longer than this does not fit in sockaddr_un. */
  private static final int MAX_SOCKET_PATH = 100;

  private final InstanceIdentity identity;
  private final AgentOptions options;
  private final Clock clock;
  private Vertx vertx;
  private LbRegistrar registrar;
  private HaproxySupervisor supervisor;
  /** The DB pair's backends, when this LB has DB ports. */
  private DbBackends db;
  /** The LB verticle of the current cluster membership, which a restarted HAProxy must reach. */
  private final AtomicReference<LbVerticle> current = new AtomicReference<>();

  LbRuntime(InstanceIdentity identity, AgentOptions options, Clock clock) {
    this.identity = identity;
    this.options = options;
    this.clock = clock;
  }

  /** Renders the configuration and starts HAProxy (when the agent runs it); blocks until it answers. */
  @Override
  public void start() {
    LbOptions lb = options.getLb();
    vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(2));
    Haproxy haproxy;
    if (lb.getHaproxyDir() != null) {
      Path dir = Path.of(lb.getHaproxyDir());
      Path socket = socketPath(dir, identity.instanceId());
      Path config = dir.resolve("haproxy.cfg");
      try {
        Files.createDirectories(dir);
        HaproxyConfig rendered = new HaproxyConfig(socket, lb.getFrontendPort())
            .setBindAddress(lb.getFrontendAddress() == null ? identity.privateIp() : lb.getFrontendAddress())
            .setFrontend(lb.frontend())
            .setBackend(lb.backend())
            .setOpenBackend(lb.openBackend());
        if (lb.getDbWritePort() != 0) {
          rendered.setDbPorts(lb.getDbWritePort(), lb.getDbReadPort());
        }
        rendered.write(config);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot write HAProxy's configuration to " + config, e);
      }
      haproxy = new HaproxyClient(vertx, SocketAddress.domainSocketAddress(socket.toString()));
      supervisor = new HaproxySupervisor(vertx, config, dir.resolve("haproxy.log"), haproxy);
    } else {
      haproxy = new HaproxyClient(vertx, SocketAddress.domainSocketAddress(lb.getSocket()));
    }
    Promise<LbRegistrar> created = Promise.promise();
    vertx.runOnContext(x -> created.complete(new LbRegistrar(vertx, haproxy, lb, identity.instanceId(), clock)));
    registrar = created.future().await();
    if (lb.getDbWritePort() != 0) {
      Haproxy client = haproxy;
      Promise<DbBackends> made = Promise.promise();
      vertx.runOnContext(x -> made.complete(new DbBackends(vertx, client, identity.instanceId(), lb)));
      db = made.future().await();
    }
    if (supervisor != null) {
      supervisor.onStart(info -> {
        LOG.info("{}: HAProxy {} up (pid {})", identity.instanceId(), info.version(), info.pid());
        LbVerticle verticle = current.get();
        if (verticle != null) {
          verticle.haproxyStarted();
        }
        if (db != null) {
          db.haproxyStarted();
        }
      });
      supervisor.start().await();
    }
  }

  LbRegistrar registrar() {
    return registrar;
  }

  /** The LB verticle, when in a fleet: it announces the LB and answers registrations, which need the fleet. */
  @Override
  public Future<?> deploy(Vertx vertx, Optional<AgentBus> fleet) {
    if (fleet.isEmpty()) {
      return Future.succeededFuture();
    }
    LbVerticle lb = new LbVerticle(identity, options, registrar, clock).withBus(fleet.get()).withDb(db);
    return vertx.deployVerticle(lb).onSuccess(x -> current.set(lb));
  }

  /** Stops HAProxy (when the agent runs it) and the runtime's Vert.x. */
  @Override
  public void stop() {
    if (vertx == null) {
      return;
    }
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
