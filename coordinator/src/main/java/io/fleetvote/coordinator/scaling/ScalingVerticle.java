package io.fleetvote.coordinator.scaling;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import io.fleetvote.common.Addresses;
import io.fleetvote.common.cluster.ClusterBootstrap;
import io.fleetvote.common.msg.AgentHeartbeat;
import io.fleetvote.common.msg.DrainReply;
import io.fleetvote.common.msg.DrainRequest;
import io.fleetvote.common.msg.MessageException;
import io.fleetvote.common.msg.OperatorCommand;
import io.fleetvote.common.msg.Vote;
import io.fleetvote.coordinator.fleet.Fleet;
import io.fleetvote.coordinator.fleet.FleetInstance;
import io.fleetvote.coordinator.fleet.LaunchOrder;
import io.fleetvote.coordinator.fleet.RetryListener;
import io.fleetvote.coordinator.leader.CoordinatorQuorum;
import io.fleetvote.coordinator.leader.Leadership;
import io.fleetvote.coordinator.ledger.DecisionLedger;
import io.fleetvote.coordinator.ledger.LedgerEntry;
import io.fleetvote.coordinator.ledger.LedgerEntry.Action;
import io.fleetvote.coordinator.ledger.LedgerEntry.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.micrometer.backends.BackendRegistries;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
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
 * EC2 API, so a standby that becomes leader can act at once; only the leader decides and acts. Before acting the leader
 * writes the order to the ledger (the write fails without quorum, and then nothing happens); the order's client
 * token names the decision, so a successor that finds an unfinished order sends it again without launching twice.
 */
