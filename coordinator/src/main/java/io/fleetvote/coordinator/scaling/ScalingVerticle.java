package io.fleetvote.coordinator.scaling;

import com.hazelcast.core.HazelcastInstance;
import io.fleetvote.common.Addresses;
import io.fleetvote.common.cluster.ClusterBootstrap;
import io.fleetvote.common.msg.AgentHeartbeat;
import io.fleetvote.common.msg.LeadershipState;
import io.fleetvote.common.msg.LedgerQuery;
import io.fleetvote.common.msg.MessageException;
import io.fleetvote.common.msg.Rejections;
import io.fleetvote.common.msg.ScalingState;
import io.fleetvote.common.msg.Vote;
import io.fleetvote.coordinator.CoordinatorOptions;
import io.fleetvote.coordinator.fleet.Fleet;
import io.fleetvote.coordinator.fleet.FleetInstance;
import io.fleetvote.coordinator.leader.CoordinatorQuorum;
import io.fleetvote.coordinator.leader.Leadership;
import io.fleetvote.coordinator.ledger.DecisionLedger;
import io.fleetvote.coordinator.ledger.LedgerEntry;
import io.fleetvote.coordinator.ledger.LedgerPage;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import io.vertx.micrometer.backends.BackendRegistries;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The autoscaler of one coordinator. Every coordinator tallies the votes it hears and follows the fleet through the
 * EC2 API, so a standby that becomes leader can act at once; only the leader of the current epoch decides and acts,
 * under the coordinator's one {@link Leadership} and writing to its one {@link DecisionLedger}. This verticle admits
 * votes and heartbeats, keeps the fleet view and the operators' controls fresh, takes over when its coordinator
 * becomes leader, and ticks; the rest is in its parts: {@link VoteTally} and {@link HealingPolicy} decide,
 * {@link DecisionRecorder} writes, {@link OrderExecutor} carries out, {@link OperatorActions} serves operators.
 */
