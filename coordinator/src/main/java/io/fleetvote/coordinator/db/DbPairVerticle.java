package io.fleetvote.coordinator.db;

import com.hazelcast.map.IMap;
import io.fleetvote.common.Addresses;
import io.fleetvote.common.Tags;
import io.fleetvote.common.cluster.ClusterBootstrap;
import io.fleetvote.common.msg.DbCommand;
import io.fleetvote.common.msg.DbCredentials;
import io.fleetvote.common.msg.DbRoute;
import io.fleetvote.common.msg.DbStatus;
import io.fleetvote.common.msg.MessageException;
import io.fleetvote.common.msg.Role;
import io.fleetvote.coordinator.fleet.Fleet;
import io.fleetvote.coordinator.fleet.FleetException;
import io.fleetvote.coordinator.fleet.FleetInstance;
import io.fleetvote.coordinator.fleet.FleetVolume;
import io.fleetvote.coordinator.fleet.LaunchOrder;
import io.fleetvote.coordinator.fleet.RetryListener;
import io.fleetvote.coordinator.fleet.VolumeOrder;
import io.fleetvote.coordinator.leader.CoordinatorQuorum;
import io.fleetvote.coordinator.leader.Leadership;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Runs the deployment's DB pair ({@link DbPairConfig}) as the leader: every tick it reads the topology
 * ({@link DbTopology}, the quorum-protected map; a new pair's is written there first, compare-and-set, so a minority
 * cannot start one), lists the pair's instances and volumes, and carries out {@link DbPairPlan}'s steps: launch,
 * create and attach volumes, and command the DB agents (master, then replica) over their attested connections.
 * A coordinator restarted finds the same pair by its tags and launches nothing: launches and volumes carry client
 * tokens of their slot's generation, so a step repeated by this leader or by its successor adds nothing. Each
 * coordinator keeps the topology in its data directory as well (owner-only; it holds the pair's passwords), so that
 * a cluster that lost its map (every coordinator restarted) keeps the same master and the same passwords. A
 * coordinator that does not lead only shows the topology.
 */
public final class DbPairVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(DbPairVerticle.class);
  private static final long COMMAND_TIMEOUT_MS = 30_000;
  private static final String IDEMPOTENT_MISMATCH = "IdempotentParameterMismatch";
  private static final long HAND_OUT_TIMEOUT_MS = 5000;
  /** How long the old master's agent has to fence it (it falls back to SIGKILL after 1.5 s). */
  private static final long FENCE_TIMEOUT_MS = 4000;
  /** Beyond a promotion's two bounded waits (a switchover's position, what the replica received): its statements. */
  private static final long PROMOTE_MARGIN_MS = 5_000;
  /**
   * How long a promotion waits for the replica's agent to be connected to this coordinator (a leader just started:
   * its agents reconnect within their link's lease) before an undelivered PROMOTE counts as a failed one.
   */
  private static final long AGENT_WAIT_MS = 30_000;
  /** After StopInstances, DescribeInstances this many times this far apart for the instance to be stopped. */
  private static final int STOPPED_CHECKS = 10;
  private static final long STOPPED_CHECK_MS = 100;
  /** How the journal's fence step begins when the old master's agent fenced it (its instance runs on). */
  private static final String BY_AGENT = "fenced by its agent: ";
  /** How many of the latest failovers the pair's view lists (this coordinator's journal has them all). */
  private static final int HISTORY = 10;
  /** The kinds of an operator's request beside the topology. */
  private static final String SWITCHOVER = "switchover";
  private static final String FORCED = "failover";
  /** What a refused automatic failover adds: the operator's way past the refusal. */
  private static final String FORCE_HINT = "; an operator can force it (POST /api/db/failover with a reason)";
  /** Promotions that failed before the failover stops as failed, for an operator. */
  private static final int PROMOTE_ATTEMPTS = 5;
  /** The replication heartbeat period the DB agents set ({@code MASTER_HEARTBEAT_PERIOD=2}). */
  private static final long HEARTBEAT_MS = 2000;
  /** A replica report older than this cannot vouch for the master. */
  private static final long REPORT_FRESH_MS = 3000;
  private static final long HAND_OUT_RETRY_MS = 5000;
  /** Again once a minute to each: an app agent that restarted holds nothing until it hears it again. */
  private static final long HAND_OUT_AGAIN_MS = 60_000;

  private final String deployment;
  private final DbPairConfig config;
  private final Leadership leadership;
  private final DbVerticle reports;
  private final Supplier<Fleet> fleetFactory;
  private final Supplier<JsonObject> reach;
  private final Path file;
  private final long tickMillis;
  private final long opTimeoutMillis;
  private final Clock clock;
  private final SecureRandom random = new SecureRandom();
  /** Keys of the commands carried out in {@link #doneEpoch} ({@link DbPairPlan#key}). */
  private final Set<String> done = new HashSet<>();
  private final Set<Integer> busySlots = new HashSet<>();
  /** When to hand each app instance the application account (again). */
  private final Map<String, HandOut> handedOut = new HashMap<>();
  /** Each DB instance's MariaDB port as last reported: a dead agent's report lapses, its port does not. */
  private final Map<String, Integer> knownPorts = new HashMap<>();
  private MasterProbe probe;
  private MasterFailureDetector detector;
  private String detectorFor;
  private MasterFailureDetector.Verdict lastVerdict;
  private boolean probing;
  private JsonObject masterHealth;
  /** A commanded agent's status after the command, newer than its last report until the next one. */
  private final Map<String, DbStatus> replies = new HashMap<>();
  private long doneEpoch = -1;
  private final FailoverJournal journal;
  /** What the last tick found, for the probe rounds between ticks. */
  private Seen seen;
  /** A failover step is under way. */
  private boolean failing;
  /** The failover this coordinator started last. */
  private String startedFailover;
  /** A failover round reads the topology. */
  private boolean rounding;
  /** Each DB instance's latest report while it was the master: its GTID position and semi-sync, after its death. */
  private final Map<String, DbStatus> masterReports = new HashMap<>();
  /** The refusal last logged, so a refusal repeated every round is logged once. */
  private String lastRefusal;
  private boolean tickAgain;
  /** The operator's maintenance flag as last read (null: none): the master is never judged dead under it. */
  private JsonObject maintenance;
  /** The latest operator request (a switchover or a forced failover) and its answer, as last read (null: none). */
  private JsonObject request;

  /** The topology and the instances the last tick of a leader saw, in its epoch. */
  private record Seen(DbTopology topology, List<FleetInstance> instances, long epoch) {
  }

  /** When to hand an app instance the account next, and whether it acknowledged it once this term. */
  private record HandOut(long due, boolean held) {
  }
  /** The epoch this coordinator raised the fence in; -1 before it led. */
  private long fencedEpoch = -1;
  private IMap<String, String> map;
  private Fleet fleet;
  private boolean ticking;
  private List<String> lastProblems = List.of();
  private volatile JsonObject shown;

  public DbPairVerticle(String deployment, DbPairConfig config, Leadership leadership, DbVerticle reports,
                        Supplier<Fleet> fleetFactory, Supplier<JsonObject> reach, Path dataDir, long tickMillis,
                        long opTimeoutMillis, Clock clock) {
    this.deployment = deployment;
    this.config = config;
    this.leadership = leadership;
    this.reports = reports;
    this.fleetFactory = fleetFactory;
    this.reach = reach;
    this.file = dataDir.resolve("db-" + config.name() + ".json");
    this.journal = new FailoverJournal(dataDir.resolve("failover-" + config.name() + ".jsonl"));
    this.tickMillis = tickMillis;
    this.opTimeoutMillis = opTimeoutMillis;
    this.clock = clock;
  }

  @Override
  public Future<?> start() {
    map = ClusterBootstrap.hazelcast(vertx).getMap(CoordinatorQuorum.DB_MAP);
    fleet = fleetFactory.get();
    probe = new MasterProbe(vertx);
    reports.showPair(() -> shown);
    vertx.setPeriodic(tickMillis, t -> tick());
    vertx.setPeriodic(config.probeMillis(), t -> probeRound());
    vertx.setPeriodic(config.probeMillis(), t -> failoverRound());
    return Future.join(vertx.eventBus().<JsonObject>localConsumer(Addresses.DB_ACKNOWLEDGE, this::acknowledge)
        .completion(), vertx.eventBus().<JsonObject>localConsumer(Addresses.DB_MAINTENANCE, this::maintenance)
        .completion(), vertx.eventBus().<JsonObject>localConsumer(Addresses.DB_SWITCHOVER,
            m -> operatorRequest(m, SWITCHOVER)).completion(),
        vertx.eventBus().<JsonObject>localConsumer(Addresses.DB_FAILOVER, m -> operatorRequest(m, FORCED))
            .completion(),
        vertx.eventBus().<JsonObject>localConsumer(Addresses.DB_REBUILD, this::rebuild).completion());
  }

  /**
   * An operator has the replica's slot built anew (a quarantined old master's, say): its next instance and volume
   * generations, compare-and-set; the plan launches and creates them, and the old ones are no longer the slot's.
   */
  private void rebuild(Message<JsonObject> request) {
    String user = request.body() == null ? "an operator" : request.body().getString("user", "an operator");
    stored().compose(raw -> {
      DbTopology topology = raw == null ? null : DbTopology.fromJson(new JsonObject(raw));
      if (topology == null || topology.failingOver()) {
        return Future.failedFuture(new ReplyException(ReplyFailure.RECIPIENT_FAILURE, 409, topology == null
            ? "the DB pair " + config.name() + " does not exist yet" : "a failover is under way: no rebuild now"));
      }
      int slot = topology.replicaSlot();
      DbTopology next = topology.nextInstance(slot).nextVolume(slot);
      return vertx.executeBlocking(() -> map.replace(config.name(), raw, next.toJson().encode()), false)
          .timeout(opTimeoutMillis, TimeUnit.MILLISECONDS)
          .compose(replaced -> replaced ? keep(next).map(slot) : Future.failedFuture(new ReplyException(
              ReplyFailure.RECIPIENT_FAILURE, 409, "the topology changed meanwhile: try again")));
    }).onSuccess(slot -> {
      LOG.info("DB pair {}: slot {} (the replica's) to be built anew, asked by {}", config.name(), slot, user);
      request.reply(new JsonObject().put("rebuilding", slot));
    }).onFailure(e -> request.fail(e instanceof ReplyException r ? r.failureCode() : 503, e.getMessage()));
  }

  /**
   * Where the latest operator request (a switchover, or a forced failover) and its answer are kept: beside the
   * topology, one at a time.
   */
  private String switchoverKey() {
    return config.name() + "/switchover";
  }

  /**
   * An operator asks for a switchover, or forces the failover of a dead master ({@code kind}, with a reason): any
   * coordinator that reaches the quorum writes the request beside the topology, in the place of the one before; the
   * leader takes it up on its next failover or probe round and answers it there (started, with the failover's id, or
   * refused, with why). A request while a failover is under way is refused at once.
   */
  private void operatorRequest(Message<JsonObject> request, String kind) {
    String user = request.body() == null ? "an operator" : request.body().getString("user", "an operator");
    String reason = request.body() == null ? null : request.body().getString("reason");
    if (kind.equals(FORCED) && (reason == null || reason.isBlank())) {
      request.fail(400, "reason: a forced failover says why (it may lose writes the master acknowledged)");
      return;
    }
    stored().compose(raw -> {
      DbTopology topology = raw == null ? null : DbTopology.fromJson(new JsonObject(raw));
      if (topology == null) {
        return Future.failedFuture(new ReplyException(ReplyFailure.RECIPIENT_FAILURE, 409, "the DB pair "
            + config.name() + " does not exist yet"));
      }
      if (topology.failingOver()) {
        return Future.failedFuture(new ReplyException(ReplyFailure.RECIPIENT_FAILURE, 409, "failover "
            + topology.failover().id() + " is " + topology.failover().phase().name().toLowerCase(Locale.ROOT)
            + ": no " + (kind.equals(FORCED) ? "forced failover" : "switchover") + " now"));
      }
      JsonObject asked = new JsonObject().put("kind", kind).put("by", user).put("at", clock.millis())
          .put("state", "requested");
      if (reason != null) {
        asked.put("reason", reason);
      }
      return vertx.executeBlocking(() -> {
        map.set(switchoverKey(), asked.encode());
        return asked;
      }, false).timeout(opTimeoutMillis, TimeUnit.MILLISECONDS);
    }).onSuccess(asked -> {
      this.request = asked;
      LOG.info("DB pair {}: {} asked by {}{}", config.name(), kind.equals(FORCED) ? "a forced failover" : "switchover",
          user, reason == null ? "" : " (" + reason + ")");
      request.reply(new JsonObject().put(kind.equals(FORCED) ? "failover" : "switchover", asked));
    }).onFailure(e -> request.fail(e instanceof ReplyException r ? r.failureCode() : 503, e.getMessage()));
  }

  /** Where the maintenance flag is kept: beside the topology, in the same quorum map. */
  private String maintenanceKey() {
    return config.name() + "/maintenance";
  }

  /**
   * An operator puts the pair under maintenance ({@code on}, with a reason) or takes it out: any coordinator that
   * reaches the quorum writes the flag; the leader reads it every tick, and the failure detector judges no master under
   * it (a backup, a deliberate restart).
   */
  private void maintenance(Message<JsonObject> request) {
    JsonObject body = request.body() == null ? new JsonObject() : request.body();
    String user = body.getString("user");
    boolean on = body.getBoolean("on", true);
    JsonObject flag = on ? new JsonObject().put("by", user).put("since", clock.millis())
        .put("reason", body.getString("reason", "")) : null;
    vertx.executeBlocking(() -> {
      if (flag == null) {
        map.remove(maintenanceKey());
      } else {
        map.set(maintenanceKey(), flag.encode());
      }
      return null;
    }, false).timeout(opTimeoutMillis, TimeUnit.MILLISECONDS).onSuccess(x -> {
      maintenance = flag;
      LOG.info("DB pair {}: maintenance {} by {}{}", config.name(), on ? "on" : "off", user,
          on ? " (" + flag.getString("reason") + ")" : "");
      request.reply(new JsonObject().put("maintenance", flag));
    }).onFailure(e -> request.fail(503, "the maintenance flag could not be written (" + e.getMessage() + ")"));
  }

  /**
   * An operator acknowledges the latest failover (any coordinator that reaches the quorum writes it, compare-and-set):
   * the anti-flap window no longer holds the next automatic failover back, and a failed one lets the plan act again.
   */
  private void acknowledge(Message<JsonObject> request) {
    String user = request.body() == null ? null : request.body().getString("user");
    if (user == null || user.isBlank()) {
      request.fail(400, "an acknowledgement names its operator");
      return;
    }
    stored().compose(raw -> {
      DbTopology topology = raw == null ? null : DbTopology.fromJson(new JsonObject(raw));
      if (topology == null || topology.failover() == null) {
        return Future.failedFuture(new ReplyException(ReplyFailure.RECIPIENT_FAILURE, 409,
            "the DB pair " + config.name() + " has had no failover to acknowledge"));
      }
      Failover failover = topology.failover();
      if (failover.phase().active()) {
        return Future.failedFuture(new ReplyException(ReplyFailure.RECIPIENT_FAILURE, 409, "failover "
            + failover.id() + " is under way (" + failover.phase().name().toLowerCase(Locale.ROOT) + "): acknowledge "
            + "it once it is done"));
      }
      if (failover.acknowledgedBy() != null) {
        return Future.succeededFuture(failover);
      }
      Failover acknowledged = failover.acknowledged(user).step(clock.millis(), "acknowledged", "acknowledged by "
          + user + ": the anti-flap window no longer holds the next automatic failover back", topology.fence());
      DbTopology next = topology.withFailover(acknowledged);
      return vertx.executeBlocking(() -> map.replace(config.name(), raw, next.toJson().encode()), false)
          .timeout(opTimeoutMillis, TimeUnit.MILLISECONDS)
          .compose(replaced -> replaced ? keep(next).map(acknowledged)
              : Future.failedFuture(new ReplyException(ReplyFailure.RECIPIENT_FAILURE, 409, "the topology changed "
                  + "meanwhile: try again")));
    }).onSuccess(failover -> {
      LOG.info("DB pair {}: failover {} acknowledged by {}", config.name(), failover.id(), failover.acknowledgedBy());
      request.reply(new JsonObject().put("failover", failover.id()).put("acknowledgedBy", failover.acknowledgedBy()));
    }).onFailure(e -> request.fail(e instanceof ReplyException r ? r.failureCode() : 503, e.getMessage()));
  }

  @Override
  public Future<?> stop() {
    reports.showPair(() -> null);
    return fleet == null ? Future.succeededFuture() : fleet.close();
  }

  /** A tick as soon as possible (a failover's step was written: its route and its next step now, not in a second). */
  private void tickSoon() {
    vertx.runOnContext(x -> {
      if (ticking) {
        tickAgain = true;
      } else {
        tick();
      }
    });
  }

  private void tick() {
    if (ticking) {
      return;
    }
    ticking = true;
    boolean leader = leadership.isLeader();
    long epoch = leadership.epoch();
    Future<DbTopology> topology = Future.fromCompletionStage(map.getAsync(maintenanceKey()),
            vertx.getOrCreateContext()).timeout(opTimeoutMillis, TimeUnit.MILLISECONDS)
        .onSuccess(flag -> maintenance = flag == null ? null : new JsonObject(flag))
        .compose(x -> Future.fromCompletionStage(map.getAsync(switchoverKey()), vertx.getOrCreateContext())
            .timeout(opTimeoutMillis, TimeUnit.MILLISECONDS))
        .onSuccess(asked -> request = asked == null ? null : new JsonObject(asked))
        .compose(x -> leader ? topology(epoch) : stored().map(stored -> stored == null ? null
            : DbTopology.fromJson(new JsonObject(stored))));
    topology.compose(found -> {
      if (found == null || !leader) {
        shown = found == null ? null : new JsonObject().put("name", config.name())
            .put("topology", found.toPublicJson()).put("leader", false).put("history", journal.history(HISTORY));
        return found == null ? Future.succeededFuture() : keep(found);
      }
      JsonObject before = shown;
      if (before != null && before.getBoolean("leader", false)) {
        // The topology as stored at once: the rest of the view waits for the fleet's listing, which EC2 may delay.
        shown = before.copy().put("topology", found.toPublicJson()).put("antiFlap", antiFlap(found));
      }
      if (fencedEpoch == epoch) {
        return act(found, epoch);
      }
      // This coordinator's first act as leader of this epoch: the next fence, stored before any command carries it
      // (in memory, not by the stored fenceEpoch: a cluster started again counts its epochs from 1 again).
      return change(found, found.fencedFor(epoch), epoch, "a new leader (epoch " + epoch + ") takes the next fence")
          .onSuccess(x -> fencedEpoch = epoch).compose(x -> topology(epoch)).compose(fenced -> act(fenced, epoch));
    }).onFailure(e -> LOG.warn("DB pair {}: {}", config.name(), e.getMessage()))
        .onComplete(x -> {
          ticking = false;
          if (tickAgain) {
            tickAgain = false;
            tick();
          }
        });
  }

  /**
   * The next step of a failover under way, as the leader (once it raised its fence): every probe period, on the
   * topology as stored, apart from the ticks (which list the fleet through EC2 and may wait for it: a failover whose
   * fence needs no EC2 call goes on meanwhile), on the instances the last tick listed.
   */
  private void failoverRound() {
    long epoch = leadership.epoch();
    if (rounding || failing || !leadership.leads(epoch) || fencedEpoch != epoch) {
      return;
    }
    // Its own flag while it reads: were it the failover's, a probe round finding the master dead meanwhile would not
    // start the failover (the two rounds share a period, so that would happen round after round).
    rounding = true;
    stored().compose(raw -> {
      DbTopology topology = raw == null ? null : DbTopology.fromJson(new JsonObject(raw));
      if (topology == null || failing) {
        return Future.succeededFuture();
      }
      failing = true;
      return nextFailoverStep(topology, epoch).onComplete(x -> failing = false);
    }).onFailure(e -> LOG.warn("DB pair {}: failover: {}", config.name(), e.getMessage()))
        .onComplete(x -> rounding = false);
  }

  /** A switchover asked for, or the next step of a failover under way; nothing else. */
  private Future<Void> nextFailoverStep(DbTopology topology, long epoch) {
    forEpoch(epoch);
    if (!topology.failingOver()) {
      JsonObject asked = request;
      if (asked == null || !"requested".equals(asked.getString("state"))
          || !SWITCHOVER.equals(asked.getString("kind", SWITCHOVER))) {
        return Future.succeededFuture();
      }
      Failover last = topology.failover();
      if (last != null && last.kind() == Failover.Kind.SWITCHOVER && last.startedAt() >= asked.getLong("at", 0L)) {
        // Started for this request already (its answer was not written): answered now, never started twice.
        return answerRequest(asked.copy().put("state", "started").put("failover", last.id())
            .put("answeredAt", clock.millis()));
      }
      return startSwitchover(topology, epoch, asked);
    }
    if (!topology.failover().phase().active()) {
      return Future.succeededFuture();
    }
    Seen last = seen;
    return continueFailover(topology, topology.failover(), epoch, last == null ? List.of() : last.instances());
  }

  /** What this coordinator carried out belongs to one epoch: a new one starts with nothing done. */
  private void forEpoch(long epoch) {
    if (epoch != doneEpoch) {
      done.clear();
      handedOut.clear();
      doneEpoch = epoch;
    }
  }

  /**
   * The route at once, from the instances the last tick listed (a failover's step was written: its writes must stop,
   * or go to the new master, now, not after the next listing).
   */
  private void publishRoute(DbTopology topology, long epoch) {
    Seen last = seen;
    if (leadership.leads(epoch)) {
      vertx.eventBus().publish(Addresses.DB_ROUTES, DbPairPlan.route(deployment, config, topology,
          last == null ? List.of() : last.instances(), currentReports(), done, clock.millis()).toJson());
    }
  }

  /** Lists the pair, plans and starts the steps of slots not already busy. */
  private Future<Void> act(DbTopology topology, long epoch) {
    forEpoch(epoch);
    Future<List<FleetInstance>> instances = fleet.describe();
    Future<List<FleetVolume>> volumes = fleet.volumes();
    return Future.all(instances, volumes).map(x -> {
      Map<String, DbStatus> current = currentReports();
      DbPairPlan.Outcome outcome = DbPairPlan.plan(deployment, config, topology, instances.result(),
          volumes.result(), current, done);
      DbRoute route = DbPairPlan.route(deployment, config, topology, instances.result(), current, done,
          clock.millis());
      if (leadership.leads(epoch)) {
        vertx.eventBus().publish(Addresses.DB_ROUTES, route.toJson());
        if (route.master() != null) {
          handOut(topology, instances.result());
        }
        seen = new Seen(topology, instances.result(), epoch);
      } else {
        seen = null;
      }
      shown = outcome.pair().put("leader", true).put("route", route.toJson()).put("masterHealth", masterHealth)
          .put("antiFlap", antiFlap(topology)).put("maintenance", maintenance).put("switchover", request)
          .put("history", journal.history(HISTORY));
      if (!outcome.problems().equals(lastProblems)) {
        outcome.problems().forEach(problem -> LOG.warn("DB pair {}: {}", config.name(), problem));
        lastProblems = outcome.problems();
      }
      for (DbPairPlan.Step step : outcome.steps()) {
        if (leadership.leads(epoch) && busySlots.add(step.slot())) {
          carryOut(step, topology, epoch).onFailure(e -> LOG.warn("DB pair {}, slot {}: {}", config.name(),
              step.slot(), e.getMessage())).onComplete(y -> busySlots.remove(step.slot()));
        }
      }
      return null;
    });
  }

  /**
   * The application account to each live app instance's agent (over its own attested connection:
   * {@link Addresses#agentSecrets}) when it is due: first in this term, then once a minute; one that did not answer is
   * asked again after a few seconds.
   */
  private void handOut(DbTopology topology, List<FleetInstance> instances) {
    long now = clock.millis();
    Set<String> apps = new HashSet<>();
    instances.stream().filter(i -> i.alive() && Arrays.asList(i.tags().getOrDefault(Tags.ROLE, "").split(","))
        .contains(Role.APP.name().toLowerCase(Locale.ROOT))).forEach(i -> apps.add(i.instanceId()));
    handedOut.keySet().retainAll(apps);
    DbCredentials credentials = new DbCredentials(deployment, config.database(), DbPairConfig.APP_USER,
        topology.appPassword());
    for (String id : apps) {
      HandOut last = handedOut.get(id);
      if (last != null && last.due() > now) {
        continue;
      }
      handedOut.put(id, new HandOut(now + HAND_OUT_TIMEOUT_MS, last != null && last.held()));
      vertx.eventBus().request(Addresses.agentSecrets(id), credentials.toJson(),
          new DeliveryOptions().setSendTimeout(HAND_OUT_TIMEOUT_MS)).onComplete(answer -> {
            HandOut asked = handedOut.get(id);
            if (asked == null) {
              return;
            }
            if (answer.succeeded()) {
              if (!asked.held()) {
                LOG.info("DB pair {}: {} holds the application account", config.name(), id);
              }
              handedOut.put(id, new HandOut(clock.millis() + HAND_OUT_AGAIN_MS, true));
            } else {
              handedOut.put(id, new HandOut(clock.millis() + HAND_OUT_RETRY_MS, asked.held()));
              LOG.debug("DB pair {}: {} did not take the application account: {}", config.name(), id,
                  answer.cause().getMessage());
            }
          });
    }
  }

  /** The agents' latest reports, with a commanded agent's reply where it is newer. */
  private Map<String, DbStatus> currentReports() {
    Map<String, DbStatus> current = reports.current();
    replies.values().removeIf(after -> current.containsKey(after.instanceId())
        && current.get(after.instanceId()).sentAt() >= after.sentAt());
    current.putAll(replies);
    return current;
  }

  /** A probe round on what the last tick saw, as the leader of its epoch. */
  private void probeRound() {
    Seen last = seen;
    if (last != null && leadership.leads(last.epoch()) && !last.topology().failingOver()) {
      watchMaster(last.topology(), last.instances(), currentReports(), last.epoch());
    }
  }

  /**
   * The leader's round of evidence on the master: its own probe (connect and {@code SELECT 1}) beside the replica's
   * latest report, into the master's {@link MasterFailureDetector} (a new one for each new master instance). Shown
   * in the pair's view and logged when the verdict changes. A dead master is failed over ({@link #startFailover}).
   */
  private void watchMaster(DbTopology topology, List<FleetInstance> instances, Map<String, DbStatus> current,
                           long epoch) {
    current.values().forEach(r -> {
      if (r.port() > 0) {
        knownPorts.put(r.instanceId(), r.port());
      }
    });
    // A master whose instance is down (stopped through EC2 by someone, or by a failover that then failed) is judged
    // too: the leader's look is DescribeInstances then, the replica's report decides as ever.
    Optional<FleetInstance> master = slotInstance(topology, instances, topology.masterSlot())
        .or(() -> DbPairPlan.downOfSlot(config, topology, instances, topology.masterSlot()));
    master.map(i -> current.get(i.instanceId())).filter(r -> r.server() == DbStatus.Server.UP)
        .ifPresent(r -> masterReports.put(r.instanceId(), r));
    Integer port = master.map(i -> knownPorts.get(i.instanceId())).orElse(null);
    boolean instanceDown = master.isPresent() && !master.get().alive();
    if (master.isEmpty() || !instanceDown && (master.get().privateIp() == null || port == null)) {
      masterHealth = null;
      return;
    }
    if (probing) {
      return;
    }
    String id = master.get().instanceId();
    if (!id.equals(detectorFor)) {
      detector = new MasterFailureDetector(config.confirmations(), HEARTBEAT_MS, REPORT_FRESH_MS);
      detectorFor = id;
      lastVerdict = null;
    }
    MasterFailureDetector judging = detector;
    Optional<FleetInstance> replicaInstance = slotInstance(topology, instances, topology.replicaSlot());
    DbStatus replica = replicaInstance.map(i -> current.get(i.instanceId())).orElse(null);
    probing = true;
    Future<String> look = instanceDown
        ? Future.succeededFuture("its instance is " + master.get().state() + " (DescribeInstances)")
        : probe.probe(master.get().privateIp(), port, DbPairConfig.APP_USER, topology.appPassword());
    look.onComplete(done -> {
      probing = false;
      if (judging != detector) {
        return;
      }
      String problem = done.result();
      MasterFailureDetector.Assessment assessment = judging.observe(new MasterFailureDetector.Observation(
          clock.millis(), problem.isEmpty(), problem, replica, maintenance != null));
      if (assessment.verdict() != lastVerdict) {
        if (assessment.verdict() == MasterFailureDetector.Verdict.ALIVE
            || assessment.verdict() == MasterFailureDetector.Verdict.UNCONFIRMED) {
          LOG.info("DB pair {}: master {}: {}", config.name(), id, assessment.reason());
        } else {
          LOG.warn("DB pair {}: master {}: {}", config.name(), id, assessment.reason());
        }
        lastVerdict = assessment.verdict();
      }
      masterHealth = new JsonObject().put("instanceId", id)
          .put("verdict", assessment.verdict().name().toLowerCase(Locale.ROOT))
          .put("confirmations", assessment.confirmations()).put("of", config.confirmations())
          .put("reason", assessment.reason()).put("at", clock.millis());
      JsonObject forced = request != null && FORCED.equals(request.getString("kind"))
          && "requested".equals(request.getString("state")) ? request : null;
      if (forced != null && !failing && leadership.leads(epoch) && !startedSince(topology)) {
        failing = true;
        forceFailover(topology, epoch, master.get(), replicaInstance.orElse(null), replica, assessment, forced)
            .onFailure(e -> LOG.warn("DB pair {}: no forced failover of {}: {}", config.name(), id, e.getMessage()))
            .onComplete(x -> failing = false);
      } else if (assessment.verdict() == MasterFailureDetector.Verdict.DEAD && replicaInstance.isPresent()
          && !failing && leadership.leads(epoch) && !startedSince(topology)) {
        failing = true;
        startFailover(topology, epoch, master.get(), replicaInstance.get(), replica, assessment.reason(), null)
            .onFailure(e -> LOG.warn("DB pair {}: no failover of {}: {}", config.name(), id, e.getMessage()))
            .onComplete(x -> failing = false);
      }
    });
  }

  /**
   * An operator's forced failover, on a probe round: started when the detector finds the master dead (automatic
   * failover's own refusals aside: off, the anti-flap window, semi-sync off in the master's last report); left
   * waiting while the master is suspect (confirmations still to come); refused otherwise, or when the replica is not
   * promotable. Answered once started for this request already.
   */
  private Future<Void> forceFailover(DbTopology topology, long epoch, FleetInstance master, FleetInstance replica,
                                     DbStatus replicaReport, MasterFailureDetector.Assessment assessment,
                                     JsonObject request) {
    long now = clock.millis();
    Failover last = topology.failover();
    if (last != null && last.kind() == Failover.Kind.FORCED && last.startedAt() >= request.getLong("at", 0L)) {
      return answerRequest(request.copy().put("state", "started").put("failover", last.id())
          .put("answeredAt", now));
    }
    if (assessment.verdict() == MasterFailureDetector.Verdict.SUSPECT && replica != null) {
      // Dead but for the confirmations still to come: the request waits for them (or for the master to answer).
      return Future.succeededFuture();
    }
    if (assessment.verdict() != MasterFailureDetector.Verdict.DEAD || replica == null) {
      String why = replica == null ? "the pair has no replica to promote" : "the master " + master.instanceId()
          + " is not found dead (" + assessment.verdict().name().toLowerCase(Locale.ROOT) + ": "
          + assessment.reason() + "): a forced failover is for a dead master; a live one is switched over "
          + "(POST /api/db/switchover)";
      LOG.warn("DB pair {}: epoch {}: no forced failover for {}: {}", config.name(), epoch, request.getString("by"),
          why);
      return answerRequest(request.copy().put("state", "refused").put("why", why).put("answeredAt", now));
    }
    return startFailover(topology, epoch, master, replica, replicaReport, assessment.reason(), request);
  }

  /**
   * Starts the failover of a dead master, unless something forbids it (then a refusal, logged once with the epoch):
   * automatic failover off, the anti-flap window of the previous one not acknowledged, a replica that is not
   * promotable, or a master that had fallen back to asynchronous replication (acknowledged writes may be missing on the
   * replica). The failover's first step, written to the topology before anything is done, empties the write backend.
   */
  private Future<Void> startFailover(DbTopology topology, long epoch, FleetInstance master, FleetInstance replica,
                                     DbStatus replicaReport, String why, JsonObject forced) {
    long now = clock.millis();
    DbStatus last = masterReports.get(master.instanceId());
    String refusal = forced != null ? notPromotable(replica, replicaReport, now).orElse(null)
        : !config.automaticFailover() ? "automatic failover is off (failover.automatic)" + FORCE_HINT
        : topology.failover() != null && topology.failover().holdsOff(now, config.antiFlapSeconds() * 1000)
        ? "failover " + topology.failover().id() + " was " + (now - topology.failover().startedAt()) / 1000
          + " s ago, within the anti-flap window of " + config.antiFlapSeconds() + " s: waiting for an operator to "
          + "acknowledge it" + FORCE_HINT
        : notPromotable(replica, replicaReport, now)
        .or(() -> config.semiSync() && last != null && !last.semiSyncMaster()
            ? Optional.of("the master's last report had semi-sync off (fallen back to asynchronous replication): "
            + "writes it acknowledged may be missing on the replica" + FORCE_HINT) : Optional.empty()).orElse(null);
    if (refusal != null && forced != null) {
      return answerRequest(forced.copy().put("state", "refused").put("why", refusal).put("answeredAt", now));
    }
    if (refusal != null) {
      if (!refusal.equals(lastRefusal)) {
        LOG.warn("DB pair {}: epoch {}: master {} is dead, no failover: {}", config.name(), epoch,
            master.instanceId(), refusal);
        lastRefusal = refusal;
      }
      masterHealth = masterHealth.copy().put("refusal", refusal);
      return Future.succeededFuture();
    }
    lastRefusal = null;
    String detected = "master " + master.instanceId() + " is dead: " + why;
    Failover failover = Failover.start(forced == null ? Failover.Kind.AUTOMATIC : Failover.Kind.FORCED,
        topology.fence(), now, topology.masterSlot(), master.instanceId(), replica.instanceId(),
        last == null ? "" : last.gtidBinlogPos(), forced == null ? detected : "failover forced by "
            + forced.getString("by") + " (" + forced.getString("reason") + "): " + detected
            + (last != null && !last.semiSyncMaster() ? "; its last report had semi-sync off: writes it acknowledged "
            + "may be missing on the replica" : ""))
        .step(now, "write-backend-emptied", "no write goes to either server until the new master is routed",
            topology.fence());
    DbTopology next = topology.withFailover(failover);
    return change(topology, next, epoch, "epoch " + epoch + ": " + (forced == null ? "" : "forced ") + "failover "
        + failover.id() + " of master " + master.instanceId() + " to " + replica.instanceId() + " begins")
        .compose(x -> forced == null ? Future.succeededFuture() : answerRequest(forced.copy()
            .put("state", "started").put("failover", failover.id()).put("answeredAt", now)))
        .onSuccess(x -> {
          // The probe rounds judge on the last tick's topology until the next: this master is failed over once.
          startedFailover = failover.id();
          publishRoute(next, epoch);
        })
        // The fence at once, not at the next failover round (half a probe period sooner, in every failover).
        .compose(x -> fence(next, failover, epoch, seen == null ? List.of() : seen.instances())
            // Not fenced yet: the journal says why, and the failover rounds try again.
            .recover(e -> Future.succeededFuture()));
  }

  /** Whether the anti-flap window holds an automatic failover back now, and until when. */
  private JsonObject antiFlap(DbTopology topology) {
    Failover last = topology.failover();
    long window = config.antiFlapSeconds() * 1000;
    boolean holds = last != null && last.holdsOff(clock.millis(), window);
    return new JsonObject().put("windowSeconds", config.antiFlapSeconds()).put("holdsOff", holds)
        .put("until", holds ? last.startedAt() + window : null)
        .put("automatic", config.automaticFailover());
  }

  /**
   * Whether this coordinator started a failover that {@code topology} (the last tick's) does not show yet; once one
   * shows it, forgotten.
   */
  private boolean startedSince(DbTopology topology) {
    if (startedFailover != null && topology.failover() != null && topology.failover().id().equals(startedFailover)) {
      startedFailover = null;
    }
    return startedFailover != null;
  }

  /** Why the replica cannot become the master now, if it cannot. */
  private static Optional<String> notPromotable(FleetInstance replica, DbStatus report, long now) {
    if (report == null || now - report.sentAt() > REPORT_FRESH_MS) {
      return Optional.of("the replica " + replica.instanceId() + " has not reported lately");
    }
    if (report.server() != DbStatus.Server.UP || !report.readOnly() || report.ioThread() == DbStatus.Thread.NONE) {
      return Optional.of("the replica " + replica.instanceId() + " is not a replica now (MariaDB " + report.server()
          .name().toLowerCase(Locale.ROOT) + ", read_only " + report.readOnly() + ", IO thread " + report.ioThread()
          .name().toLowerCase(Locale.ROOT) + ")");
    }
    if (report.sqlThread() != DbStatus.Thread.YES || !report.lastSqlError().isEmpty()) {
      return Optional.of("the replica " + replica.instanceId() + " does not apply what it receives (SQL thread "
          + report.sqlThread().name().toLowerCase(Locale.ROOT) + (report.lastSqlError().isEmpty() ? ""
          : ", " + report.lastSqlError()) + ")");
    }
    return Optional.empty();
  }

  /** The failover's next step, as the journal in the topology says: fence (and verify), or promote. */
  private Future<Void> continueFailover(DbTopology topology, Failover failover, long epoch,
                                        List<FleetInstance> instances) {
    if (failover.kind() == Failover.Kind.SWITCHOVER && failover.phase() == Failover.Phase.FENCING) {
      return switchoverFence(topology, failover, epoch);
    }
    return failover.phase() == Failover.Phase.FENCING ? fence(topology, failover, epoch, instances)
        : promote(topology, failover, epoch);
  }

  /**
   * Fences the old master and verifies it: its agent sets {@code read_only} and kills the application's connections
   * (or, when MariaDB does not answer, kills MariaDB, which starts again read-only); an agent that does not answer has
   * its instance stopped through the EC2 API (StopInstances, Force), verified by DescribeInstances. Only a verified
   * fence moves the failover on to the promotion; otherwise the next tick tries again.
   */
  private Future<Void> fence(DbTopology topology, Failover failover, long epoch, List<FleetInstance> instances) {
    Optional<FleetInstance> old = instances.stream().filter(i -> i.instanceId().equals(failover.oldMaster()))
        .findFirst();
    if (old.isPresent() && down(old.get())) {
      return fenced(topology, failover, epoch, "the old master's instance is " + old.get().state()
          + " (DescribeInstances)");
    }
    DbCommand command = command(DbCommand.Op.FENCE, topology, "", 0, false, "");
    return vertx.eventBus().request(Addresses.dbControl(failover.oldMaster()), command.toJson(),
            new DeliveryOptions().setSendTimeout(FENCE_TIMEOUT_MS))
        .compose(reply -> fenced(topology, failover, epoch, BY_AGENT + status(reply.body())
            .map(st -> st.server() == DbStatus.Server.UP ? "read_only " + st.readOnly()
                + ", the application's connections killed" : st.problem()).orElse("a reply that is not a status")),
            agentSilent -> fleet.stop(List.of(failover.oldMaster()), true, RetryListener.NONE)
                // Refused (already terminated, say): what DescribeInstances says decides.
                .recover(e -> Future.succeededFuture())
                .compose(x -> downSoon(failover.oldMaster(), STOPPED_CHECKS))
                .compose(now -> {
                  String state = now.stream().filter(i -> i.instanceId().equals(failover.oldMaster()))
                      .map(FleetInstance::state).findFirst().orElse("gone");
                  return now.stream().anyMatch(i -> i.instanceId().equals(failover.oldMaster()) && !down(i))
                      ? Future.failedFuture("still " + state + " after StopInstances")
                      : fenced(topology, failover, epoch, "its agent did not answer (" + agentSilent.getMessage()
                          + "): stopped through EC2 (StopInstances, Force), now " + state);
                })
                .recover(e -> noted(topology, failover, epoch, "fence-failed", "the old master is not fenced yet ("
                    + e.getMessage() + "); trying again").compose(x -> Future.failedFuture(e.getMessage()))));
  }

  /**
   * The fleet as DescribeInstances lists it once the instance is down, or after {@code checks} listings
   * {@value #STOPPED_CHECK_MS} ms apart (a forced stop takes a moment to reach stopped): the last listing.
   */
  private Future<List<FleetInstance>> downSoon(String instanceId, int checks) {
    return fleet.describe().compose(now -> checks <= 1 || now.stream().noneMatch(i -> i.instanceId().equals(instanceId)
        && !down(i)) ? Future.succeededFuture(now)
        : Future.<Void>future(p -> vertx.setTimer(STOPPED_CHECK_MS, t -> p.complete()))
            .compose(x -> downSoon(instanceId, checks - 1)));
  }

  /**
   * Whether an instance's programs cannot run any more: stopped or terminated. Not while stopping or shutting down:
   * on EC2 such an instance may still run for a while, even after a forced stop.
   */
  private static boolean down(FleetInstance instance) {
    return instance.state().equals("stopped") || instance.state().equals("terminated");
  }

  private Future<Void> fenced(DbTopology topology, Failover failover, long epoch, String how) {
    Failover next = failover.step(clock.millis(), "fenced", how, topology.fence()).inPhase(Failover.Phase.PROMOTING);
    DbTopology promoting = topology.withFailover(next);
    return change(topology, promoting, epoch, "failover " + failover.id() + ": " + how)
        .compose(x -> promote(promoting, next, epoch));
  }

  /**
   * Promotes the replica (it applies what it received first, then stops replicating and takes writes), then writes the
   * topology with it as the master: the write backend moves to it on the same tick. A failed promotion is noted and
   * sent again (the agent's PROMOTE is idempotent); after {@value #PROMOTE_ATTEMPTS} the failover fails, and the pair
   * waits for an operator with no writable server. A switchover's replica first applies the old master's fenced
   * position, within its agent's bound (5 s); a switchover whose promotion its agent refused, or could not be sent,
   * is aborted (nothing changed on the replica); one that timed out is sent again like a failover's.
   */
  private Future<Void> promote(DbTopology topology, Failover failover, long epoch) {
    // Semi-sync off: the new master has no replica yet (its first commit would wait the timeout for none); the plan
    // turns it on once the next replica replicates.
    // A switchover's replica applies the old master's fenced position first (its agent waits a bounded time for it),
    // so that it is promoted the moment it has everything, not at its next report.
    DbCommand command = command(DbCommand.Op.PROMOTE, topology, "", 0, false,
        failover.kind() == Failover.Kind.SWITCHOVER ? failover.oldMasterGtid() : "");
    LOG.info("DB pair {}: failover {}: {} to {}", config.name(), failover.id(), command, failover.target());
    return vertx.eventBus().request(Addresses.dbControl(failover.target()), command.toJson(),
            new DeliveryOptions().setSendTimeout(promoteTimeoutMillis()))
        .compose(reply -> {
          DbStatus after = status(reply.body()).orElse(null);
          if (after == null || after.readOnly() || after.server() != DbStatus.Server.UP) {
            return Future.failedFuture("the promoted server's reply does not show it writable");
          }
          long now = clock.millis();
          String applied = after.gtidSlavePos().isEmpty() ? after.gtidBinlogPos() : after.gtidSlavePos();
          Failover promoted = failover.promoted(applied);
          Failover finished = promoted.step(now, "promoted", failover.target() + " is the master (applied " + applied
              + "; the old master's last reported binlog position " + failover.oldMasterGtid() + ": " + promoted.lost()
              + " transactions lost by GTID arithmetic); the write backend moves to it", topology.fence());
          replies.put(failover.target(), after);
          String masterKey = DbPairPlan.key(failover.target(), DbCommand.Op.MASTER, "", 0);
          // Promoted with semi-sync off: on again once a replica replicates, also for one it had semi-sync on for in
          // an earlier term as the master (a switchover back), whose key would say it is on.
          done.removeIf(key -> key.startsWith(masterKey + "/semi-sync/"));
          done.add(masterKey);
          // An old master its agent fenced runs on: it stays its slot's, to rejoin once checked; one stopped through
          // EC2 holds its volume: its slot is built anew.
          boolean byAgent = failover.steps().stream().anyMatch(st -> st.name().equals("fenced")
              && st.text().startsWith(BY_AGENT));
          DbTopology switched = topology.failedOver(finished, epoch, now, !byAgent);
          return change(topology, switched, epoch, "epoch " + epoch + ": failover "
              + failover.id() + " done: " + failover.target() + " is the master, " + promoted.lost() + " lost")
              .onSuccess(x -> {
                publishRoute(switched, epoch);
                tickSoon();
              });
        }, e -> {
          // A promotion that timed out may still happen: a switchover is not aborted then (the old master made
          // writable again beside a late promotion would be two writable masters), its promotion is sent again.
          boolean unknown = e instanceof ReplyException reply && reply.failureType() == ReplyFailure.TIMEOUT;
          if (failover.kind() == Failover.Kind.SWITCHOVER && !unknown) {
            return abort(topology, failover, epoch, "the promotion of " + failover.target() + " failed ("
                + e.getMessage() + ")");
          }
          // Not delivered (a restarted leader before the replica's agent reconnected to it): not an attempt, for a
          // while; the journal says once that it waits.
          boolean undelivered = e instanceof ReplyException reply && reply.failureType() == ReplyFailure.NO_HANDLERS;
          Optional<Failover.Step> waiting = failover.steps().stream()
              .filter(st -> st.name().equals("promote-waiting") && st.fence() == topology.fence()).findFirst();
          if (undelivered && waiting.isEmpty()) {
            return noted(topology, failover, epoch, "promote-waiting", "the replica " + failover.target()
                + "'s agent is not connected to this coordinator (" + e.getMessage() + "): the promotion waits for "
                + "it, up to " + AGENT_WAIT_MS / 1000 + " s");
          }
          if (undelivered && clock.millis() - waiting.get().at() < AGENT_WAIT_MS) {
            LOG.debug("DB pair {}: failover {}: {} still unreachable", config.name(), failover.id(),
                failover.target());
            return Future.succeededFuture();
          }
          long attempts = failover.steps().stream().filter(st -> st.name().equals("promote-failed")).count() + 1;
          if (attempts >= PROMOTE_ATTEMPTS) {
            Failover failed = failover.step(clock.millis(), "failed", "the promotion failed " + attempts
                + " times (last: " + e.getMessage() + "): no server takes writes; an operator must look, then "
                + "acknowledge", topology.fence()).inPhase(Failover.Phase.FAILED);
            return change(topology, topology.withFailover(failed), epoch, "epoch " + epoch + ": failover "
                + failover.id() + " failed");
          }
          return noted(topology, failover, epoch, "promote-failed", "the promotion of " + failover.target()
              + " failed (" + e.getMessage() + "); sent again");
        });
  }

  /**
   * A switchover asked for (the request beside the topology), if the pair can take one: the master writable, the
   * replica promotable. Its first step, written before anything is done, blocks writes (the write backend emptied).
   */
  private Future<Void> startSwitchover(DbTopology topology, long epoch, JsonObject request) {
    long now = clock.millis();
    Seen last = seen;
    Map<String, DbStatus> current = currentReports();
    Optional<FleetInstance> master = last == null ? Optional.empty()
        : slotInstance(topology, last.instances(), topology.masterSlot());
    Optional<FleetInstance> replica = last == null ? Optional.empty()
        : slotInstance(topology, last.instances(), topology.replicaSlot());
    DbStatus masterReport = master.map(i -> current.get(i.instanceId())).orElse(null);
    String refusal = master.isEmpty() || replica.isEmpty() ? "the pair has no master and replica now"
        : masterReport == null || masterReport.server() != DbStatus.Server.UP || masterReport.readOnly()
        ? "the master " + master.get().instanceId() + " does not take writes now: that is a failover's case"
        : notPromotable(replica.get(), current.get(replica.get().instanceId()), now).orElse(null);
    String by = request.getString("by", "an operator");
    if (refusal != null) {
      LOG.warn("DB pair {}: epoch {}: no switchover for {}: {}", config.name(), epoch, by, refusal);
      return answerRequest(request.copy().put("state", "refused").put("why", refusal).put("answeredAt", now));
    }
    Failover failover = Failover.start(Failover.Kind.SWITCHOVER, topology.fence(), now, topology.masterSlot(),
        master.get().instanceId(), replica.get().instanceId(), masterReport.gtidBinlogPos(), "switchover asked by "
            + by + ": " + replica.get().instanceId() + " to take over from " + master.get().instanceId())
        .step(now, "write-backend-emptied", "writes blocked: no write goes to either server until the new master is "
            + "routed (or, on an abort, the old one again)", topology.fence());
    DbTopology next = topology.withFailover(failover);
    return change(topology, next, epoch, "epoch " + epoch + ": switchover " + failover.id() + " to "
        + replica.get().instanceId() + " begins")
        .compose(x -> answerRequest(request.copy().put("state", "started").put("failover", failover.id())
            .put("answeredAt", now)))
        .onSuccess(x -> publishRoute(next, epoch))
        .compose(x -> switchoverFence(next, failover, epoch));
  }

  /**
   * The switchover's fence: the old master's agent makes it read-only and kills the application's connections; its
   * binlog position then is what the replica must have received before it is promoted. An old master that does not
   * answer, or answers only by being killed, aborts the switchover (its last writes' position is not known).
   */
  private Future<Void> switchoverFence(DbTopology topology, Failover failover, long epoch) {
    DbCommand command = command(DbCommand.Op.FENCE, topology, "", 0, false, "");
    return vertx.eventBus().request(Addresses.dbControl(failover.oldMaster()), command.toJson(),
            new DeliveryOptions().setSendTimeout(FENCE_TIMEOUT_MS))
        .map(reply -> status(reply.body()).filter(st -> st.server() == DbStatus.Server.UP && st.readOnly()))
        .recover(e -> Future.succeededFuture(Optional.empty()))
        .compose(fenced -> {
          if (fenced.isEmpty()) {
            return abort(topology, failover, epoch, "the old master " + failover.oldMaster() + " was not fenced by "
                + "SQL (no answer, or an answer without MariaDB up and read-only)");
          }
          String gtid = fenced.get().gtidBinlogPos();
          Failover next = failover.fencedAt(gtid).step(clock.millis(), "fenced", BY_AGENT + "read_only on, the "
              + "application's connections killed; its binlog at " + gtid, topology.fence())
              .inPhase(Failover.Phase.PROMOTING);
          DbTopology promoting = topology.withFailover(next);
          return change(topology, promoting, epoch, "switchover " + failover.id() + ": the old master fenced at "
              + gtid).compose(x -> promote(promoting, next, epoch));
        });
  }

  /** A switchover given up: journaled, then the plan makes the old master writable again (it stayed the master). */
  private Future<Void> abort(DbTopology topology, Failover failover, long epoch, String why) {
    Failover aborted = failover.step(clock.millis(), "aborted", why + ": the old master takes writes again, nothing "
        + "lost", topology.fence()).inPhase(Failover.Phase.ABORTED);
    return change(topology, topology.withFailover(aborted), epoch, "epoch " + epoch + ": switchover "
        + failover.id() + " aborted: " + why).onSuccess(x -> tickSoon());
  }

  private Future<Void> answerRequest(JsonObject answer) {
    return vertx.executeBlocking(() -> {
      map.set(switchoverKey(), answer.encode());
      return null;
    }, false).timeout(opTimeoutMillis, TimeUnit.MILLISECONDS).onSuccess(x -> request = answer).mapEmpty();
  }

  /** A step's failure in the journal, once per distinct sentence in a row. */
  private Future<Void> noted(DbTopology topology, Failover failover, long epoch, String name, String text) {
    Failover.Step last = failover.steps().get(failover.steps().size() - 1);
    if (last.name().equals(name) && last.text().equals(text) && !name.equals("promote-failed")) {
      return Future.succeededFuture();
    }
    return change(topology, topology.withFailover(failover.step(clock.millis(), name, text, topology.fence())), epoch,
        "failover " + failover.id() + ": " + text);
  }

  private Optional<FleetInstance> slotInstance(DbTopology topology, List<FleetInstance> instances, int slot) {
    return DbPairPlan.ofSlot(config, topology, instances, slot).stream().findFirst();
  }

  private Future<?> carryOut(DbPairPlan.Step step, DbTopology topology, long epoch) {
    RetryListener quiet = RetryListener.NONE;
    Map<String, String> slotTag = Map.of(Tags.DB_SLOT, Integer.toString(step.slot()), Tags.DB_GENERATION,
        Integer.toString(step instanceof DbPairPlan.CreateVolume ? topology.volumeGeneration(step.slot())
            : topology.instanceGeneration(step.slot())));
    if (step instanceof DbPairPlan.Launch launch) {
      LOG.info("DB pair {}: launching slot {}'s instance (token {}{})", config.name(), launch.slot(),
          launch.clientToken(), launch.zone() == null ? "" : ", in " + launch.zone() + " with its volume");
      LaunchOrder order = new LaunchOrder(config.name(), config.imageId(), config.instanceType(), 1,
          launch.clientToken(), config.group().userData(deployment, reach.get()), "db", slotTag, launch.zone());
      String gone = "slot " + launch.slot() + "'s instance of generation "
          + topology.instanceGeneration(launch.slot()) + " is gone";
      return fleet.launch(order, quiet).compose(launched -> launched.stream().anyMatch(FleetInstance::alive)
          ? Future.succeededFuture()
          : change(topology, topology.nextInstance(launch.slot()), epoch, gone))
          .recover(e -> e instanceof FleetException failed && IDEMPOTENT_MISMATCH.equals(failed.errorCode())
              ? usedBefore(launch, topology, epoch, gone) : Future.failedFuture(e));
    }
    if (step instanceof DbPairPlan.CreateVolume create) {
      LOG.info("DB pair {}: creating slot {}'s volume in {} ({} GiB, token {})", config.name(), create.slot(),
          create.zone(), config.volumeGiB(), create.clientToken());
      return fleet.createVolume(new VolumeOrder(config.name(), create.zone(), config.volumeGiB(),
              config.volumeType(), create.clientToken(), slotTag), quiet)
          .compose(volume -> volume.usable() ? Future.succeededFuture()
              : change(topology, topology.nextVolume(create.slot()), epoch, "slot " + create.slot()
                  + "'s volume of generation " + topology.volumeGeneration(create.slot()) + " is " + volume.state()));
    }
    if (step instanceof DbPairPlan.Attach attach) {
      LOG.info("DB pair {}: attaching {} to {} as {}", config.name(), attach.volumeId(), attach.instanceId(),
          config.device());
      return fleet.attachVolume(attach.volumeId(), attach.instanceId(), config.device(), quiet);
    }
    return command((DbPairPlan.Command) step, topology, epoch);
  }

  /**
   * The generation's token was used with other parameters (user-data, zone): by an instance of this generation that
   * is gone, unless one still alive carries it. Then the next generation; otherwise nothing (the plan sees it).
   */
  private Future<Void> usedBefore(DbPairPlan.Launch launch, DbTopology topology, long epoch, String gone) {
    return fleet.describe().compose(instances -> instances.stream()
        .anyMatch(i -> i.alive() && launch.clientToken().equals(i.clientToken()))
        ? Future.failedFuture("an instance launched with " + launch.clientToken() + " is alive: not launched again")
        : change(topology, topology.nextInstance(launch.slot()), epoch, gone + " (its token was used before)"));
  }

  private Future<?> command(DbPairPlan.Command step, DbTopology topology, long epoch) {
    // An old master's rejoin carries the position its replica was promoted at: its agent checks it holds nothing past.
    DbCommand command = command(step.op(), topology, step.masterHost(), step.masterPort(), step.semiSync(),
        step.op() == DbCommand.Op.REPLICA ? DbPairPlan.rejoinPosition(topology, step.instanceId()) : "");
    LOG.info("DB pair {}: {} to {}", config.name(), command, step.instanceId());
    return vertx.eventBus().request(Addresses.dbControl(step.instanceId()), command.toJson(),
            new DeliveryOptions().setSendTimeout(COMMAND_TIMEOUT_MS))
        .onSuccess(reply -> {
          if (leadership.leads(epoch)) {
            done.add(step.key());
            if (step.op() == DbCommand.Op.MASTER) {
              String masterKey = DbPairPlan.key(step.instanceId(), DbCommand.Op.MASTER, "", 0);
              done.add(masterKey);
              if (!step.semiSync()) {
                // Semi-sync off now (no replica replicated): on again once one does.
                done.removeIf(key -> key.startsWith(masterKey + "/semi-sync/"));
              }
            }
          }
          status(reply.body()).ifPresent(after -> replies.put(step.instanceId(), after));
          LOG.info("DB pair {}: {} is {} ({})", config.name(), step.instanceId(),
              step.op() == DbCommand.Op.MASTER ? "the master" : "replicating from " + step.masterHost() + ":"
                  + step.masterPort(), shortStatus(reply.body()));
        });
  }

  private DbCommand command(DbCommand.Op op, DbTopology topology, String masterHost, int masterPort,
                            boolean semiSync, String gtid) {
    return new DbCommand(op, topology.fence(), config.database(), DbPairConfig.REPLICATION_USER,
        topology.replicationPassword(), DbPairConfig.APP_USER, topology.appPassword(), masterHost, masterPort,
        semiSync, gtid, config.applyWaitSeconds());
  }

  /** How long the leader waits for a promotion's reply: its agent's two bounded waits, and a margin. */
  private long promoteTimeoutMillis() {
    return 2 * TimeUnit.SECONDS.toMillis(config.applyWaitSeconds()) + PROMOTE_MARGIN_MS;
  }

  private static String shortStatus(Object body) {
    return status(body).map(s -> "read_only " + s.readOnly() + ", binlog " + s.gtidBinlogPos() + ", IO "
        + s.ioThread()).orElse("a reply that is not a DB status");
  }

  private static Optional<DbStatus> status(Object body) {
    try {
      return Optional.of(DbStatus.fromJson(body));
    } catch (MessageException e) {
      LOG.warn("a DB agent's reply that is not a DB status: {}", e.getMessage());
      return Optional.empty();
    }
  }

  /** The stored topology; a pair without one gets one: its own file's, or a new one. Leader only. */
  private Future<DbTopology> topology(long epoch) {
    return stored().compose(raw -> {
      if (raw != null) {
        DbTopology found = DbTopology.fromJson(new JsonObject(raw));
        return keep(found).map(found);
      }
      DbTopology initial = fromFile().orElseGet(() -> DbTopology.first(epoch, clock.millis(), random));
      LOG.info("DB pair {}: no topology in the cluster; {} ({})", config.name(), Files.exists(file)
          ? "the one kept in " + file : "a new pair", initial);
      return vertx.executeBlocking(() -> map.putIfAbsent(config.name(), initial.toJson().encode()) == null, false)
          .timeout(opTimeoutMillis, TimeUnit.MILLISECONDS)
          .compose(put -> stored()).map(now -> DbTopology.fromJson(new JsonObject(now)))
          .compose(now -> keep(now).map(now));
    });
  }

  /** Replaces {@code prior} with {@code next} if no one changed it meanwhile, while this coordinator leads. */
  private Future<Void> change(DbTopology prior, DbTopology next, long epoch, String why) {
    if (!leadership.leads(epoch)) {
      return Future.failedFuture("no longer the leader of epoch " + epoch + ": " + why + ", left to the next");
    }
    LOG.info("DB pair {}: {}; now {}", config.name(), why, next);
    return vertx.executeBlocking(() -> map.replace(config.name(), prior.toJson().encode(), next.toJson().encode()),
        false).timeout(opTimeoutMillis, TimeUnit.MILLISECONDS).compose(replaced -> replaced
            ? keep(next) : Future.failedFuture("the topology changed meanwhile: " + why + ", planned again"));
  }

  private Future<String> stored() {
    return Future.fromCompletionStage(map.getAsync(config.name()), vertx.getOrCreateContext())
        .timeout(opTimeoutMillis, TimeUnit.MILLISECONDS);
  }

  private Optional<DbTopology> fromFile() {
    if (!Files.exists(file)) {
      return Optional.empty();
    }
    try {
      return Optional.of(DbTopology.fromJson(new JsonObject(Files.readString(file))));
    } catch (IOException | RuntimeException e) {
      throw new IllegalStateException(file + " cannot be read as the DB pair's topology: " + e.getMessage()
          + " (move it away to start a new pair)", e);
    }
  }

  /** Writes the topology to this coordinator's file when it differs (owner-only, replaced atomically). */
  private Future<Void> keep(DbTopology topology) {
    return vertx.executeBlocking(() -> {
      journal.follow(topology.failover());
      String json = topology.toJson().encodePrettily();
      if (Files.exists(file) && Files.readString(file).equals(json)) {
        return null;
      }
      Files.createDirectories(file.getParent());
      Path next = file.resolveSibling(file.getFileName() + ".new");
      Files.deleteIfExists(next);
      Files.createFile(next, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      Files.writeString(next, json, StandardCharsets.UTF_8);
      Files.move(next, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      return null;
    }, false);
  }
}
