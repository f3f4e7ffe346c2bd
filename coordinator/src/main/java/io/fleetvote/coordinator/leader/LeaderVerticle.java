package io.fleetvote.coordinator.leader;

import com.hazelcast.core.HazelcastInstance;
import io.fleetvote.common.Addresses;
import io.fleetvote.common.cluster.ClusterBootstrap;
import io.fleetvote.coordinator.CoordinatorOptions;
import io.fleetvote.coordinator.ledger.DecisionLedger;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.micrometer.backends.BackendRegistries;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * The coordinator's one leadership and one decision ledger, for every component that acts as the leader (the
 * autoscaler; failover and snapshots next). Deployed before them and stopped after them: a leader hands its lease
 * back only once nothing acts on it any more. Each change of leadership is published locally on
 * {@link Addresses#LEADERSHIP}; before acting, a component asks {@link Leadership#leads(long)} for the epoch it acts
 * in, and writes what it does to the {@link DecisionLedger} under an id the ledger hands out.
 */
public final class LeaderVerticle extends VerticleBase {

  private final String coordinatorId;
  private final CoordinatorOptions options;
  private volatile Leadership leadership;
  private volatile DecisionLedger ledger;

  /** @param coordinatorId this coordinator's id in the lease and the ledger (its API address) */
  public LeaderVerticle(String coordinatorId, CoordinatorOptions options) {
    this.coordinatorId = coordinatorId;
    this.options = options;
  }

  @Override
  public Future<?> start() throws Exception {
    MeterRegistry meters = Objects.requireNonNullElseGet(BackendRegistries.getDefaultNow(), SimpleMeterRegistry::new);
    Path dir = Path.of(options.getDataDir());
    Files.createDirectories(dir);
    HazelcastInstance hazelcast = ClusterBootstrap.hazelcast(vertx);
    ledger = new DecisionLedger(vertx, hazelcast, dir.resolve("ledger.jsonl"), options.getOpTimeoutMillis(),
        options.getLedgerCapacity());
    leadership = new Leadership(vertx, hazelcast, coordinatorId, new CoordinatorQuorum(options.getCoordinators()),
        options.getLeaseMillis(), options.getRenewMillis(), options.getOpTimeoutMillis());
    Gauge.builder("fleetvote.coordinator.leader", () -> leadership.isLeader() ? 1 : 0)
        .description("1 while this coordinator is the leader").register(meters);
    Gauge.builder("fleetvote.coordinator.epoch", () -> leadership.epoch())
        .description("The fencing epoch this coordinator leads in (0 when standby)").register(meters);
    leadership.onChange(state -> vertx.eventBus().publish(Addresses.LEADERSHIP, state.toJson(),
        new DeliveryOptions().setLocalOnly(true)));
    return ledger.start().onSuccess(x -> leadership.start());
  }

  @Override
  public Future<?> stop() {
    Future<Void> resigned = leadership == null ? Future.succeededFuture() : leadership.stop();
    return resigned.eventually(() -> {
      if (ledger != null) {
        ledger.close();
      }
      return Future.succeededFuture();
    });
  }

  /** Set once started. */
  public Leadership leadership() {
    return Objects.requireNonNull(leadership, "the leader verticle has not started");
  }

  /** Set once started. */
  public DecisionLedger ledger() {
    return Objects.requireNonNull(ledger, "the leader verticle has not started");
  }
}
