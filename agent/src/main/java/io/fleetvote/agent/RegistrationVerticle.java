package io.fleetvote.agent;

import io.fleetvote.agent.lb.LbOptions;
import io.fleetvote.common.Addresses;
import io.fleetvote.common.LogSafe;
import io.fleetvote.common.imds.InstanceIdentity;
import io.fleetvote.common.msg.DeregisterRequest;
import io.fleetvote.common.msg.DrainReply;
import io.fleetvote.common.msg.DrainRequest;
import io.fleetvote.common.msg.LbAnnouncement;
import io.fleetvote.common.msg.MessageException;
import io.fleetvote.common.msg.Rejections;
import io.fleetvote.common.msg.RegisterRequest;
import io.fleetvote.common.msg.RegistrationReply;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.netty.channel.ConnectTimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.ConnectException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The app side of load balancing: probes the instance's web app, and once it answers asks every LB of its group to
 * register it (request/reply), again with backoff after a failure and with every new LB it hears of. To leave
 * (a drain request from the coordinator, or SIGTERM) it marks the instance leaving, so no LB adds it again, and asks
 * every LB to deregister it; the reply comes once each LB said {@code Server deleted.} (or gave up). An operator's
 * drain takes it out the same way but not for good: an undrain registers it again.
 * <p>
 * The app counts as not ready only after {@value #PROBE_FALL} probes in a row failed (refused, an error status, or no
 * answer within {@value #PROBE_TIMEOUT_MILLIS} ms), so one slow answer under load does not make an instance unhealthy.
 */
final class RegistrationVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(RegistrationVerticle.class);
  private static final long PROBE_MILLIS = 500;
  /**
   * Until the app first passes (for at most {@value #FIRST_PROBES_MILLIS} ms after the start), it is probed this
   * often: a new instance's registration waits on it.
   */
  private static final long FIRST_PROBE_MILLIS = 100;
  private static final long FIRST_PROBES_MILLIS = 60_000;
  private static final long PROBE_TIMEOUT_MILLIS = 2000;
  private static final int PROBE_FALL = 3;
  private static final long MAX_BACKOFF_MILLIS = 10_000;
  /** Margin over the LB's first-check timeout (registration) or drain timeout (deregistration). */
  private static final long REPLY_MARGIN_MILLIS = 5000;

  private final InstanceIdentity identity;
  private final AgentOptions options;
  private final InstanceState state;
  private final long drainTimeoutMillis;
  private final Clock clock;
  private final Map<String, Heard> lbs = new HashMap<>();
  private final Set<String> registered = new HashSet<>();
  private final Set<String> inFlight = new HashSet<>();
  private final Map<String, Long> retryAt = new HashMap<>();
  private final Map<String, Long> backoff = new HashMap<>();
  private Context context;
  private HttpClient http;
  private Future<DrainReply> terminating;
  private Rejections rejections;
  private boolean probing;
  private int probeFailures;
  private AgentBus bus;

  private record Heard(LbAnnouncement announcement, long receivedAt) {
  }

  RegistrationVerticle(InstanceIdentity identity, AgentOptions options, InstanceState state, long drainTimeoutMillis,
                       Clock clock) {
    this.identity = identity;
    this.options = options;
    this.state = state;
    this.drainTimeoutMillis = drainTimeoutMillis;
    this.clock = clock;
  }

  /** The bus to talk to the fleet on (the agent's link when it has coordinators); the local bus if never given. */
  RegistrationVerticle withBus(AgentBus bus) {
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
    http = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout((int) PROBE_TIMEOUT_MILLIS)
        .setKeepAlive(false));
    vertx.setPeriodic(0, PROBE_MILLIS, t -> probe());
    long firstProbesEnd = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(FIRST_PROBES_MILLIS);
    vertx.setPeriodic(FIRST_PROBE_MILLIS, FIRST_PROBE_MILLIS, t -> {
      if (state.appReady() || state.leaving() || System.nanoTime() > firstProbesEnd) {
        vertx.cancelTimer(t);
      } else {
        probe();
      }
    });
    return Future.join(
        bus.consumer(Addresses.LB_ANNOUNCEMENTS, this::announcement),
        bus.consumer(Addresses.agentDrain(identity.instanceId()), this::drainRequest));
  }

  /**
   * Leaves every LB gracefully for good (SIGTERM, or the coordinator's drain before it terminates the instance);
   * callable from any thread, once: later calls get the same result.
   */
  Future<DrainReply> leave(long timeoutMillis) {
    Promise<DrainReply> done = Promise.promise();
    context.runOnContext(x -> {
      if (terminating == null) {
        if (state.leave()) {
          LOG.info("{}: leaving for good: deregistering from {} LB(s)", identity.instanceId(), lbs.size());
        }
        terminating = deregisterEverywhere(timeoutMillis);
      }
      terminating.onComplete(done);
    });
    return done.future();
  }

  private void probe() {
    if (options.getAppPort() == 0 || probing) {
      return;
    }
    probing = true;
    http.request(HttpMethod.GET, options.getAppPort(), identity.privateIp(), "/health")
        .compose(request -> request.send().compose(response -> response.body().map(response.statusCode())))
        .timeout(PROBE_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)
        .onComplete(result -> {
          probing = false;
          InstanceState.App app = probed(result.succeeded() ? result.result() : null, result.cause());
          if (state.app(app)) {
            LOG.info("{}: the app {}", identity.instanceId(), app.ready() ? "passes its health check"
                : "fails its health check: " + app.problem());
          }
          registerWhereMissing();
        });
  }

  /** The app's state after one probe: ready at once on a 200, not ready after {@value #PROBE_FALL} failures in a row. */
  private InstanceState.App probed(Integer status, Throwable failure) {
    if (status != null && status == 200) {
      probeFailures = 0;
      return InstanceState.App.READY;
    }
    probeFailures++;
    InstanceState.App before = state.app();
    if (before.ready() && probeFailures < PROBE_FALL) {
      return before;
    }
    if (status != null) {
      return new InstanceState.App(false, false, "answers /health with HTTP " + status);
    }
    boolean refused = failure instanceof ConnectException && !(failure instanceof ConnectTimeoutException);
    return new InstanceState.App(false, refused, refused ? "refuses connections on port " + options.getAppPort()
        : failure instanceof TimeoutException || failure instanceof ConnectTimeoutException
        ? "no answer to /health within " + PROBE_TIMEOUT_MILLIS + " ms"
        : "its health check failed: " + LogSafe.printable(String.valueOf(failure.getMessage()), 120));
  }

  private void announcement(Message<Object> message) {
    try {
      LbAnnouncement lb = LbAnnouncement.fromJson(message.body());
      if (lb.deployment().equals(options.getDeployment()) && lb.serves().equals(options.getGroup())) {
        if (lbs.put(lb.instanceId(), new Heard(lb, clock.millis())) == null) {
          LOG.info("{}: LB {} serves group {}", identity.instanceId(), lb.instanceId(), lb.serves());
          registerWhereMissing();
        }
      }
    } catch (MessageException e) {
      rejections.reject(message.address(), "invalid", "an LB announcement that could not be read: " + e.getMessage());
    }
  }

  private void registerWhereMissing() {
    long now = clock.millis();
    lbs.entrySet().removeIf(e -> {
      boolean gone = now - e.getValue().receivedAt() >= e.getValue().announcement().leaseMillis();
      if (gone) {
        registered.remove(e.getKey());
      }
      return gone;
    });
    if (!state.appReady() || state.leaving()) {
      return;
    }
    for (String lb : lbs.keySet()) {
      if (!registered.contains(lb) && !inFlight.contains(lb) && now >= retryAt.getOrDefault(lb, 0L)) {
        register(lb);
      }
    }
  }

  private Future<RegistrationReply> register(String lb) {
    inFlight.add(lb);
    RegisterRequest request = new RegisterRequest(identity.instanceId(), options.getGroup(), identity.privateIp(),
        options.getAppPort(), options.getCheckPort());
    return bus.request(Addresses.lbRegister(lb), request.toJson(),
            LbOptions.DEFAULT_FIRST_CHECK_TIMEOUT_MS + REPLY_MARGIN_MILLIS)
        .map(RegistrationReply::fromJson)
        .recover(err -> Future.succeededFuture(new RegistrationReply(lb, identity.instanceId(),
            RegistrationReply.Outcome.FAILED, String.valueOf(err.getMessage()), 0)))
        .onSuccess(reply -> {
          inFlight.remove(lb);
          if (reply.outcome() == RegistrationReply.Outcome.READY) {
            registered.add(lb);
            backoff.remove(lb);
            LOG.info("{}: registered with LB {} in {} ms", identity.instanceId(), lb, reply.millis());
            if (state.leaving()) {
              deregister(lb, drainTimeoutMillis);
            }
          } else {
            long wait = Math.min(MAX_BACKOFF_MILLIS, backoff.getOrDefault(lb, 500L) * 2);
            backoff.put(lb, wait);
            retryAt.put(lb, clock.millis() + wait);
            LOG.warn("{}: registration with LB {} failed ({}); again in {} ms", identity.instanceId(), lb,
                reply.message(), wait);
          }
        });
  }

  private Future<RegistrationReply> deregister(String lb, long timeoutMillis) {
    DeregisterRequest request = new DeregisterRequest(identity.instanceId(), timeoutMillis);
    return bus.request(Addresses.lbDeregister(lb), request.toJson(), timeoutMillis + REPLY_MARGIN_MILLIS)
        .map(RegistrationReply::fromJson)
        .onSuccess(reply -> registered.remove(lb));
  }

  private void drainRequest(Message<Object> message) {
    DrainRequest request;
    try {
      request = DrainRequest.fromJson(message.body());
    } catch (MessageException e) {
      rejections.reject(message.address(), "invalid", "a drain request: " + e.getMessage());
      message.fail(400, "drain refused: " + e.getMessage());
      return;
    }
    Future<DrainReply> done = switch (request.kind()) {
      case LEAVE -> leave(request.drainTimeoutMillis());
      case DRAIN -> drainByOperator(request.drainTimeoutMillis());
      case UNDRAIN -> undrain();
    };
    done.onComplete(result -> {
      if (result.succeeded()) {
        message.reply(result.result().toJson());
      } else {
        message.fail(409, String.valueOf(result.cause().getMessage()));
      }
    });
  }

  private Future<DrainReply> drainByOperator(long timeoutMillis) {
    if (state.terminating()) {
      return leave(timeoutMillis);
    }
    if (state.drain()) {
      LOG.info("{}: drained by an operator: deregistering from {} LB(s)", identity.instanceId(), lbs.size());
    }
    return deregisterEverywhere(timeoutMillis);
  }

  private Future<DrainReply> undrain() {
    if (state.terminating()) {
      return Future.failedFuture(identity.instanceId() + " is leaving for good (it is being terminated): it cannot "
          + "come back");
    }
    if (state.undrain()) {
      LOG.info("{}: undrained by an operator: registering with {} LB(s) again", identity.instanceId(), lbs.size());
    }
    if (!state.appReady()) {
      return Future.failedFuture(identity.instanceId() + " is back in rotation, but its app is not ready ("
          + state.app().problem() + "): the LBs take it once it is");
    }
    List<Future<RegistrationReply>> replies = new ArrayList<>();
    for (String lb : new ArrayList<>(lbs.keySet())) {
      if (!registered.contains(lb) && !inFlight.contains(lb)) {
        replies.add(register(lb));
      }
    }
    return collect(replies, "back in the LBs");
  }

  private Future<DrainReply> deregisterEverywhere(long timeoutMillis) {
    List<Future<RegistrationReply>> replies = new ArrayList<>();
    for (String lb : new ArrayList<>(lbs.keySet())) {
      replies.add(deregister(lb, timeoutMillis).recover(err -> Future.succeededFuture(new RegistrationReply(lb,
          identity.instanceId(), RegistrationReply.Outcome.FAILED, String.valueOf(err.getMessage()), 0))));
    }
    return collect(replies, "left the LBs");
  }

  private Future<DrainReply> collect(List<Future<RegistrationReply>> replies, String what) {
    return Future.join(replies).map(all -> {
      DrainReply reply = new DrainReply(identity.instanceId(), replies.stream().map(Future::result).toList());
      LOG.info("{}: {}: {} {}", identity.instanceId(), what, reply.sentence(), reply.toJson().encode());
      return reply;
    });
  }
}
