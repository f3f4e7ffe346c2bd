package io.fleetvote.agent;

import io.fleetvote.agent.lb.BackendPlan.Endpoint;
import io.fleetvote.agent.lb.BackendPlan.Member;
import io.fleetvote.agent.lb.BackendStatus;
import io.fleetvote.agent.lb.DbBackends;
import io.fleetvote.agent.lb.LbRegistrar;
import io.fleetvote.common.Addresses;
import io.fleetvote.common.imds.InstanceIdentity;
import io.fleetvote.common.msg.AgentHeartbeat;
import io.fleetvote.common.msg.DbRoute;
import io.fleetvote.common.msg.DeregisterRequest;
import io.fleetvote.common.msg.LbAnnouncement;
import io.fleetvote.common.msg.LbStatus;
import io.fleetvote.common.msg.MessageException;
import io.fleetvote.common.msg.Rejections;
import io.fleetvote.common.msg.RegisterRequest;
import io.fleetvote.common.msg.RegistrationReply;
import io.fleetvote.common.msg.Role;
import io.fleetvote.common.msg.Vote;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The cluster side of an LB agent: announces which group its HAProxy serves, answers app agents' register and
 * deregister requests through the {@link LbRegistrar}, follows the group's heartbeats, and reconciles the backend with
 * them every {@code reconcileMs} and at once when HAProxy (re)starts. Requests it cannot read are answered with a
 * failure naming the field, counted, and logged; the verticle keeps serving.
 */