public final class ScalingVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(ScalingVerticle.class);
  private static final String AUTOSCALER = "autoscaler";
  private static final long SOON_MILLIS = 20;
  private static final String FORWARDED = "fleetvote-forwarded-by";
  private static final long COMMAND_TIMEOUT_MILLIS = 60_000;
  /** The agent answers a drain within the drain timeout, plus the few HAProxy commands around it. */
  private static final long DRAIN_REPLY_MARGIN_MILLIS = 10_000;

  private final String coordinatorId;
  private final String deployment;
  private final ScalingOptions options;
  private final List<String> clusterMembers;
  private final String clusterName;
  private final Supplier<Fleet> fleetFactory;
  private final Clock clock;
  private final long futureToleranceMillis;
  private final long heartbeatExpireMillis;
  private HealthTracker health;
  /** Per group, the ledger entry of its current healing hold: repeated holds update it rather than add entries. */
  private final Map<String, String> healHolds = new HashMap<>();
  /** Groups with a replacement under way: one at a time. */
  private final Set<String> replacing = new HashSet<>();
  /** Replacements whose launch is done (no longer a launch in flight) while their victim still goes. */
  private final Set<String> replacementsLaunched = new HashSet<>();
  private final Map<String, VoteTally> tallies = new LinkedHashMap<>();
  private final Map<String, FleetInstance> fleetView = new HashMap<>();
  private final Map<String, Integer> launchesInFlight = new HashMap<>();
  private final Set<String> leaving = new HashSet<>();
  private final Map<String, Long> holdFlushedAt = new HashMap<>();
  private final List<Long> timers = new ArrayList<>();
  private final Map<String, Long> decidedSoonAt = new HashMap<>();
  private final Set<String> soonScheduled = new HashSet<>();
  /** The fleet view by group, rebuilt when the view changes: every decision needs its group's instances. */
  private Map<String, List<FleetInstance>> byGroup = Map.of();
  private boolean fleetChanged = true;
  private Fleet fleet;
  private Leadership leadership;
  private DecisionLedger ledger;
  private MeterRegistry meters;
  private Timer tickTimer;
  private boolean fleetKnown;
  /** When the last successful DescribeInstances was sent (epoch ms), and when one was last asked for early. */
  private long describedAt;
  private long describeRequestedAt;
  /** Leader, and the fleet described and the predecessors' unfinished orders counted since becoming leader. */
  private boolean ready;
  private boolean takingOver;
  private final Map<String, Long> rejectionsLoggedAt = new HashMap<>();
  private long seq;
  private IMap<String, String> controlMap;
  private final Map<String, GroupControl> controls = new HashMap<>();

  /**
   * @param clusterMembers the cluster addresses that new instances' agents join (the coordinators')
   * @param fleetFactory   builds the fleet on this verticle's Vert.x (the EC2 client is created in start)
   * @param futureToleranceMillis how far ahead of this coordinator's clock a vote may be sent
   * @param heartbeatExpireMillis an agent whose last heartbeat is older than this is silent
   */
  public ScalingVerticle(String coordinatorId, String deployment, String clusterName, List<String> clusterMembers,
                         ScalingOptions options, Supplier<Fleet> fleetFactory, Clock clock, long futureToleranceMillis,
                         long heartbeatExpireMillis) {
    this.coordinatorId = coordinatorId;
    this.deployment = deployment;
    this.clusterName = clusterName;
    this.clusterMembers = List.copyOf(clusterMembers);
    this.options = options;
    this.fleetFactory = fleetFactory;
    this.clock = clock;
    this.futureToleranceMillis = futureToleranceMillis;
    this.heartbeatExpireMillis = heartbeatExpireMillis;
  }

  @Override
  public Future<?> start() throws Exception {
    meters = Objects.requireNonNullElseGet(BackendRegistries.getDefaultNow(), SimpleMeterRegistry::new);
    tickTimer = Timer.builder("fleetvote.coordinator.tick").description("One tally of every group by the leader")
        .publishPercentiles(0.5, 0.99).register(meters);
    for (GroupConfig group : options.getGroups()) {
      tallies.put(group.name(), new VoteTally(group, clock, futureToleranceMillis));
    }
    health = new HealthTracker(heartbeatExpireMillis, clock.millis());
    Path dir = Path.of(options.getDataDir());
    Files.createDirectories(dir);
    HazelcastInstance hazelcast = ClusterBootstrap.hazelcast(vertx);
    controlMap = hazelcast.getMap(CoordinatorQuorum.CONTROL_MAP);
    ledger = new DecisionLedger(vertx, hazelcast, dir.resolve("ledger.jsonl"), options.getOpTimeoutMillis(),
        options.getLedgerCapacity());
    leadership = new Leadership(vertx, hazelcast, coordinatorId, new CoordinatorQuorum(options.getCoordinators()),
        options.getLeaseMillis(), options.getRenewMillis(), options.getOpTimeoutMillis());
    Gauge.builder("fleetvote.coordinator.leader", () -> leadership.isLeader() ? 1 : 0)
        .description("1 while this coordinator is the leader").register(meters);
    Gauge.builder("fleetvote.coordinator.epoch", () -> leadership.epoch())
        .description("The fencing epoch this coordinator leads in (0 when standby)").register(meters);
    // On AWS the SDK's client reads the region chain, which may ask instance metadata: not on an event loop.
    return vertx.executeBlocking(fleetFactory::get)
        .compose(built -> {
          fleet = built;
          return ledger.start();
        })
        .compose(x -> vertx.eventBus().consumer(Addresses.VOTES, this::vote).completion())
        .compose(x -> vertx.eventBus().consumer(Addresses.AGENT_HEARTBEATS, this::heartbeat).completion())
        .compose(x -> vertx.eventBus().localConsumer(Addresses.LEDGER_QUERY, this::ledgerQuery).completion())
        .compose(x -> vertx.eventBus().localConsumer(Addresses.SCALING_STATE, this::stateQuery).completion())
        .compose(x -> vertx.eventBus().<JsonObject>localConsumer(Addresses.SCALING_COMMAND, this::command)
            .completion())
        .compose(x -> vertx.eventBus().<JsonObject>consumer(Addresses.coordinatorCommands(coordinatorId),
            this::command).completion())
        .onSuccess(x -> {
          leadership.onChange(state -> {
            ready = false;
            if (state.leader()) {
              takeOver(state.epoch());
            }
          });
          leadership.start();
          refreshFleet();
          timers.add(vertx.setPeriodic(options.getFleetRefreshMillis(), t -> refreshFleet()));
          timers.add(vertx.setPeriodic(options.getTickMillis(), t -> tick()));
          LOG.info("{}: autoscaler for {} group(s) {}, {} coordinator(s) expected", coordinatorId, tallies.size(),
              tallies.keySet(), options.getCoordinators());
        });
  }

  @Override
  public Future<?> stop() {
    timers.forEach(vertx::cancelTimer);
    Future<Void> stopped = leadership == null ? Future.succeededFuture() : leadership.stop();
    return stopped.eventually(() -> {
      if (ledger != null) {
        ledger.close();
      }
      return fleet == null ? Future.succeededFuture() : fleet.close();
    });
  }

  // ------------------------------------------------------------------ votes

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
    FleetInstance known = fleetView.get(vote.instanceId());
    if (known == null && vote.startedAt() >= describedAt) {
      // An agent that started after this coordinator last described the fleet: probably an instance another
      // coordinator launched. Describe again soon; until then its votes wait (and are counted apart from forgeries).
      Counter.builder("fleetvote.coordinator.votes.rejected").tag("reason", "not-yet-described")
          .description("Votes not counted, by reason").register(meters).increment();
      if (clock.millis() - describeRequestedAt > 1000) {
        describeRequestedAt = clock.millis();
        refreshFleet();
      }
      return;
    }
    Optional<Vote> before = tally.liveVote(vote.instanceId());
    VoteTally.Admission admission = tally.record(vote, Optional.ofNullable(known).map(FleetInstance::group));
    if (admission != VoteTally.Admission.ACCEPTED) {
      rejected(admission.reason(), vote.instanceId() + " (group " + vote.group() + "): " + admission.reason()
          + (fleetKnown ? "" : " (the fleet has not been described yet)"));
      return;
    }
    boolean changed = before.map(b -> b.vote() != vote.vote() || b.warm() != vote.warm()).orElse(true);
    if (changed) {
      soon(tally);
    }
  }

  /** An agent's heartbeat: what its instance's health is. Bad ones are the registry's to count and log. */
  private void heartbeat(Message<Object> message) {
    try {
      AgentHeartbeat heartbeat = AgentHeartbeat.fromJson(message.body());
      if (heartbeat.deployment().equals(deployment)) {
        health.heard(heartbeat, clock.millis());
      }
    } catch (MessageException e) {
      rejected("heartbeat", "a heartbeat that could not be read: " + e.getMessage());
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

  /** Counted always; logged at most once per reason every 10 s, so a flood of bad votes does not flood the log. */
  private void rejected(String reason, String what) {
    Counter.builder("fleetvote.coordinator.votes.rejected").tag("reason", reason)
        .description("Votes not counted, by reason").register(meters).increment();
    long now = clock.millis();
    if (now - rejectionsLoggedAt.getOrDefault(reason, Long.MIN_VALUE / 2) >= 10_000) {
      rejectionsLoggedAt.put(reason, now);
      LOG.warn("{}: vote rejected ({}): {} (more like it within 10 s are only counted)", coordinatorId, reason,
          printable(what));
    }
  }

  // ------------------------------------------------------------------ the fleet

  /** Reads the operators' controls of every group from the replicated map and applies them. */
  private Future<Void> refreshControls() {
    return vertx.executeBlocking(() -> Map.copyOf(controlMap), false).map(all -> {
      for (VoteTally tally : tallies.values()) {
        String json = all.get(tally.config().name());
        apply(tally, json == null ? GroupControl.NONE : GroupControl.fromJson(new JsonObject(json)));
      }
      return (Void) null;
    }).onFailure(err -> LOG.warn("{}: could not read the operators' controls: {}", coordinatorId, err.getMessage()));
  }

  private void apply(VoteTally tally, GroupControl control) {
    String group = tally.config().name();
    controls.put(group, control);
    GroupConfig file = options.getGroups().stream().filter(g -> g.name().equals(group)).findFirst().orElseThrow();
    tally.reconfigure(control.apply(file));
    tally.protectedByOperator(control.protectedInstances());
  }

  private GroupControl control(String group) {
    return controls.getOrDefault(group, GroupControl.NONE);
  }

  private Future<Void> refreshFleet() {
    refreshControls();
    long sentAt = clock.millis();
    return fleet.describe().onSuccess(instances -> {
      describedAt = Math.max(describedAt, sentAt);
      Map<String, FleetInstance> fresh = new HashMap<>();
      instances.forEach(i -> fresh.put(i.instanceId(), i));
      // A launch this leader has just been told of may not be in DescribeInstances yet: keep it until it is.
      fleetView.values().stream().filter(i -> !fresh.containsKey(i.instanceId()) && i.alive()
          && clock.millis() - i.launchTime().toEpochMilli() < options.getFleetRefreshMillis() * 3)
          .forEach(i -> fresh.put(i.instanceId(), i));
      fleetView.clear();
      fleetView.putAll(fresh);
      health.retain(fresh.keySet());
      fleetChanged = true;
      fleetKnown = true;
    }).onFailure(err -> LOG.warn("{}: could not describe the fleet: {}", coordinatorId, err.getMessage()))
        .mapEmpty();
  }

  private List<FleetInstance> members(String group) {
    if (fleetChanged) {
      Map<String, List<FleetInstance>> index = new HashMap<>();
      fleetView.values().forEach(i -> index.computeIfAbsent(i.group(), g -> new ArrayList<>()).add(i));
      byGroup = index;
      fleetChanged = false;
    }
    return byGroup.getOrDefault(group, List.of());
  }

  // ------------------------------------------------------------------ leading

  /** A new leader: learns the fleet, then finishes what its predecessors ordered, then starts deciding. */
  private void takeOver(long epoch) {
    takingOver = true;
    ledger.loaded().compose(x -> refreshControls()).compose(x -> refreshFleet()).onComplete(described -> {
      takingOver = false;
      if (!leadership.isLeader() || leadership.epoch() != epoch) {
        return;
      }
      seq = ledger.nextSeq(epoch);
      List<LedgerEntry> unfinished = ledger.unfinished();
      if (!unfinished.isEmpty()) {
        LOG.info("{}: epoch {} carries on {} unfinished order(s): {}", coordinatorId, epoch, unfinished.size(),
            unfinished.stream().map(LedgerEntry::id).toList());
      }
      unfinished.forEach(entry -> {
        inFlight(entry, true);
        carryOut(entry, epoch);
      });
      ready = described.succeeded();
      if (!ready) {
        LOG.warn("{}: leader in epoch {}, but the fleet could not be described: not acting until it is", coordinatorId,
            epoch);
      }
    });
  }

  private void tick() {
    if (!leadership.isLeader()) {
      return;
    }
    long epoch = leadership.epoch();
    if (!ready) {
      if (!takingOver) {
        takeOver(epoch);
      }
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
    if (control(group).paused()) {
      decided.ifPresent(d -> record(paused(d), epoch));
      return;
    }
    decided.ifPresent(decision -> record(decision, epoch));
  }

  /** What a paused group's tick writes instead of acting: what the autoscaler would have done. */
  private Decision paused(Decision d) {
    return new Decision(d.group(), d.at(), Decision.Outcome.HOLD, Decision.Rule.PAUSED, d.counts(), d.size(),
        d.pending(), 0, List.of(), "autoscaling paused by " + control(d.group()).by() + "; it would have: "
        + (d.outcome() == Decision.Outcome.HOLD ? "held (" : d.outcome().name().toLowerCase(Locale.ROOT) + " (")
        + d.reason() + ")", d.details());
  }

  /** The group as the tally and the healer see it: its instances, what is in flight, who is unhealthy or drained. */
  private GroupFleet groupFleet(String group) {
    long now = clock.millis();
    List<FleetInstance> instances = members(group);
    Set<String> unhealthy = new HashSet<>();
    for (FleetInstance instance : instances) {
      if (instance.alive() && health.health(instance, now).unhealthy(now, instance.launchTime().toEpochMilli(),
          tallies.get(group).config().bootGraceMs())) {
        unhealthy.add(instance.instanceId());
      }
    }
    return new GroupFleet(instances, launchesInFlight.getOrDefault(group, 0), leaving, ledger.lastResizeAt(group),
        unhealthy, control(group).drained());
  }

  /**
   * Auto-healing ({@link HealingPolicy}): a replacement is an order like a launch; a hold (an outage, the replacement
   * limit) is written once and then updated, whatever the votes write in between.
   */
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
    Optional<Decision> healing = HealingPolicy.decide(config, counted, healthNow, replacements, replacing.contains(group),
        now);
    if (healing.isEmpty()) {
      healHolds.remove(group);
      return;
    }
    Decision decision = control(group).paused() ? paused(healing.get()) : healing.get();
    if (decision.acts()) {
      healHolds.remove(group);
      record(decision, epoch);
    } else {
      recordHealHold(decision, epoch);
    }
  }

  private void record(Decision decision, long epoch) {
    record(decision, epoch, AUTOSCALER);
  }

  /** Writes a decision to the ledger (and carries out its order); completes with the entry once written. */
  private Future<LedgerEntry> record(Decision decision, long epoch, String actor) {
    Counter.builder("fleetvote.coordinator.decisions").tag("group", decision.group())
        .tag("outcome", decision.outcome().name().toLowerCase()).tag("rule", decision.rule().name().toLowerCase())
        .description("Decisions the leader made, by group, outcome and rule").register(meters).increment();
    if (!decision.acts()) {
      if (!actor.equals(AUTOSCALER)) {
        LedgerEntry noted = new LedgerEntry(LedgerEntry.id(epoch, seq++), epoch, decision.at(), decision.at(), 1,
            actor, decision, null);
        LOG.info("{} e{} {}: {} ({})", coordinatorId, epoch, decision.group(), decision.reason(), actor);
        return ledger.put(noted);
      }
      recordHold(decision, epoch);
      return Future.succeededFuture();
    }
    LedgerEntry entry = new LedgerEntry(LedgerEntry.id(epoch, seq++), epoch, decision.at(), decision.at(), 1,
        actor, decision, null);
    Action action = decision.outcome() == Decision.Outcome.REPLACE
        ? new Action("replace", token(decision.group(), entry.id(), decision.at()), 1, decision.victims(),
            Status.ORDERED, List.of(), 0, 0, null)
        : decision.change() > 0
        ? new Action("launch", token(decision.group(), entry.id(), decision.at()), decision.change(), List.of(),
            Status.ORDERED, List.of(), 0, 0, null)
        : new Action("terminate", null, -decision.change(), decision.victims(), Status.ORDERED, List.of(), 0, 0, null);
    LedgerEntry ordered = entry.withAction(action);
    // Counted as in flight before the ledger write completes, so the next tick does not order it again.
    inFlight(ordered, true);
    return ledger.put(ordered)
        .onSuccess(written -> {
          LOG.info("{} e{} {}: {} ({})", coordinatorId, epoch, decision.group(), decision.reason(), written.id());
          carryOut(written, epoch);
        })
        .onFailure(err -> {
          inFlight(ordered, false);
          LOG.warn("{} e{} {}: not acting, the ledger refused the order: {}", coordinatorId, epoch, decision.group(),
              err.toString());
        });
  }

  /** A healing hold: a new entry when its rule or instances change, else the same entry seen again. */
  private void recordHealHold(Decision decision, long epoch) {
    Optional<LedgerEntry> held = Optional.ofNullable(healHolds.get(decision.group())).flatMap(ledger::entry)
        .filter(e -> e.epoch() == epoch && e.decision().rule() == decision.rule()
            && e.decision().victims().equals(decision.victims()));
    LedgerEntry written = writeHold(held, decision, epoch);
    healHolds.put(decision.group(), written.id());
  }

  /** Identical holds in a row make one entry whose count and last time grow; written back now and then. */
  private void recordHold(Decision decision, long epoch) {
    Optional<LedgerEntry> latest = ledger.latest(decision.group()).filter(e -> e.action() == null
        && e.epoch() == epoch && e.decision().rule() == decision.rule()
        && e.decision().counts().equals(decision.counts()));
    writeHold(latest, decision, epoch);
  }

  /** The held entry seen again (flushed to the cluster every holdFlushMillis), or a new entry; returns the entry. */
  private LedgerEntry writeHold(Optional<LedgerEntry> held, Decision decision, long epoch) {
    if (held.isPresent()) {
      LedgerEntry again = held.get().seenAgain(decision.at());
      long flushedAt = holdFlushedAt.getOrDefault(again.id(), 0L);
      if (decision.at() - flushedAt >= options.getHoldFlushMillis()) {
        holdFlushedAt.put(again.id(), decision.at());
        ledger.put(again);
      } else {
        ledger.keepLocally(again);
      }
      return again;
    }
    LedgerEntry entry = new LedgerEntry(LedgerEntry.id(epoch, seq++), epoch, decision.at(), decision.at(), 1,
        AUTOSCALER, decision, null);
    holdFlushedAt.put(entry.id(), decision.at());
    LOG.info("{} e{} {}: hold ({}): {}", coordinatorId, epoch, decision.group(), decision.rule(), decision.reason());
    ledger.put(entry).onFailure(err -> LOG.warn("{}: could not write a hold to the ledger: {}", coordinatorId,
        err.toString()));
    return entry;
  }

  /** Sends the order of a ledger entry (already counted in flight) to the cloud and writes down how it went. */
  private void carryOut(LedgerEntry entry, long epoch) {
    Action action = entry.action();
    GroupConfig group = tallies.containsKey(entry.group()) ? tallies.get(entry.group()).config() : null;
    if (group == null) {
      inFlight(entry, false);
      finish(entry, action.failed("group " + entry.group() + " is no longer configured", clock.millis(), epoch));
      return;
    }
    RetryListener retries = (attempt, code, message, nextIn) -> {
      LedgerEntry current = ledger.entry(entry.id()).orElse(entry);
      ledger.put(current.withAction(current.action().retrying(new JsonObject().put("at", clock.millis())
          .put("attempt", attempt).put("error", code).put("message", printable(message))
          .put("nextInMillis", nextIn.toMillis()).put("epoch", epoch))));
    };
    LaunchOrder order = new LaunchOrder(group.name(), group.imageId(), group.instanceType(), action.count(),
        action.clientToken(), userData(group), group.roleTag(), group.tags());
    if (action.kind().equals("launch")) {
      fleet.launch(order, retries).onComplete(result -> {
        inFlight(entry, false);
        if (result.succeeded()) {
          launched(result.result());
          finish(entry, current(entry).done(result.result().stream().map(FleetInstance::instanceId).toList(),
              clock.millis(), epoch));
        } else {
          finish(entry, current(entry).failed(result.cause().getMessage(), clock.millis(), epoch));
        }
      });
      return;
    }
    // A replacement launches first (its token makes a successor's second try the same launch), then the victim
    // leaves its LBs and goes, as a scale-in's does.
    Future<Void> first = !action.kind().equals("replace") ? Future.succeededFuture()
        : fleet.launch(order, retries).compose(replacements -> {
          launched(replacements);
          // The replacement is in the fleet now: no longer a launch in flight, or the group would look one too big.
          if (replacementsLaunched.add(entry.id())) {
            launchesInFlight.merge(entry.group(), -action.count(), Integer::sum);
          }
          LOG.info("{} {}: {} launched {} to replace {}", coordinatorId, entry.group(), entry.id(),
              replacements.stream().map(FleetInstance::instanceId).toList(), action.instances());
          return noteOn(entry, new JsonObject().put("at", clock.millis()).put("launched", new JsonArray(
              replacements.stream().map(FleetInstance::instanceId).toList())));
        });
    first.compose(x -> drain(entry, group)).compose(x -> fleet.terminate(action.instances(), retries))
        .onComplete(result -> {
          inFlight(entry, false);
          if (result.succeeded()) {
            action.instances().forEach(fleetView::remove);
            fleetChanged = true;
            finish(entry, current(entry).done(action.instances(), clock.millis(), epoch));
          } else {
            finish(entry, current(entry).failed(result.cause().getMessage(), clock.millis(), epoch));
          }
        });
  }

  private void launched(List<FleetInstance> instances) {
    instances.forEach(i -> fleetView.put(i.instanceId(), i));
    fleetChanged = true;
  }

  /** Adds a note to an order's entry (how its drains went, what a replacement launched); never fails the order. */
  private Future<Void> noteOn(LedgerEntry entry, JsonObject note) {
    LedgerEntry current = ledger.entry(entry.id()).orElse(entry);
    return ledger.put(current.withAction(current.action().noted(note))).<Void>mapEmpty()
        .recover(err -> Future.succeededFuture());
  }

  /**
   * Asks each victim's agent to leave its LBs gracefully and waits for the answers (or the drain timeout plus a
   * margin); what each said goes to the ledger. A victim whose agent does not answer is terminated all the same:
   * its LBs reap its entry.
   */
  private Future<Void> drain(LedgerEntry entry, GroupConfig group) {
    List<Future<JsonObject>> drains = new ArrayList<>();
    for (String id : entry.action().instances()) {
      drains.add(askAgent(id, new DrainRequest(DrainRequest.Kind.LEAVE, group.drainTimeoutMs()))
          .map(reply -> reply.toJson().put("sentence", reply.sentence()))
          .recover(err -> Future.succeededFuture(new JsonObject().put("instanceId", id)
              .put("error", printable(err.getMessage())))));
    }
    return Future.join(drains).compose(all -> {
      JsonArray drained = new JsonArray();
      drains.forEach(d -> drained.add(d.result()));
      LOG.info("{} {}: {} drained before termination: {}", coordinatorId, entry.group(), entry.id(), drained.encode());
      return noteOn(entry, new JsonObject().put("at", clock.millis()).put("drained", drained));
    });
  }

  /** Asks an instance's agent to leave its LBs, or to come back; the reply says what each LB did. */
  private Future<DrainReply> askAgent(String instanceId, DrainRequest request) {
    return vertx.eventBus().request(Addresses.agentDrain(instanceId), request.toJson(), new DeliveryOptions()
            .setSendTimeout(request.drainTimeoutMillis() + DRAIN_REPLY_MARGIN_MILLIS))
        .map(reply -> DrainReply.fromJson(reply.body()));
  }

  private Action current(LedgerEntry entry) {
    return ledger.entry(entry.id()).map(LedgerEntry::action).orElse(entry.action());
  }

  private void finish(LedgerEntry entry, Action finished) {
    LedgerEntry done = ledger.entry(entry.id()).orElse(entry).withAction(finished);
    if (finished.status() == Status.FAILED) {
      LOG.warn("{} {}: {} failed: {}", coordinatorId, entry.group(), entry.id(), finished.error());
    } else {
      LOG.info("{} {}: {} done: {} {}", coordinatorId, entry.group(), entry.id(), finished.kind(), finished.instances());
    }
    ledger.put(done).onFailure(err -> LOG.warn("{}: could not record the end of {}: {}", coordinatorId, entry.id(),
        err.toString()));
  }

  private void inFlight(LedgerEntry entry, boolean starting) {
    Action action = entry.action();
    boolean launchOver = !starting && replacementsLaunched.remove(entry.id());
    if (!action.kind().equals("terminate") && !launchOver) {
      launchesInFlight.merge(entry.group(), starting ? action.count() : -action.count(), Integer::sum);
    }
    if (!action.kind().equals("launch")) {
      if (starting) {
        leaving.addAll(action.instances());
      } else {
        action.instances().forEach(leaving::remove);
      }
    }
    if (action.kind().equals("replace")) {
      if (starting) {
        replacing.add(entry.group());
      } else {
        replacing.remove(entry.group());
      }
    }
  }

  /**
   * The client token of a launch: the ledger entry that ordered it, when it was decided, and its group, at most 64
   * characters. Entry ids start again at e1 in a new cluster (an empty ledger) while EC2 remembers tokens for at least
   * a day after an instance's end: the decision's time keeps a new ledger's first launch from being taken for an
   * earlier one's (EC2 would answer with the old, terminated reservation, or IdempotentParameterMismatch). A
   * successor sends the order again with the token written in the entry, never a new one.
   */
  static String token(String group, String entryId, long decidedAt) {
    String token = "fv-" + entryId + "-" + Long.toString(decidedAt, 36) + "-" + group;
    return token.length() <= 64 ? token : token.substring(0, 64);
  }

  /** The agent's settings for the group, plus what only the coordinator knows: deployment, group, cluster. */
  private String userData(GroupConfig group) {
    JsonObject agent = group.agent()
        .put("deployment", deployment)
        .put("group", group.name())
        .put("cluster", new JsonObject().put("clusterName", clusterName).put("members", new JsonArray(clusterMembers)));
    return new JsonObject().put("fleetvote", agent).encode();
  }

  // ------------------------------------------------------------------ queries from the API

  private void ledgerQuery(Message<JsonObject> request) {
    JsonObject query = request.body() == null ? new JsonObject() : request.body();
    JsonArray entries = new JsonArray();
    ledger.query(query.getString("group"), query.getString("outcome"), query.getInteger("limit", 100))
        .forEach(e -> entries.add(e.toJson()));
    request.reply(new JsonObject().put("entries", entries));
  }

  // ------------------------------------------------------------------ operators' actions

  /** An operator's action: the leader carries it out; a standby forwards it to the leader once. */
  private void command(Message<JsonObject> message) {
    if (leadership.isLeader() && ready) {
      execute(message.body() == null ? new JsonObject() : message.body())
          .onSuccess(message::reply)
          .onFailure(err -> message.fail(err instanceof CommandException c ? c.status : 503,
              String.valueOf(err.getMessage())));
      return;
    }
    Leadership.State state = leadership.state();
    String holder = state.lease() == null ? null : state.lease().holder();
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

  /** A refused action and the HTTP status that says why. */
  private static final class CommandException extends RuntimeException {
    private final int status;

    CommandException(int status, String message) {
      super(message, null, false, false);
      this.status = status;
    }
  }

  private Future<JsonObject> execute(JsonObject body) {
    OperatorCommand command;
    try {
      command = OperatorCommand.fromJson(body);
    } catch (MessageException e) {
      return Future.failedFuture(new CommandException(400, e.getMessage()));
    }
    String user = command.user();
    long epoch = leadership.epoch();
    try {
      return switch (command.kind()) {
        case BOUNDS -> bounds(group(command.target()), command.min(), command.max(), user, epoch);
        case SCALE -> scale(group(command.target()), command.by(), user, epoch);
        case PAUSE, RESUME -> pause(group(command.target()), command.kind() == OperatorCommand.Kind.PAUSE, user,
            epoch);
        case PROTECT, UNPROTECT -> protect(instance(command.target()),
            command.kind() == OperatorCommand.Kind.PROTECT, user, epoch);
        case DRAIN, UNDRAIN -> drainByOperator(instance(command.target()), command.kind() == OperatorCommand.Kind.DRAIN,
            user, epoch);
      };
    } catch (CommandException e) {
      return Future.failedFuture(e);
    }
  }

  private VoteTally group(String name) {
    VoteTally tally = tallies.get(name);
    if (tally == null) {
      throw new CommandException(404, "no such group: " + printable(name));
    }
    return tally;
  }

  private FleetInstance instance(String id) {
    FleetInstance instance = fleetView.get(id);
    if (instance == null || !instance.alive() || !tallies.containsKey(instance.group())) {
      throw new CommandException(404, "no such instance in a scaled group: " + printable(id));
    }
    return instance;
  }

  private Future<JsonObject> bounds(VoteTally tally, int min, int max, String user, long epoch) {
    GroupConfig before = tally.config();
    GroupConfig changed;
    try {
      changed = before.withBounds(min, max);
    } catch (MessageException e) {
      return Future.failedFuture(new CommandException(400, e.getMessage()));
    }
    GroupControl control = control(before.name()).withBounds(min, max, user, clock.millis());
    String reason = String.format("%s set min %d, max %d (were %d, %d)", user, min, max, before.min(), before.max());
    return writeControl(tally, control).compose(x -> {
      tally.reconfigure(changed);
      soon(tally);
      return note(before.name(), reason, user, epoch);
    });
  }

  private Future<JsonObject> pause(VoteTally tally, boolean pause, String user, long epoch) {
    String group = tally.config().name();
    GroupControl control = control(group).withPaused(pause, user, clock.millis());
    return writeControl(tally, control).compose(x -> note(group, user + (pause ? " paused" : " resumed")
        + " the autoscaling of " + group, user, epoch));
  }

  private Future<JsonObject> protect(FleetInstance instance, boolean protect, String user, long epoch) {
    VoteTally tally = tallies.get(instance.group());
    GroupControl control = control(instance.group()).withProtected(instance.instanceId(), protect, user,
        clock.millis());
    return writeControl(tally, control).compose(x -> note(instance.group(), user + (protect ? " protected "
        : " unprotected ") + instance.instanceId() + (protect ? " from" : " for") + " scale-in", user, epoch));
  }

  private Future<JsonObject> scale(VoteTally tally, int by, String user, long epoch) {
    GroupConfig config = tally.config();
    String group = config.name();
    if (launchesInFlight.getOrDefault(group, 0) > 0 || ledger.unfinished().stream()
        .anyMatch(e -> e.group().equals(group))) {
      return Future.failedFuture(new CommandException(409, group + " has an action in progress; try again when it "
          + "is done"));
    }
    List<FleetInstance> alive = members(group).stream().filter(i -> i.alive() && !leaving.contains(i.instanceId()))
        .toList();
    int size = alive.size();
    int target = size + by;
    if (target > config.max() || target < config.min()) {
      return Future.failedFuture(new CommandException(409, String.format(
          "scaling %s by %+d would take it from %d to %d, outside min %d and max %d: change the bounds first", group,
          by, size, target, config.min(), config.max())));
    }
    List<String> victims = List.of();
    if (by < 0) {
      victims = tally.victimsFor(new GroupFleet(alive, 0, leaving, ledger.lastResizeAt(group)), -by);
      if (victims.size() < -by) {
        return Future.failedFuture(new CommandException(409, String.format(
            "only %d instance(s) of %s may go: the others protect themselves or are protected", victims.size(), group)));
      }
    }
    Decision decision = new Decision(group, clock.millis(), by > 0 ? Decision.Outcome.GROW : Decision.Outcome.SHRINK,
        Decision.Rule.OPERATOR, new Decision.Counts(0, 0, 0, 0, 0, 0, 0, 0), size, 0, by, victims,
        String.format("%s asked to scale %s by %+d (%d -> %d)%s", user, group, by, size, target,
            victims.isEmpty() ? "" : ": terminate " + victims));
    return record(decision, epoch, user).map(entry -> new JsonObject().put("entry", entry.id())
        .put("reason", decision.reason()));
  }

  /**
   * An operator takes an app instance out of its LBs: it keeps running, no longer counts in its group (a replacement
   * is launched when the group falls below its minimum) and stays out until undrained.
   */
  private Future<JsonObject> drainByOperator(FleetInstance instance, boolean drain, String user, long epoch) {
    VoteTally tally = tallies.get(instance.group());
    GroupConfig config = tally.config();
    String id = instance.instanceId();
    if (!config.servesApp()) {
      return Future.failedFuture(new CommandException(409, id + " is an instance of group " + instance.group()
          + " (roles " + config.roleTag() + "): only app instances behind an LB can be drained"));
    }
    if (!drain && !control(instance.group()).drained().contains(id)) {
      return Future.failedFuture(new CommandException(409, id + " is not drained"));
    }
    DrainRequest request = new DrainRequest(drain ? DrainRequest.Kind.DRAIN : DrainRequest.Kind.UNDRAIN,
        config.drainTimeoutMs());
    Future<Void> before = drain ? Future.succeededFuture()
        : writeControl(tally, control(instance.group()).withDrained(id, false, user, clock.millis()));
    return before.compose(x -> askAgent(id, request)
            .recover(err -> Future.failedFuture(new CommandException(502, "the agent of " + id + " did not "
                + (drain ? "drain" : "undrain") + " it: " + printable(err.getMessage())))))
        .compose(reply -> (drain ? writeControl(tally, control(instance.group()).withDrained(id, true, user,
            clock.millis())) : Future.<Void>succeededFuture()).map(reply))
        .compose(reply -> note(instance.group(), user + (drain ? " drained " + id + " from its LBs: "
            : " put " + id + " back in its LBs: ") + reply.sentence(), user, epoch,
            new JsonObject().put("instanceId", id).put("drain", reply.toJson()))
            .map(noted -> noted.put("drained", reply.toJson())));
  }

  private Future<Void> writeControl(VoteTally tally, GroupControl control) {
    String group = tally.config().name();
    return Future.fromCompletionStage(controlMap.setAsync(group, control.toJson().encode()), vertx.getOrCreateContext())
        .timeout(options.getOpTimeoutMillis(), TimeUnit.MILLISECONDS)
        .recover(err -> Future.failedFuture(new CommandException(503, "the cluster did not take the change (no "
            + "quorum?): " + err.getMessage())))
        .onSuccess(x -> apply(tally, control));
  }

  /** An operator's action that orders nothing: a ledger entry that says who did what. */
  private Future<JsonObject> note(String group, String reason, String user, long epoch) {
    return note(group, reason, user, epoch, null);
  }

  /** The same, with the details behind the sentence as fields. */
  private Future<JsonObject> note(String group, String reason, String user, long epoch, JsonObject details) {
    Decision decision = new Decision(group, clock.millis(), Decision.Outcome.HOLD, Decision.Rule.OPERATOR,
        new Decision.Counts(0, 0, 0, 0, 0, 0, 0, 0), members(group).size(), 0, 0, List.of(), reason, details);
    return record(decision, epoch, user)
        .recover(err -> Future.failedFuture(new CommandException(503, "done, but the ledger did not take the note: "
            + err.getMessage())))
        .map(entry -> new JsonObject().put("entry", entry.id()).put("reason", reason));
  }

  private void stateQuery(Message<Object> request) {
    JsonArray groups = new JsonArray();
    for (VoteTally tally : tallies.values()) {
      GroupConfig config = tally.config();
      List<FleetInstance> members = members(config.name()).stream().filter(FleetInstance::alive).toList();
      long lastResize = ledger.lastResizeAt(config.name());
      Map<String, Vote> held = tally.heldVotes();
      JsonObject votes = new JsonObject().put("grow", 0).put("shrink", 0).put("none", 0).put("expired", 0);
      JsonArray detail = new JsonArray();
      for (FleetInstance member : members) {
        Vote vote = held.get(member.instanceId());
        boolean expired = vote != null && tally.voteExpired(member.instanceId());
        String kind = vote == null ? null : expired ? "expired" : vote.vote().name().toLowerCase(Locale.ROOT);
        if (kind != null) {
          votes.put(kind, votes.getInteger(kind) + 1);
        }
        HealthTracker.Health memberHealth = health.health(member, clock.millis());
        detail.add(new JsonObject().put("instanceId", member.instanceId()).put("state", member.state())
            .put("health", memberHealth.failing() ? memberHealth.why() : "ok")
            .put("unhealthySince", memberHealth.failing() ? memberHealth.since() : null)
            .put("drained", control(config.name()).drained().contains(member.instanceId()))
            .put("privateIp", member.privateIp()).put("launchTime", member.launchTime().toEpochMilli())
            .put("vote", kind).put("load", vote == null || expired || Double.isNaN(vote.load()) ? null : vote.load())
            .put("warm", vote != null && vote.warm()).put("protected", vote != null && vote.protectedFromScaleIn()));
      }
      groups.add(new JsonObject().put("name", config.name()).put("min", config.min()).put("max", config.max())
          .put("size", members.size()).put("launchesInFlight", launchesInFlight.getOrDefault(config.name(), 0))
          .put("lastResizeAt", lastResize)
          .put("calmLeftMs", lastResize <= 0 ? 0 : Math.max(0, lastResize + config.calmTimeMs() - clock.millis()))
          .put("votes", votes).put("members", detail).put("paused", control(config.name()).paused())
          .put("protected", new JsonArray(List.copyOf(control(config.name()).protectedInstances())))
          .put("drained", new JsonArray(List.copyOf(control(config.name()).drained())))
          .put("instances", new JsonArray(members.stream().map(FleetInstance::instanceId).sorted().toList())));
    }
    request.reply(new JsonObject().put("coordinator", coordinatorId).put("leadership", leadership.state().toJson())
        .put("groups", groups));
  }

  private static String printable(String text) {
    String line = text == null ? "" : text.replaceAll("[^\\x20-\\x7e]", "?");
    return line.length() <= 200 ? line : line.substring(0, 200) + "...";
  }
}
