package io.fleetvote.coordinator;

import io.fleetvote.common.Addresses;
import io.fleetvote.common.msg.AgentHeartbeat;
import io.fleetvote.common.msg.LiveInstances;
import io.fleetvote.common.msg.MessageException;
import io.fleetvote.common.msg.Rejections;
import io.fleetvote.coordinator.LiveRegistry.Entry;
import io.fleetvote.coordinator.LiveRegistry.Outcome;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * Keeps the coordinator's {@link LiveRegistry} fed by the agents' heartbeats on {@link Addresses#AGENT_HEARTBEATS},
 * sweeps out expired instances every second, and answers {@link Addresses#REGISTRY_QUERY} with the live list.
 * A joining and an expiring instance each log one line. A heartbeat that is not accepted is counted in
 * {@code fleetvote_coordinator_messages_rejected_total} by address and reason ({@code invalid}, {@code deployment},
 * {@code future}, {@code stale}, {@code error}) and logged as {@link Rejections} do; nothing a sender puts on the bus
 * stops the consumer.
 */
final class RegistryVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(RegistryVerticle.class);
  private static final long SWEEP_PERIOD_MS = 1000;
  private static final String INVALID = "invalid";
  private static final String ERROR = "error";

  private final CoordinatorOptions options;
  private final Clock clock;
  private LiveRegistry registry;
  private Rejections rejections;

  RegistryVerticle(CoordinatorOptions options, Clock clock) {
    this.options = options;
    this.clock = clock;
  }

  @Override
  public Future<?> start() {
    registry = new LiveRegistry(options.getDeployment(), options.getExpireAfterMillis(),
        options.getFutureToleranceMillis(), clock);
    // Without metrics (tools, some tests) there is no default registry: count into one nobody scrapes.
    rejections = Rejections.of(Rejections.COORDINATOR_METRIC, LOG, "registry of " + options.getDeployment(), clock);
    // Every reason is scraped from the start, at 0, so a rate or an alert on it has a series to work on.
    rejections.expect(Addresses.AGENT_HEARTBEATS, Stream.concat(Stream.of(INVALID, ERROR),
        Stream.of(Outcome.values()).map(Outcome::reason).filter(Objects::nonNull)).toArray(String[]::new));
    vertx.setPeriodic(SWEEP_PERIOD_MS, id -> sweep());
    LOG.info("registry of deployment {} listening on {}; instances expire {} ms after their last heartbeat",
        options.getDeployment(), Addresses.AGENT_HEARTBEATS, options.getExpireAfterMillis());
    return Future.join(
        vertx.eventBus().consumer(Addresses.AGENT_HEARTBEATS, this::heartbeat).completion(),
        vertx.eventBus().localConsumer(Addresses.REGISTRY_QUERY, this::query).completion());
  }

  private void heartbeat(Message<Object> message) {
    AgentHeartbeat heartbeat;
    try {
      heartbeat = AgentHeartbeat.fromJson(message.body());
    } catch (MessageException e) {
      rejections.reject(message.address(), INVALID, "from " + sender(message.body()) + ": " + e.field() + " "
          + e.problem());
      return;
    } catch (RuntimeException e) {
      rejections.reject(message.address(), ERROR, "from " + sender(message.body()) + ", could not be read: " + e);
      return;
    }
    admit(message.address(), heartbeat);
  }

  private void admit(String address, AgentHeartbeat heartbeat) {
    String id = heartbeat.instanceId();
    Outcome outcome = registry.accept(heartbeat);
    if (outcome.accepted()) {
      if (outcome != Outcome.RENEWED) {
        LOG.info("{} {}: deployment {}, group {}, roles {}, app {}:{}, agent port {}", id,
            outcome == Outcome.JOINED ? "joined" : "rejoined after it had expired", heartbeat.deployment(),
            heartbeat.group(), roleNames(heartbeat), heartbeat.address(), heartbeat.appPort(), heartbeat.agentPort());
      }
      return;
    }
    rejections.reject(address, outcome.reason(), id + ": " + switch (outcome) {
      case WRONG_DEPLOYMENT -> "deployment " + heartbeat.deployment() + " is not this coordinator's ("
          + options.getDeployment() + ")";
      case FROM_THE_FUTURE -> "sent " + (heartbeat.sentAt() - clock.millis())
          + " ms ahead of this coordinator's clock (tolerance " + options.getFutureToleranceMillis() + " ms)";
      default -> "sent at " + heartbeat.sentAt() + ", before the heartbeat held";
    });
  }

  private void sweep() {
    for (String id : registry.expire()) {
      LOG.info("{} expired: no heartbeat for {} ms", id, options.getExpireAfterMillis());
    }
  }

  private void query(Message<Object> request) {
    List<LiveInstances.Entry> instances = new ArrayList<>();
    for (Entry entry : registry.live()) {
      instances.add(new LiveInstances.Entry(entry.heartbeat(), registry.millisSinceLastSeen(entry)));
    }
    request.reply(new LiveInstances(instances).toJson());
  }

  private static String roleNames(AgentHeartbeat heartbeat) {
    return heartbeat.roles().stream().sorted().map(role -> role.name().toLowerCase(Locale.ROOT)).toList().toString();
  }

  /** Who sent a message that could not be read, as far as its own fields say. */
  private static String sender(Object body) {
    if (body instanceof JsonObject json && (json.getValue("instanceId") instanceof String
        || json.getValue("address") instanceof String)) {
      return json.getValue("instanceId") + " at " + json.getValue("address");
    }
    return "an unknown sender";
  }
}