final class LbVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(LbVerticle.class);

  private final InstanceIdentity identity;
  private final AgentOptions options;
  private final LbRegistrar registrar;
  private final Clock clock;
  private final Map<String, Heard> heard = new HashMap<>();
  private boolean announcing;
  private boolean failingOpen;
  private long listeningSince;
  private Context context;
  private Rejections rejections;
  private AgentBus bus;
  private DbBackends db;

  private record Heard(AgentHeartbeat heartbeat, long receivedAt) {
  }

  LbVerticle(InstanceIdentity identity, AgentOptions options, LbRegistrar registrar, Clock clock) {
    this.identity = identity;
    this.options = options;
    this.registrar = registrar;
    this.clock = clock;
  }

  /** The DB pair's backends this LB follows the leader's routes into; null when it has none. */
  LbVerticle withDb(DbBackends backends) {
    this.db = backends;
    return this;
  }

  /** The bus to talk to the fleet on (the agent's link when it has coordinators); the local bus if never given. */
  LbVerticle withBus(AgentBus bus) {
    this.bus = bus;
    return this;
  }

  @Override
  public Future<?> start() {
    if (bus == null) {
      bus = AgentBus.local(vertx);
    }
    context = vertx.getOrCreateContext();
    rejections = Rejections.of(Rejections.AGENT_METRIC, LOG, identity.instanceId(), clock);
    listeningSince = clock.millis();
    vertx.setPeriodic(0, options.getGossipPeriodMs(), t -> announce());
    vertx.setPeriodic(options.getLb().getReconcileMs(), t -> reconcile());
    LOG.info("{}: LB of group {} ({}), frontend {}:{}", identity.instanceId(), options.getLb().getServes(),
        options.getLb().backend(), identity.privateIp(), options.getLb().getFrontendPort());
    return Future.join(
        db == null ? Future.succeededFuture() : bus.consumer(Addresses.DB_ROUTES, this::dbRoute),
        bus.consumer(Addresses.AGENT_HEARTBEATS, this::heartbeat),
        bus.consumer(Addresses.lbRegister(identity.instanceId()), this::register),
        bus.consumer(Addresses.lbDeregister(identity.instanceId()), this::deregister));
  }

  private void dbRoute(Message<Object> message) {
    try {
      DbRoute route = DbRoute.fromJson(message.body());
      if (route.deployment().equals(options.getDeployment())) {
        db.follow(route);
      }
    } catch (MessageException e) {
      rejections.reject(message.address(), "invalid", "a DB route that could not be read: " + e.getMessage());
    }
  }

  /** HAProxy (re)started: its dynamic servers are gone, put them back now rather than at the next period. */
  void haproxyStarted() {
    context.runOnContext(x -> reconcile());
  }

  private void announce() {
    bus.publish(Addresses.LB_ANNOUNCEMENTS, new LbAnnouncement(identity.instanceId(),
        options.getDeployment(), options.getLb().getServes(), identity.privateIp(), options.getLb().getFrontendPort(),
        clock.millis(), lease(), options.getLb().getDbWritePort(), options.getLb().getDbReadPort()).toJson());
  }

  /**
   * How long an announcement of this LB, and a heartbeat it heard, count: three periods and the link's lease, as a
   * vote's (Vote.leaseMillis), so that an agent whose coordinator froze is heard through another before it lapses.
   */
  private long lease() {
    return Vote.leaseMillis(options.getGossipPeriodMs(), bus.moveMillis());
  }

  private void heartbeat(Message<Object> message) {
    try {
      AgentHeartbeat heartbeat = AgentHeartbeat.fromJson(message.body());
      if (heartbeat.deployment().equals(options.getDeployment()) && heartbeat.roles().contains(Role.APP)
          && heartbeat.group().equals(options.getLb().getServes())) {
        Heard previous = heard.get(heartbeat.instanceId());
        heard.put(heartbeat.instanceId(), new Heard(heartbeat, clock.millis()));
        if (previous == null && !announcing) {
          // A new instance of the group: tell it where its LB is now rather than at the next period (one
          // announcement for all the instances heard within 20 ms, so a restarted LB does not answer each one).
          announcing = true;
          vertx.setTimer(20, t -> {
            announcing = false;
            announce();
          });
        }
        if (previous != null && !previous.heartbeat().leaving() && heartbeat.leaving()) {
          reconcile();
        }
      }
    } catch (MessageException e) {
      rejections.reject(Addresses.AGENT_HEARTBEATS, "invalid", e.getMessage());
    }
  }

  private void register(Message<Object> message) {
    RegisterRequest request;
    try {
      request = RegisterRequest.fromJson(message.body());
    } catch (MessageException e) {
      refuse(message, "registration", e);
      return;
    }
    if (!request.group().equals(options.getLb().getServes())) {
      message.reply(new RegistrationReply(identity.instanceId(), request.instanceId(), RegistrationReply.Outcome.FAILED,
          "this LB serves group " + options.getLb().getServes() + ", not " + request.group(), 0).toJson());
      return;
    }
    registrar.register(request.instanceId(), new Endpoint(request.address(), request.port(), request.checkPort()))
        .onComplete(result -> message.reply(result.succeeded() ? result.result().toJson()
            : failure(request.instanceId(), result.cause()).toJson()));
  }

  private void deregister(Message<Object> message) {
    DeregisterRequest request;
    try {
      request = DeregisterRequest.fromJson(message.body());
    } catch (MessageException e) {
      refuse(message, "deregistration", e);
      return;
    }
    registrar.deregister(request.instanceId(), request.drainTimeoutMillis())
        .onComplete(result -> message.reply(result.succeeded() ? result.result().toJson()
            : failure(request.instanceId(), result.cause()).toJson()));
  }

  private void reconcile() {
    long now = clock.millis();
    long lease = lease();
    heard.values().removeIf(h -> now - h.receivedAt() >= lease);
    Map<String, Member> members = new HashMap<>();
    heard.forEach((id, h) -> members.put(id, new Member(new Endpoint(h.heartbeat().address(), h.heartbeat().appPort(),
        h.heartbeat().checkPort()), h.heartbeat().appReady() && h.heartbeat().appPort() > 0, h.heartbeat().leaving(),
        h.receivedAt())));
    registrar.reconcile(members, now - listeningSince >= 2 * lease)
        .onFailure(err -> LOG.warn("{}: reconcile failed: {}", identity.instanceId(), err.getMessage()))
        .compose(x -> registrar.status())
        .onSuccess(this::publishStatus);
  }

  /** The backend as it is after a reconcile, for the coordinators' dashboards; a change of fail-open is logged. */
  private void publishStatus(BackendStatus status) {
    if (status.failOpen() != failingOpen) {
      failingOpen = status.failOpen();
      if (failingOpen) {
        LOG.warn("{}: failing open: {}", identity.instanceId(), status.note());
      } else {
        LOG.info("{}: routing by the health checks again", identity.instanceId());
      }
    }
    List<LbStatus.Server> list = status.servers().stream().map(s -> new LbStatus.Server(s.name(),
        s.maintenance() ? "MAINT" : s.draining() ? "DRAIN" : s.up() ? "UP" : "DOWN",
        s.checkStatus() == null ? "" : s.checkStatus(), s.sessions(), s.total(), s.weight())).toList();
    bus.publish(Addresses.LB_STATUS, new LbStatus(identity.instanceId(), options.getDeployment(),
        options.getLb().getServes(), clock.millis(), list, status.failOpen(), status.note(),
        db == null ? null : db.state()).toJson());
  }

  private void refuse(Message<Object> message, String what, MessageException e) {
    rejections.reject(message.address(), "invalid", what + ": " + e.getMessage());
    message.fail(400, what + " refused: " + e.getMessage());
  }

  private RegistrationReply failure(String instanceId, Throwable cause) {
    return new RegistrationReply(identity.instanceId(), instanceId, RegistrationReply.Outcome.FAILED,
        String.valueOf(cause.getMessage()), 0);
  }
}
