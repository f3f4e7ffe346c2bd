package io.fleetvote.agent;

import io.fleetvote.common.Addresses;
import io.fleetvote.common.imds.InstanceIdentity;
import io.fleetvote.common.msg.AgentHeartbeat;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.micrometer.backends.BackendRegistries;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.Objects;

/**
 * Publishes this agent's {@link AgentHeartbeat} on {@link Addresses#AGENT_HEARTBEATS}: once at start, so the
 * cluster learns of a new instance at once, then every gossip period. Counts them in
 * {@code fleetvote_agent_heartbeats_sent_total}.
 */
final class HeartbeatVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(HeartbeatVerticle.class);

  private final InstanceIdentity identity;
  private final AgentOptions options;
  private final long startedAt;
  private final Clock clock;
  private final InstanceState state;
  private Counter sent;
  private AgentBus bus;

  HeartbeatVerticle(InstanceIdentity identity, AgentOptions options, long startedAt, Clock clock, InstanceState state) {
    this.state = state;
    this.identity = identity;
    this.options = options;
    this.startedAt = startedAt;
    this.clock = clock;
  }

  /** The bus to talk to the fleet on (the agent's link when it has coordinators); the local bus if never given. */
  HeartbeatVerticle withBus(AgentBus bus) {
    this.bus = bus;
    return this;
  }

  @Override
  public Future<?> start() {
    if (bus == null) {
      bus = AgentBus.local(vertx);
    }
    // Without metrics (tools, some tests) there is no default registry: count into one nobody scrapes.
    MeterRegistry registry = Objects.requireNonNullElseGet(BackendRegistries.getDefaultNow(), SimpleMeterRegistry::new);
    sent = Counter.builder("fleetvote.agent.heartbeats.sent")
        .description("Heartbeats this agent published on the event bus")
        .register(registry);
    publish();
    // A coordinator that takes the agent hears of it at once, not a gossip period later.
    bus.onConnected(this::publish);
    vertx.setPeriodic(options.getGossipPeriodMs(), id -> publish());
    LOG.info("{}: publishing heartbeats on {} every {} ms", identity.instanceId(), Addresses.AGENT_HEARTBEATS,
        options.getGossipPeriodMs());
    return Future.succeededFuture();
  }

  private void publish() {
    AgentHeartbeat heartbeat = new AgentHeartbeat(identity.instanceId(), options.getDeployment(), options.getGroup(),
        options.getRoles(), identity.privateIp(), options.getAppPort(), options.getAgentPort(), options.getCheckPort(),
        startedAt, clock.millis(), state.appReady(), options.getAppPort() == 0 ? "" : state.app().problem(), state.leaving());
    sent.increment();
    bus.publish(Addresses.AGENT_HEARTBEATS, heartbeat.toJson());
  }
}
