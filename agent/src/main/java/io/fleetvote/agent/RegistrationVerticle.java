package io.fleetvote.agent;

import io.fleetvote.agent.lb.LbOptions;
import io.fleetvote.common.Addresses;
import io.fleetvote.common.imds.InstanceIdentity;
import io.fleetvote.common.msg.DeregisterRequest;
import io.fleetvote.common.msg.JsonFields;
import io.fleetvote.common.msg.LbAnnouncement;
import io.fleetvote.common.msg.MessageException;
import io.fleetvote.common.msg.RegisterRequest;
import io.fleetvote.common.msg.RegistrationReply;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The app side of load balancing: probes the instance's web app, and once it answers asks every LB of its group to
 * register it (request/reply), again with backoff after a failure and with every new LB it hears of. To leave
 * (a drain request from the coordinator, or SIGTERM) it marks the instance leaving, so no LB adds it again, and asks
 * every LB to deregister it; the reply comes once each LB said {@code Server deleted.} (or gave up).
 */
final class RegistrationVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(RegistrationVerticle.class);
  private static final long PROBE_MILLIS = 500;
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
  private Future<JsonObject> draining;

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

  @Override
  public Future<?> start() {
    context = vertx.getOrCreateContext();
    http = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout(1000).setKeepAlive(false));
    vertx.setPeriodic(0, PROBE_MILLIS, t -> probe());
    return Future.join(
        vertx.eventBus().consumer(Addresses.LB_ANNOUNCEMENTS, this::announcement).completion(),
        vertx.eventBus().consumer(Addresses.agentDrain(identity.instanceId()), this::drainRequest).completion());
  }

  /** Leaves every LB gracefully; callable from any thread (the shutdown hook), once: later calls get the same result. */
  Future<JsonObject> drain(long timeoutMillis) {
    Promise<JsonObject> done = Promise.promise();
    context.runOnContext(x -> {
      if (draining == null) {
        draining = leave(timeoutMillis);
      }
      draining.onComplete(done);
    });
    return done.future();
  }

  private void probe() {
    if (options.getAppPort() == 0) {
      return;
    }
    http.request(HttpMethod.GET, options.getAppPort(), identity.privateIp(), "/health")
        .compose(request -> request.send().compose(response -> response.body().map(response.statusCode())))
        .timeout(1000, TimeUnit.MILLISECONDS)
        .onComplete(result -> {
          boolean ready = result.succeeded() && result.result() == 200;
          if (state.appReady(ready)) {
            LOG.info("{}: the app {} its health check", identity.instanceId(), ready ? "passes" : "fails");
          }
          registerWhereMissing();
        });
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
      LOG.warn("{}: an LB announcement could not be read: {}", identity.instanceId(), e.getMessage());
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

  private void register(String lb) {
    inFlight.add(lb);
    RegisterRequest request = new RegisterRequest(identity.instanceId(), options.getGroup(), identity.privateIp(),
        options.getAppPort());
    vertx.eventBus().<Object>request(Addresses.lbRegister(lb), request.toJson(), new DeliveryOptions()
            .setSendTimeout(LbOptions.DEFAULT_FIRST_CHECK_TIMEOUT_MS + REPLY_MARGIN_MILLIS))
        .map(reply -> RegistrationReply.fromJson(reply.body()))
        .onComplete(result -> {
          inFlight.remove(lb);
          if (result.succeeded() && result.result().outcome() == RegistrationReply.Outcome.READY) {
            registered.add(lb);
            backoff.remove(lb);
            LOG.info("{}: registered with LB {} in {} ms", identity.instanceId(), lb, result.result().millis());
            if (state.leaving()) {
              deregister(lb, drainTimeoutMillis);
            }
          } else {
            long wait = Math.min(MAX_BACKOFF_MILLIS, backoff.getOrDefault(lb, 500L) * 2);
            backoff.put(lb, wait);
            retryAt.put(lb, clock.millis() + wait);
            LOG.warn("{}: registration with LB {} failed ({}); again in {} ms", identity.instanceId(), lb,
                result.succeeded() ? result.result().message() : result.cause().getMessage(), wait);
          }
        });
  }

  private Future<RegistrationReply> deregister(String lb, long timeoutMillis) {
    DeregisterRequest request = new DeregisterRequest(identity.instanceId(), timeoutMillis);
    return vertx.eventBus().<Object>request(Addresses.lbDeregister(lb), request.toJson(), new DeliveryOptions()
            .setSendTimeout(timeoutMillis + REPLY_MARGIN_MILLIS))
        .map(reply -> RegistrationReply.fromJson(reply.body()))
        .onSuccess(reply -> registered.remove(lb));
  }

  private void drainRequest(Message<Object> message) {
    long timeout;
    try {
      timeout = JsonFields.longValue(JsonFields.object(message.body(), "drain"), "drainTimeoutMillis", 0,
          DeregisterRequest.MAX_DRAIN_TIMEOUT_MILLIS, drainTimeoutMillis);
    } catch (MessageException e) {
      message.fail(400, "drain refused: " + e.getMessage());
      return;
    }
    drain(timeout).onComplete(result -> message.reply(result.succeeded() ? result.result()
        : new JsonObject().put("instanceId", identity.instanceId()).put("error", result.cause().getMessage())));
  }

  private Future<JsonObject> leave(long timeoutMillis) {
    if (state.leave()) {
      LOG.info("{}: leaving: deregistering from {} LB(s)", identity.instanceId(), lbs.size());
    }
    List<Future<RegistrationReply>> replies = new ArrayList<>();
    for (String lb : new ArrayList<>(lbs.keySet())) {
      replies.add(deregister(lb, timeoutMillis).recover(err -> Future.succeededFuture(new RegistrationReply(lb,
          identity.instanceId(), RegistrationReply.Outcome.FAILED, String.valueOf(err.getMessage()), 0))));
    }
    return Future.join(replies).map(all -> {
      JsonArray list = new JsonArray();
      replies.forEach(r -> list.add(r.result().toJson()));
      LOG.info("{}: left the LBs: {}", identity.instanceId(), list.encode());
      return new JsonObject().put("instanceId", identity.instanceId()).put("replies", list);
    });
  }
}
