package io.fleetvote.agent;

import io.fleetvote.agent.load.LoadSample;
import io.fleetvote.agent.load.LoadSensor;
import io.fleetvote.common.Addresses;
import io.fleetvote.common.cluster.ClusterBootstrap;
import io.fleetvote.common.msg.Vote;
import io.fleetvote.common.msg.VoteKind;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Checkpoint;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.micrometer.backends.BackendRegistries;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Clock;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class VoteVerticleTest {

  private static final long STARTED_AT = System.currentTimeMillis();

  private Vertx agent;

  @AfterEach
  void closeNodes(VertxTestContext tc) {
    close(agent).onComplete(tc.succeedingThenComplete());
  }

  @Test
  void aStandaloneAgentVotesButPublishesNothing(VertxTestContext tc) {
    agent = Vertx.vertx();
    AtomicInteger readings = new AtomicInteger();
    VoteVerticle votes = new VoteVerticle(AgentApiVerticleTest.IDENTITY, eager(), () -> {
      readings.incrementAndGet();
      return LoadSample.measured(95, Double.NaN, Clock.systemUTC().instant());
    }, STARTED_AT, Clock.systemUTC());
    agent.eventBus().consumer(Addresses.VOTES, message -> tc.failNow("published " + message.body()));
    agent.deployVerticle(votes).onFailure(tc::failNow);
    agent.setPeriodic(20, id -> {
      if (readings.get() >= 4) {
        tc.verify(() -> {
          assertThat(votes.latest()).hasValueSatisfying(decision -> {
            assertThat(decision.vote()).isEqualTo(VoteKind.GROW);
            assertThat(decision.warm()).isTrue();
          });
          tc.completeNow();
        });
      }
    });
  }

  @Test
  void anAppAgentsVotesArriveOnItsFleetBusAsLeases(VertxTestContext tc) {
    AgentOptions options = eager().setProtectedFromScaleIn(true).setGossipPeriodMs(200);
    Checkpoint growVote = tc.laxCheckpoint();
    coordinatorAndAgent(options, () -> LoadSample.measured(95, Double.NaN, Clock.systemUTC().instant()),
        vote -> tc.verify(() -> {
          assertThat(vote.instanceId()).isEqualTo(AgentApiVerticleTest.IDENTITY.instanceId());
          assertThat(vote.deployment()).isEqualTo("demo");
          assertThat(vote.group()).isEqualTo("web");
          assertThat(vote.load()).isEqualTo(95.0);
          assertThat(vote.protectedFromScaleIn()).isTrue();
          assertThat(vote.leaseMillis()).isEqualTo(600);
          assertThat(vote.startedAt()).isEqualTo(STARTED_AT);
          if (vote.vote() == VoteKind.GROW) {
            MeterRegistry meters = BackendRegistries.getDefaultNow();
            assertThat(meters.get("fleetvote.agent.votes.sent").counter().count()).isGreaterThanOrEqualTo(1);
            assertThat(meters.get("fleetvote.agent.vote").gauge().value()).isEqualTo(1);
            assertThat(meters.get("fleetvote.agent.load").gauge().value()).isEqualTo(95);
            growVote.flag();
          }
        })).onFailure(tc::failNow);
  }

  @Test
  void aChangedVoteIsPublishedAtOnceNotAtTheNextRenewal(VertxTestContext tc) {
    AtomicInteger readings = new AtomicInteger();
    LoadSensor idleThenBusy = () -> LoadSample.measured(readings.incrementAndGet() <= 3 ? 10 : 95, Double.NaN,
        Clock.systemUTC().instant());
    List<VoteKind> received = new CopyOnWriteArrayList<>();
    Checkpoint shrinkThenGrow = tc.laxCheckpoint();
    coordinatorAndAgent(eager().setGossipPeriodMs(60_000), idleThenBusy, vote -> tc.verify(() -> {
      received.add(vote.vote());
      if (vote.vote() == VoteKind.GROW) {
        assertThat(received).as("no renewal within a 60 s gossip period, only changes")
            .containsExactly(VoteKind.SHRINK, VoteKind.GROW);
        shrinkThenGrow.flag();
      }
    })).onFailure(tc::failNow);
  }

  /** A listener on the votes address of the agent's fleet bus (a local one here), then {@link VoteVerticle}. */
  private Future<?> coordinatorAndAgent(AgentOptions options, LoadSensor sensor, Consumer<Vote> onVote) {
    agent = Vertx.vertx(ClusterBootstrap.withPrometheus(new VertxOptions()));
    return agent.eventBus().<JsonObject>consumer(Addresses.VOTES,
            message -> onVote.accept(Vote.fromJson(message.body()))).completion()
        .compose(registered -> agent.deployVerticle(new VoteVerticle(AgentApiVerticleTest.IDENTITY, options, sensor,
            STARTED_AT, Clock.systemUTC()).withBus(AgentBus.local(agent))));
  }

  @Test
  void whileTheSensorCannotReadNoVoteIsPublished(VertxTestContext tc) {
    AtomicInteger readings = new AtomicInteger();
    LoadSensor broken = () -> {
      readings.incrementAndGet();
      return LoadSample.missing(Clock.systemUTC().instant(), "process 42 of pid file app.pid is not running");
    };
    agent = Vertx.vertx();
    Future.succeededFuture()
        .compose(nothing -> {
          agent.eventBus().consumer(Addresses.VOTES, message -> tc.failNow("published " + message.body()));
          return agent.deployVerticle(new VoteVerticle(AgentApiVerticleTest.IDENTITY,
              eager().setGossipPeriodMs(100), broken, STARTED_AT, Clock.systemUTC()).withBus(AgentBus.local(agent)));
        })
        .onSuccess(deployed -> agent.setPeriodic(20, id -> {
          if (readings.get() >= 4) {
            tc.completeNow();
          }
        }))
        .onFailure(tc::failNow);
  }

  /** Votes on every sample: no warm-up, no windows, samples every 100 ms. */
  private static AgentOptions eager() {
    return new AgentOptions().setDeployment("demo").setGroup("web").setSampleMs(100).setWarmupMs(0)
        .setGrowAfterMs(0).setShrinkAfterMs(0);
  }

  private static Future<Void> close(Vertx vertx) {
    return vertx == null ? Future.succeededFuture() : vertx.close();
  }
}
