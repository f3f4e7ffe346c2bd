package io.fleetvote.agent;

import io.fleetvote.agent.link.CoordinatorLink;
import io.fleetvote.common.cluster.ClusterBootstrap;
import io.fleetvote.common.imds.BlockDevices;
import io.fleetvote.common.imds.InstanceMetadataClient;
import io.fleetvote.common.imds.InstanceIdentity;
import io.fleetvote.common.msg.Role;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The agent of one instance, once its identity and options are known: one {@link RoleRuntime} per role it holds
 * ({@link AppRuntime}, {@link LbRuntime}), and what every agent has, the HTTP endpoint and, when it has
 * coordinators, the heartbeat.
 * <ol>
 *   <li>Starts each role's runtime on the main thread (the app's load sensor, the LB's HAProxy).</li>
 *   <li>On its one small Vert.x ({@link #vertx()}, which read the identity), opens its one connection to a
 *   coordinator ({@link CoordinatorLink}: attested by the instance's identity document, it moves to another
 *   coordinator when that one goes) and meanwhile deploys the HTTP endpoint, each role's verticles and, when the
 *   options name coordinators, the heartbeat. Without
 *   coordinators the agent is standalone: it measures and answers on HTTP, and tells nobody.</li>
 *   <li>A shutdown hook lets each role leave (the app its LBs), closes the link and Vert.x, then stops each role's
 *   runtime (HAProxy).</li>
 * </ol>
 */
final class Agent {

  private static final Logger LOG = LoggerFactory.getLogger(Agent.class);
  private static final long SHUTDOWN_TIMEOUT_MS = 10_000;
  private static final int EVENT_LOOPS = 2;
  private static final int WORKERS = 2;

  private final InstanceIdentity identity;
  private final AgentOptions options;
  private final long startedAt;
  private final Clock clock;
  private final InstanceState state = new InstanceState();
  private final Optional<AppRuntime> app;
  private final Optional<LbRuntime> lb;
  /** In the order of {@link Role}: an app agent is voting before an LB on the same instance serves. */
  private final List<RoleRuntime> roles = new ArrayList<>();

  /** @param options resolved, the cluster's host already the instance's private IP */
  Agent(InstanceIdentity identity, AgentOptions options, long startedAt, Clock clock) {
    this.identity = identity;
    this.options = options;
    this.startedAt = startedAt;
    this.clock = clock;
    app = role(Role.APP, () -> new AppRuntime(identity, options, state, startedAt, clock));
    lb = role(Role.LB, () -> new LbRuntime(identity, options, clock));
    role(Role.DB, () -> new DbRuntime(identity.instanceId(), options.getDeployment(), options.getDb(),
        BlockDevices.deviceDir(), Path.of("/proc/mounts"), clock));
  }

  private <R extends RoleRuntime> Optional<R> role(Role role, Supplier<R> runtime) {
    if (!options.getRoles().contains(role)) {
      return Optional.empty();
    }
    R created = runtime.get();
    roles.add(created);
    return Optional.of(created);
  }

  /**
   * The one Vert.x of an agent, made before its identity is read (the same one reads it). An agent serves a few
   * requests a minute and samples once a second: Vert.x's defaults (2 event loops per core, 20 workers) only cost
   * memory on a big instance; Micrometer's JVM metrics give way to {@link ProcessMetrics}.
   */
  static Vertx vertx() {
    return ClusterBootstrap.standalone(ClusterBootstrap.withPrometheus(new VertxOptions()
        .setEventLoopPoolSize(EVENT_LOOPS).setWorkerPoolSize(WORKERS), false));
  }

  /**
   * Runs on the main thread, so it may wait on each step in turn; returns once the agent is up. The link to the
   * coordinators starts first, so that its TLS handshake and attestation overlap the verticles' deployment: what
   * they subscribe to is sent when they subscribe, and the heartbeat goes out when the link is welcomed.
   */
  void run(Vertx vertx) {
    roles.forEach(RoleRuntime::start);
    if (options.getCoordinators().linked()) {
      CoordinatorLink link = new CoordinatorLink(vertx, options.getCoordinators(), identity.instanceId(),
          new InstanceMetadataClient(vertx, InstanceMetadataClient.defaultEndpoint())::signedIdentity, nonce(),
          clock);
      onShutdown(() -> {
        try {
          link.close().await(2, TimeUnit.SECONDS);
        } catch (Exception e) {
          LOG.warn("{}: the link to the coordinators did not close within 2 s: {}", identity.instanceId(), describe(e));
        }
        close(vertx);
      });
      link.start();
      deploy(vertx, Optional.of(AgentBus.linked(vertx, link)), Optional.of(link)).await();
    } else {
      onShutdown(() -> close(vertx));
      deploy(vertx, Optional.empty(), Optional.empty()).await();
    }
  }

  /** The agent's attestation nonce, kept beside it from its first start on. */
  private String nonce() {
    try {
      return CoordinatorLink.nonce(Path.of(options.getCoordinators().nonceFile()));
    } catch (IOException e) {
      throw new IllegalStateException("cannot keep the agent's nonce in " + options.getCoordinators().nonceFile()
          + ": " + e.getMessage(), e);
    }
  }

  private void onShutdown(Runnable close) {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      roles.forEach(RoleRuntime::leave);
      close.run();
      roles.forEach(RoleRuntime::stop);
    }, "fleetvote-agent-shutdown"));
  }

  /**
   * Deploys the agent's verticles on {@code vertx}: the HTTP endpoint, each role's and, with a fleet bus, the
   * heartbeat.
   */
  private Future<?> deploy(Vertx vertx, Optional<AgentBus> fleet, Optional<CoordinatorLink> link) {
    Future<?> deployed = vertx.deployVerticle(new AgentApiVerticle(identity, options,
        () -> app.flatMap(AppRuntime::latestVote), state, lb.map(LbRuntime::registrar), link));
    for (RoleRuntime role : roles) {
      deployed = deployed.compose(previous -> role.deploy(vertx, fleet));
    }
    if (fleet.isPresent()) {
      // The roles' verticles first: the first heartbeat makes every LB announce itself at once, and the app's
      // registration verticle must be listening by then.
      deployed = deployed.compose(previous -> vertx.deployVerticle(new HeartbeatVerticle(identity, options, startedAt,
          clock, state).withBus(fleet.get())));
    }
    return deployed.onSuccess(done -> LOG.info("{}: agent up {} ms after its start, {} {} {} {}", identity.instanceId(),
        clock.millis() - startedAt, options.getDeployment(), options.getGroup(),
        AgentOptions.roleNames(options.getRoles()).encode(),
        options.getCoordinators().linked() ? "through its coordinators " + options.getCoordinators().addresses()
            : "standalone (no coordinators configured)"));
  }

  private void close(Vertx vertx) {
    String id = identity.instanceId();
    LOG.info("{}: shutting down", id);
    long began = System.nanoTime();
    try {
      vertx.close().await(SHUTDOWN_TIMEOUT_MS, TimeUnit.MILLISECONDS);
      LOG.info("{}: agent stopped in {} ms", id, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began));
    } catch (Exception e) {
      LOG.warn("{}: Vert.x did not close cleanly within {} ms: {}", id, SHUTDOWN_TIMEOUT_MS, e.toString());
    }
  }

  static String describe(Throwable e) {
    return e.getMessage() == null ? e.toString() : e.getMessage();
  }
}
