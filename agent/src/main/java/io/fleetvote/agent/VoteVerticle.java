package io.fleetvote.agent;

import io.fleetvote.agent.load.LoadSample;
import io.fleetvote.agent.load.LoadSensor;
import io.fleetvote.common.Addresses;
import io.fleetvote.common.imds.InstanceIdentity;
import io.fleetvote.common.msg.Vote;
import io.fleetvote.common.msg.VoteKind;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.micrometer.backends.BackendRegistries;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Instant;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * An app agent's vote. Samples the {@link LoadSensor} at start and then every {@code sampleMs}, on a worker thread
 * and never two readings at once, and feeds each sample to a {@link VotePolicy}. When clustered it publishes the
 * {@link Vote} on {@link Addresses#VOTES} every gossip period, and at once when the vote or warmth changes; each
 * vote is a lease of {@link Vote#leaseMillis} (three gossip periods and the link's lease, so that a move to
 * another coordinator does not drop it). While the sensor cannot read, nothing is published: the
 * lease lapses rather than a load nobody measured being counted. Meters: {@code fleetvote_agent_load} (percent, NaN
 * while missing), {@code fleetvote_agent_vote} (1 grow, 0 none, -1 shrink), {@code fleetvote_agent_votes_sent_total}.
 */
final class VoteVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(VoteVerticle.class);

  private final InstanceIdentity identity;
  private final AgentOptions options;
  private final LoadSensor sensor;
  private final long startedAt;
  private final Clock clock;
  private VotePolicy policy;
  private volatile VotePolicy.Decision latest;
  private boolean sampling;
  private Counter sent;
  private AgentBus bus;
  /** In a fleet (a bus given): votes are published; a standalone agent only decides them. */
  private boolean publishing;

  VoteVerticle(InstanceIdentity identity, AgentOptions options, LoadSensor sensor, long startedAt, Clock clock) {
    this.identity = identity;
    this.options = options;
    this.sensor = sensor;
    this.startedAt = startedAt;
    this.clock = clock;
  }

  /** The bus to publish votes on (the agent's link when it has coordinators); never given: no votes published. */
  VoteVerticle withBus(AgentBus bus) {
    this.bus = bus;
    return this;
  }

  @Override
  public Future<?> start() {
    publishing = bus != null;
    // A new policy per deployment: a Vert.x rebuilt after losing the cluster starts its runs afresh, as a gap in
    // the samples would. The warm-up still counts from the agent's start.
    policy = new VotePolicy(options.votePolicy(), Instant.ofEpochMilli(startedAt), clock);
    MeterRegistry registry = Objects.requireNonNullElseGet(BackendRegistries.getDefaultNow(), SimpleMeterRegistry::new);
    Gauge.builder("fleetvote.agent.load", this, VoteVerticle::load).baseUnit("percent")
        .description("CPU load the vote is based on, percent of the sensor's cores (NaN while it cannot read)")
        .register(registry);
    Gauge.builder("fleetvote.agent.vote", this, VoteVerticle::voteValue)
        .description("This instance's vote: 1 grow, 0 none, -1 shrink").register(registry);
    sent = Counter.builder("fleetvote.agent.votes.sent").description("Votes this agent published on the event bus")
        .register(registry);
    sample();
    vertx.setPeriodic(options.getSampleMs(), id -> sample());
    if (publishing) {
      vertx.setPeriodic(options.getGossipPeriodMs(), id -> publish());
    }
    VotePolicy.Settings settings = policy.settings();
    LOG.info("{}: sampling {} every {} ms; grow above {} % for {} ms, shrink below {} % for {} ms, warm-up {} ms; {}",
        identity.instanceId(), sensor, options.getSampleMs(), settings.growAbove(), settings.growAfter().toMillis(),
        settings.shrinkBelow(), settings.shrinkAfter().toMillis(), settings.warmup().toMillis(),
        publishing ? "votes on " + Addresses.VOTES + " every " + options.getGossipPeriodMs() + " ms"
            : "standalone, so no votes are published");
    return Future.succeededFuture();
  }

  /** The vote as of the latest sample; empty before the first. Read from any thread. */
  Optional<VotePolicy.Decision> latest() {
    return Optional.ofNullable(latest);
  }

  private void sample() {
    if (sampling) {
      return;
    }
    sampling = true;
    vertx.executeBlocking(sensor::sample, false)
        .recover(failure -> Future.succeededFuture(LoadSample.missing(clock.instant(), "the sensor failed: " + failure)))
        .onSuccess(this::record)
        .onComplete(done -> sampling = false);
  }

  private void record(LoadSample sample) {
    VotePolicy.Decision before = latest;
    VotePolicy.Decision now = policy.record(sample);
    latest = now;
    if (sample.isMissing() && (before == null || !sample.problem().equals(before.sample().problem()))) {
      LOG.info("{}: load not measured: {}", identity.instanceId(), sample.problem());
    } else if (!sample.isMissing() && before != null && before.sample().isMissing()) {
      LOG.info("{}: load measured: {} %", identity.instanceId(), percent(sample.cpuPercent()));
    }
    if (before == null || before.vote() != now.vote() || before.warm() != now.warm()) {
      LOG.info("{}: vote {}{} at load {}", identity.instanceId(), now.vote().name().toLowerCase(Locale.ROOT),
          now.warm() ? "" : " (warming up)", sample.isMissing() ? "unknown" : percent(sample.cpuPercent()) + " %");
      if (publishing) {
        publish();
      }
    }
  }

  private void publish() {
    VotePolicy.Decision decision = latest;
    if (decision == null || decision.sample().isMissing()) {
      return;
    }
    Vote vote = new Vote(identity.instanceId(), options.getDeployment(), options.getGroup(), decision.vote(),
        Math.min(decision.sample().cpuPercent(), Vote.MAX_LOAD), decision.warm(), options.isProtectedFromScaleIn(),
        startedAt, clock.millis(), Vote.leaseMillis(options.getGossipPeriodMs(), bus.moveMillis()));
    // Counted first: whoever hears the vote may already look at the count.
    sent.increment();
    bus.publish(Addresses.VOTES, vote.toJson());
  }

  private double load() {
    VotePolicy.Decision decision = latest;
    return decision == null ? Double.NaN : decision.sample().cpuPercent();
  }

  private double voteValue() {
    VotePolicy.Decision decision = latest;
    VoteKind vote = decision == null ? VoteKind.NONE : decision.vote();
    return switch (vote) {
      case GROW -> 1;
      case SHRINK -> -1;
      case NONE -> 0;
    };
  }

  private static String percent(double value) {
    return String.format(Locale.ROOT, "%.1f", value);
  }
}