public final class ScalingVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(ScalingVerticle.class);
  private static final long SOON_MILLIS = 20;
  private static final String FORWARDED = "fleetvote-forwarded-by";
  private static final long COMMAND_TIMEOUT_MILLIS = 60_000;
  private static final long MIN_COALESCE_MILLIS = 30_000;

  private final String coordinatorId;
  private final String deployment;
  private final CoordinatorOptions coordinator;
  private final ScalingOptions options;
  private final Supplier<JsonObject> reach;
  private final Leadership leadership;
  private final DecisionLedger ledger;
  private final Supplier<Fleet> fleetFactory;
  private final Clock clock;
  private final Map<String, VoteTally> tallies = new LinkedHashMap<>();
  private final FleetView view;
  private final OrdersInFlight inFlight = new OrdersInFlight();
  private final List<Long> timers = new ArrayList<>();
  private final Map<String, Long> decidedSoonAt = new HashMap<>();
  private final Set<String> soonScheduled = new HashSet<>();
  private HealthTracker health;
  private Fleet fleet;
  private Controls controls;
  private OrderExecutor executor;
  private DecisionRecorder recorder;
  private OperatorActions operators;
  private MeterRegistry meters;
  private Rejections rejections;
  private Timer tickTimer;
  private Timer voteDelay;
  /** When a DescribeInstances was last asked for early (an unknown instance voted). */
  private long describeRequestedAt;
  /** Leader, and the fleet described and the predecessors' unfinished orders carried on since becoming leader. */
  private boolean ready;
  private boolean takingOver;

  /**
   * @param coordinator    the coordinator's options: deployment, scaling, timing of heartbeats and votes
   * @param reach          how new instances' agents reach the coordinators, the user-data's fields for it: their
   *                       gateways ({@code coordinators}) or the cluster to join ({@code cluster})
   * @param fleetFactory   builds the fleet on this verticle's Vert.x (the EC2 client is created in start)
   */
  public ScalingVerticle(String coordinatorId, CoordinatorOptions coordinator, Supplier<JsonObject> reach,
                         Leadership leadership, DecisionLedger ledger,
                         Supplier<Fleet> fleetFactory, Clock clock) {
    this.coordinatorId = coordinatorId;
    this.coordinator = coordinator;
    this.deployment = coordinator.getDeployment();
    this.options = coordinator.getScaling();
    this.reach = reach;
    this.leadership = leadership;
    this.ledger = ledger;
    this.fleetFactory = fleetFactory;
    this.clock = clock;
    this.view = new FleetView(options.getFleetRefreshMillis() * 3);
  }

  @Override
  public Future<?> start() throws Exception {
    meters = Objects.requireNonNullElseGet(BackendRegistries.getDefaultNow(), SimpleMeterRegistry::new);
    rejections = new Rejections(meters, Rejections.COORDINATOR_METRIC, Rejections.DESCRIPTION, LOG, coordinatorId,
        clock, Rejections.DEFAULT_QUIET_MILLIS);
    tickTimer = Timer.builder("fleetvote.coordinator.tick").description("One tally of every group by the leader")
        .publishPercentiles(0.5, 0.99).register(meters);
    voteDelay = Timer.builder("fleetvote.coordinator.vote.delay")
        .description("From an agent's sending a vote to its being counted here (the clocks of both)")
        .publishPercentiles(0.5, 0.99).register(meters);
    for (GroupConfig group : options.getGroups()) {
      tallies.put(group.name(), new VoteTally(group, clock, coordinator.getFutureToleranceMillis()));
    }
    health = new HealthTracker(coordinator.getExpireAfterMillis(), clock.millis());
    HazelcastInstance hazelcast = ClusterBootstrap.hazelcast(vertx);
    controls = new Controls(vertx, hazelcast.getMap(CoordinatorQuorum.CONTROL_MAP), coordinator.getOpTimeoutMillis(),
        tallies, options.getGroups());
    // On AWS the SDK's client reads the region chain, which may ask instance metadata: not on an event loop.
    return vertx.executeBlocking(fleetFactory::get)
        .compose(built -> {
          fleet = built;
          executor = new OrderExecutor(vertx, coordinatorId, fleet, ledger, view, inFlight,
              name -> Optional.ofNullable(tallies.get(name)).map(VoteTally::config), this::userData, clock);
          recorder = new DecisionRecorder(coordinatorId, ledger, inFlight, executor, meters,
              options.getHoldFlushMillis(), this::coalesceMillis);
          operators = new OperatorActions(tallies, view, inFlight, ledger, controls, recorder, executor, clock,
              this::soon);
          return vertx.eventBus().consumer(Addresses.VOTES, this::vote).completion();
        })
        .compose(x -> vertx.eventBus().consumer(Addresses.AGENT_HEARTBEATS, this::heartbeat).completion())
        .compose(x -> vertx.eventBus().localConsumer(Addresses.LEDGER_QUERY, this::ledgerQuery).completion())
        .compose(x -> vertx.eventBus().localConsumer(Addresses.SCALING_STATE, this::stateQuery).completion())
        .compose(x -> vertx.eventBus().<JsonObject>localConsumer(Addresses.SCALING_COMMAND, this::command)
            .completion())
        .compose(x -> vertx.eventBus().<JsonObject>consumer(Addresses.coordinatorCommands(coordinatorId),
            this::command).completion())
        .compose(x -> vertx.eventBus().<JsonObject>localConsumer(Addresses.LEADERSHIP, this::leadershipChanged)
            .completion())
        .onSuccess(x -> {
          if (leadership.isLeader()) {
            takeOver(leadership.epoch());
          }
          refreshFleet();
          timers.add(vertx.setPeriodic(options.getFleetRefreshMillis(), t -> refreshFleet()));
          timers.add(vertx.setPeriodic(options.getTickMillis(), t -> tick()));
          LOG.info("{}: autoscaler for {} group(s) {}, {} coordinator(s) expected", coordinatorId, tallies.size(),
              tallies.keySet(), coordinator.getCoordinators());
        });
  }

  @Override
  public Future<?> stop() {
    timers.forEach(vertx::cancelTimer);
    return fleet == null ? Future.succeededFuture() : fleet.close();
  }

  // ------------------------------------------------------------------ votes and heartbeats

  private void vote(Message<Object> message) {
    Vote vote;
    try {
      vote = Vote.fromJson(message.body());
    } catch (MessageException e) {
      rejected("invalid", "a vote that could not be read: " + e.getMessage());
      return;
    } catch (RuntimeException e) {
      rejected("invalid", "a vote that could not be read: " + e);
      return;
    }
    if (!vote.deployment().equals(deployment)) {
      rejected("deployment", vote.instanceId() + " votes in deployment " + vote.deployment());
      return;
    }
    VoteTally tally = tallies.get(vote.group());
    if (tally == null) {
      rejected("unknown-group", vote.instanceId() + " votes in group " + vote.group() + ", which is not configured");
      return;
    }
    Optional<FleetInstance> known = view.get(vote.instanceId());
    if (known.isEmpty() && vote.startedAt() >= view.describedAt()) {
      // An agent that started after this coordinator last described the fleet: probably an instance another
      // coordinator launched. Describe again soon; until then its votes wait (and are counted apart from forgeries).
      rejections.count(Addresses.VOTES, "not-yet-described");
      if (clock.millis() - describeRequestedAt > 1000) {
        describeRequestedAt = clock.millis();
        refreshFleet();
      }
      return;
    }
    Optional<Vote> before = tally.liveVote(vote.instanceId());
    VoteTally.Admission admission = tally.record(vote, known.map(FleetInstance::group));
    if (admission != VoteTally.Admission.ACCEPTED) {
      rejected(admission.reason(), vote.instanceId() + " (group " + vote.group() + "): " + admission.reason()
          + (view.known() ? "" : " (the fleet has not been described yet)"));
      return;
    }
    // Sent -> counted, by the agent's clock and this one's: what an agent's vote waits for, the link included.
    voteDelay.record(Math.max(0, clock.millis() - vote.sentAt()), TimeUnit.MILLISECONDS);
    boolean changed = before.map(b -> b.vote() != vote.vote() || b.warm() != vote.warm()).orElse(true);
    if (changed) {
      soon(tally);
    }
  }

  /** An agent's heartbeat: what its instance's health is. Bad ones are the registry's to count and log. */
  private void heartbeat(Message<Object> message) {
    AgentHeartbeat heartbeat;
    try {
      heartbeat = AgentHeartbeat.fromJson(message.body());
    } catch (MessageException e) {
      return;
    }
    if (heartbeat.deployment().equals(deployment)) {
      health.heard(heartbeat, clock.millis());
    }
  }

  /**
   * A vote that changed may tip its group: the leader decides at once rather than at the next tick, at most once per
   * {@link #SOON_MILLIS} per group (a storm of changes is decided at the end of that window).
   */
  private void soon(VoteTally tally) {
    if (!leadership.isLeader() || !ready) {
      return;
    }
    String group = tally.config().name();
    long now = System.nanoTime();
    long allowed = decidedSoonAt.getOrDefault(group, Long.MIN_VALUE / 2) + TimeUnit.MILLISECONDS.toNanos(SOON_MILLIS);
    if (now >= allowed) {
      decidedSoonAt.put(group, now);
      decide(tally, leadership.epoch());
    } else if (soonScheduled.add(group)) {
      vertx.setTimer(Math.max(1, TimeUnit.NANOSECONDS.toMillis(allowed - now)), t -> {
        soonScheduled.remove(group);
        soon(tally);
      });
    }
  }

  private void rejected(String reason, String what) {
    rejections.reject(Addresses.VOTES, reason, what);
  }

  // ------------------------------------------------------------------ the fleet

  private Future<Void> refreshFleet() {
    controls.refresh(coordinatorId);
    long sentAt = clock.millis();
    return fleet.describe()
        .onSuccess(instances -> health.retain(view.described(instances, sentAt, clock.millis())))
        .onFailure(err -> LOG.warn("{}: could not describe the fleet: {}", coordinatorId, err.getMessage()))
        .mapEmpty();
  }

  // ------------------------------------------------------------------ leading

  /** The coordinator's leadership changed: a new leader takes over, one that lost it stops acting at once. */
  private void leadershipChanged(Message<JsonObject> change) {
    ready = false;
    if (leadership.isLeader()) {
      takeOver(leadership.epoch());
    }
  }

  /** A new leader: learns the fleet, then finishes what its predecessors ordered, then starts deciding. */
  private void takeOver(long epoch) {
    if (takingOver) {
      return;
    }
    takingOver = true;
    ledger.loaded().compose(x -> controls.refresh(coordinatorId)).compose(x -> refreshFleet())
        .onComplete(described -> {
          takingOver = false;
          if (!leadership.leads(epoch)) {
            return;
          }
          List<LedgerEntry> unfinished = ledger.unfinished();
          if (!unfinished.isEmpty()) {
            LOG.info("{}: epoch {} carries on {} unfinished order(s): {}", coordinatorId, epoch, unfinished.size(),
                unfinished.stream().map(LedgerEntry::id).toList());
          }
          unfinished.forEach(entry -> {
            inFlight.started(entry);
            executor.carryOut(entry, epoch);
          });
          ready = described.succeeded();
          if (!ready) {
            LOG.warn("{}: leader in epoch {}, but the fleet could not be described: not acting until it is",
                coordinatorId, epoch);
          }
        });
  }

  private void tick() {
    if (!leadership.isLeader()) {
      return;
    }
    long epoch = leadership.epoch();
    if (!ready) {
      takeOver(epoch);
      return;
    }
    long started = System.nanoTime();
    for (VoteTally tally : tallies.values()) {
      heal(tally, epoch);
      decide(tally, epoch);
    }
    tickTimer.record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
  }

  private void decide(VoteTally tally, long epoch) {
    String group = tally.config().name();
    Optional<Decision> decided = tally.decide(groupFleet(group));
    decided.ifPresent(d -> recorder.record(controls.of(group).paused() ? paused(d) : d, epoch));
  }

  /** How long holds of one rule keep joining one ledger entry: the group's calm time, and never under 30 s. */
  private long coalesceMillis(String group) {
    return Math.max(MIN_COALESCE_MILLIS, Optional.ofNullable(tallies.get(group)).map(t -> t.config().calmTimeMs())
        .orElse(0L));
  }

  /** What a paused group's tick writes instead of acting: what the autoscaler would have done. */
  private Decision paused(Decision d) {
    return new Decision(d.group(), d.at(), Decision.Outcome.HOLD, Decision.Rule.PAUSED, d.counts(), d.size(),
        d.pending(), 0, List.of(), "autoscaling paused by " + controls.of(d.group()).by() + "; it would have: "
        + (d.outcome() == Decision.Outcome.HOLD ? "held (" : d.outcome().name().toLowerCase(Locale.ROOT) + " (")
        + d.reason() + ")", d.details());
  }

  /** The group as the tally and the healer see it: its instances, what is in flight, who is unhealthy or drained. */
  private GroupFleet groupFleet(String group) {
    long now = clock.millis();
    List<FleetInstance> instances = view.members(group);
    Set<String> unhealthy = new HashSet<>();
    long bootGrace = tallies.get(group).config().bootGraceMs();
    for (FleetInstance instance : instances) {
      if (instance.alive() && health.health(instance, now).unhealthy(now, instance.launchTime().toEpochMilli(),
          bootGrace)) {
        unhealthy.add(instance.instanceId());
      }
    }
    return new GroupFleet(instances, inFlight.launches(group), inFlight.leaving(), ledger.lastResizeAt(group),
        unhealthy, controls.of(group).drained());
  }

  /** Auto-healing ({@link HealingPolicy}): a replacement is an order like a launch; a hold is kept up to date. */
  private void heal(VoteTally tally, long epoch) {
    GroupConfig config = tally.config();
    String group = config.name();
    GroupFleet fleet = groupFleet(group);
    List<FleetInstance> counted = fleet.instances().stream().filter(fleet::counts).toList();
    long now = clock.millis();
    Map<String, HealthTracker.Health> healthNow = new HashMap<>();
    counted.forEach(i -> healthNow.put(i.instanceId(), health.health(i, now)));
    // Failed replacements count too: a launch the cloud keeps refusing is tried once per window, not every tick.
    List<Long> replacements = ledger.query(group, "replace", 1000).stream().map(LedgerEntry::at).toList();
    Optional<Decision> healing = HealingPolicy.decide(config, counted, healthNow, replacements,
        inFlight.replacing(group), now);
    if (healing.isEmpty()) {
      recorder.healed(group);
      return;
    }
    recorder.recordHealing(controls.of(group).paused() ? paused(healing.get()) : healing.get(), epoch);
  }

  /** The agent's settings for the group, plus what only the coordinator knows: deployment, group, how to reach it. */
  private String userData(GroupConfig group) {
    return group.userData(deployment, reach.get());
  }

  // ------------------------------------------------------------------ the API's queries and operators' actions

  private void ledgerQuery(Message<Object> request) {
    LedgerQuery query;
    try {
      query = LedgerQuery.fromJson(request.body());
    } catch (MessageException e) {
      rejections.reject(request.address(), "invalid", "a ledger query: " + e.getMessage());
      request.fail(400, "ledger query refused: " + e.getMessage());
      return;
    }
    request.reply(new LedgerPage(ledger.query(query.group(), query.outcome(), query.limit())).toJson());
  }

  private void stateQuery(Message<Object> request) {
    List<ScalingState.GroupState> groups = GroupStates.of(tallies.values(), view, inFlight, ledger::lastResizeAt,
        controls, health, clock.millis());
    request.reply(new ScalingState(coordinatorId, leadership.state(), groups).toJson());
  }

  /** An operator's action: the leader carries it out; a standby forwards it to the leader once. */
  private void command(Message<JsonObject> message) {
    if (leadership.isLeader() && ready) {
      operators.execute(message.body() == null ? new JsonObject() : message.body(), leadership.epoch())
          .onSuccess(message::reply)
          .onFailure(err -> message.fail(err instanceof CommandRefused c ? c.status() : 503,
              String.valueOf(err.getMessage())));
      return;
    }
    LeadershipState state = leadership.state();
    String holder = state.holder();
    if (holder == null || holder.equals(coordinatorId) || message.headers().contains(FORWARDED)) {
      message.fail(503, "no coordinator can act right now (" + state.why() + "); try again in a few seconds");
      return;
    }
    vertx.eventBus().<JsonObject>request(Addresses.coordinatorCommands(holder), message.body(),
            new DeliveryOptions().setSendTimeout(COMMAND_TIMEOUT_MILLIS).addHeader(FORWARDED, coordinatorId))
        .onSuccess(reply -> message.reply(reply.body()))
        .onFailure(err -> message.fail(err instanceof ReplyException r && r.failureCode() > 0 ? r.failureCode() : 503,
            "the leader " + holder + " did not carry it out: " + err.getMessage()));
  }
}
