package io.fleetvote.agent;

import io.fleetvote.agent.check.AgentCheckReply;
import io.fleetvote.agent.check.AgentCheckVerticle;
import io.fleetvote.agent.check.SmoothedLoad;
import io.fleetvote.agent.load.CgroupLoadSensor;
import io.fleetvote.agent.load.HostLoadSensor;
import io.fleetvote.agent.load.LoadSensor;
import io.fleetvote.agent.load.ProcessTreeLoadSensor;
import io.fleetvote.common.imds.InstanceIdentity;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * Role {@code app}: the load sensor, which outlives cluster memberships; on each Vert.x the vote, the agent-check
 * (when there is a check port) and, when clustered, the registration with the group's LBs, which it leaves on
 * SIGTERM.
 */
final class AppRuntime implements RoleRuntime {

  private static final Logger LOG = LoggerFactory.getLogger(AppRuntime.class);
  /** Beyond the drain timeout, for the HAProxy commands around the drain and the replies. */
  private static final long DRAIN_MARGIN_MS = 5_000;
  /** How slowly the weight HAProxy gets follows the load: a few samples, so it settles rather than swings. */
  private static final long WEIGHT_TIME_CONSTANT_MS = 3000;

  private final InstanceIdentity identity;
  private final AgentOptions options;
  private final InstanceState state;
  private final long startedAt;
  private final Clock clock;
  private LoadSensor sensor;
  /** The verticles of the current cluster membership that the API, the agent-check and SIGTERM need to reach. */
  private final AtomicReference<VoteVerticle> vote = new AtomicReference<>();
  private final AtomicReference<RegistrationVerticle> registration = new AtomicReference<>();

  AppRuntime(InstanceIdentity identity, AgentOptions options, InstanceState state, long startedAt, Clock clock) {
    this.identity = identity;
    this.options = options;
    this.state = state;
    this.startedAt = startedAt;
    this.clock = clock;
  }

  /** Sets up the configured sensor (OSHI reads {@code /proc} once). */
  @Override
  public void start() {
    sensor = switch (options.getSensor()) {
      case HOST -> new HostLoadSensor(clock);
      case PROCESS -> processTree();
      case CGROUP -> new CgroupLoadSensor(Path.of(options.getSensorPidFile()),
          LoadSensor.lazy(ProcessTreeLoadSensor.describe(Path.of(options.getSensorPidFile()), options.getSensorCores()),
              this::processTree), clock);
    };
  }

  private ProcessTreeLoadSensor processTree() {
    return new ProcessTreeLoadSensor(Path.of(options.getSensorPidFile()), options.getSensorCores(), clock);
  }

  /** The current vote verticle's latest decision, if it has made one. */
  Optional<VotePolicy.Decision> latestVote() {
    return Optional.ofNullable(vote.get()).flatMap(VoteVerticle::latest);
  }

  @Override
  public Future<?> deploy(Vertx vertx, Optional<AgentBus> fleet) {
    VoteVerticle voting = new VoteVerticle(identity, options, sensor, startedAt, clock);
    fleet.ifPresent(voting::withBus);
    vote.set(voting);
    Future<?> deployed = vertx.deployVerticle(voting);
    if (options.getCheckPort() > 0) {
      SmoothedLoad load = new SmoothedLoad(WEIGHT_TIME_CONSTANT_MS);
      Supplier<String> reply = () -> AgentCheckReply.of(state.leaving(), state.app().refusing(), load.update(
          latestVote().filter(d -> !d.sample().isMissing()).map(d -> d.sample().cpuPercent()).orElse(Double.NaN),
          clock.millis()));
      deployed = deployed.compose(previous -> vertx.deployVerticle(new AgentCheckVerticle(identity.instanceId(),
          identity.privateIp(), options.getCheckPort(), reply, clock)));
    }
    if (fleet.isPresent()) {
      RegistrationVerticle registering = new RegistrationVerticle(identity, options, state,
          options.getDrainTimeoutMs(), clock).withBus(fleet.get());
      deployed = deployed.compose(previous -> vertx.deployVerticle(registering))
          .onSuccess(x -> registration.set(registering));
      if (options.getDbClientFile() != null) {
        deployed = deployed.compose(previous -> vertx.deployVerticle(new DbClientVerticle(identity.instanceId(),
            options, fleet.get(), clock)));
      }
    }
    return deployed;
  }

  /** Takes the instance out of every LB gracefully before the agent and then the app stop. */
  @Override
  public void leave() {
    RegistrationVerticle registered = registration.get();
    if (registered == null) {
      return;
    }
    try {
      registered.leave(options.getDrainTimeoutMs())
          .await(options.getDrainTimeoutMs() + DRAIN_MARGIN_MS, TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      LOG.warn("{}: could not leave every LB before stopping: {}", identity.instanceId(), Agent.describe(e));
    }
  }
}
