package io.fleetvote.coordinator;

import io.fleetvote.common.Addresses;
import io.fleetvote.common.msg.AgentHeartbeat;
import io.fleetvote.common.msg.MessageException;
import io.fleetvote.coordinator.LiveRegistry.Entry;
import io.fleetvote.coordinator.LiveRegistry.Outcome;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.micrometer.backends.BackendRegistries;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * Keeps the coordinator's {@link LiveRegistry} fed by the agents' heartbeats on {@link Addresses#AGENT_HEARTBEATS},
 * sweeps out expired instances every second, and answers {@link Addresses#REGISTRY_QUERY} with the live list.
 * A joining and an expiring instance each log one line. A heartbeat that is not accepted is counted in
 * {@code fleetvote_coordinator_messages_rejected_total} by address and reason ({@code invalid}, {@code deployment},
 * {@code future}, {@code stale}, {@code error}); nothing a sender puts on the bus stops the consumer.
 */
final class RegistryVerticle extends VerticleBase {

  static final String REJECTED = "fleetvote.coordinator.messages.rejected";
  private static final Logger LOG = LoggerFactory.getLogger(RegistryVerticle.class);
  private static final long SWEEP_PERIOD_MS = 1000;
  private static final int MAX_REJECTIONS_REMEMBERED = 1024;
  private static final String INVALID = "invalid";
  private static final String ERROR = "error";

  private final CoordinatorOptions options;
  private final Clock clock;
  /**
   * The reason last logged for each instance whose heartbeats are rejected: a misconfigured agent repeats every
   * gossip period, so only a change is logged. Bounded, in case many such instances come and go.
   */
  private final Map<String, String> rejectionLogged = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
      return size() > MAX_REJECTIONS_REMEMBERED;
    }
  };
  private LiveRegistry registry;
  private MeterRegistry meters;

  RegistryVerticle(CoordinatorOptions options, Clock clock) {
    this.options = options;
    this.clock = clock;
  }

  @Override
  public Future<?> start() {
    registry = new LiveRegistry(options.getDeployment(), options.getExpireAfterMillis(),
        options.getFutureToleranceMillis(), clock);
    // Without metrics (tools, some tests) there is no default registry: count into one nobody scrapes.
    meters = Objects.requireNonNullElseGet(BackendRegistries.getDefaultNow(), SimpleMeterRegistry::new);
    // Every reason is scraped from the start, at 0, so a rate or an alert on it has a series to work on.
    Stream.concat(Stream.of(INVALID, ERROR), Stream.of(Outcome.values()).map(Outcome::reason).filter(Objects::nonNull))
        .forEach(reason -> rejected(Addresses.AGENT_HEARTBEATS, reason));
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
      LOG.warn("rejected a message on {} from {}: {} {}", message.address(), sender(message.body()),
          printable(e.field()), printable(e.problem()));
      rejected(message.address(), INVALID).increment();
      return;
    } catch (RuntimeException e) {
      LOG.warn("rejected a message on {} from {} that could not be read: {}", message.address(),
          sender(message.body()), printable(e.toString()));
      rejected(message.address(), ERROR).increment();
      return;
    }
    admit(message.address(), heartbeat);
  }

  private void admit(String address, AgentHeartbeat heartbeat) {
    String id = heartbeat.instanceId();
    Outcome outcome = registry.accept(heartbeat);
    if (outcome.accepted()) {
      rejectionLogged.remove(id);
      if (outcome != Outcome.RENEWED) {
        LOG.info("{} {}: deployment {}, group {}, roles {}, app {}:{}, agent port {}", id,
            outcome == Outcome.JOINED ? "joined" : "rejoined after it had expired", heartbeat.deployment(),
            heartbeat.group(), roleNames(heartbeat), heartbeat.address(), heartbeat.appPort(), heartbeat.agentPort());
      }
      return;
    }
    rejected(address, outcome.reason()).increment();
    if (!outcome.reason().equals(rejectionLogged.put(id, outcome.reason()))) {
      LOG.warn("{}: heartbeat rejected ({}): {}; until that changes, more are only counted", id, outcome.reason(),
          switch (outcome) {
            case WRONG_DEPLOYMENT -> "deployment " + heartbeat.deployment() + " is not this coordinator's ("
                + options.getDeployment() + ")";
            case FROM_THE_FUTURE -> "sent " + (heartbeat.sentAt() - clock.millis())
                + " ms ahead of this coordinator's clock (tolerance " + options.getFutureToleranceMillis() + " ms)";
            default -> "sent at " + heartbeat.sentAt() + ", before the heartbeat held";
          });
    }
  }

  private void sweep() {
    for (String id : registry.expire()) {
      LOG.info("{} expired: no heartbeat for {} ms", id, options.getExpireAfterMillis());
    }
  }

  private void query(Message<Object> request) {
    JsonArray instances = new JsonArray();
    for (Entry entry : registry.live()) {
      instances.add(entry.heartbeat().toJson().put("lastSeenMillisAgo", registry.millisSinceLastSeen(entry)));
    }
    request.reply(new JsonObject().put("instances", instances));
  }

  private Counter rejected(String address, String reason) {
    return Counter.builder(REJECTED)
        .description("Messages received on the event bus and not accepted, by address and reason")
        .tag("address", address)
        .tag("reason", reason)
        .register(meters);
  }

  private static String roleNames(AgentHeartbeat heartbeat) {
    return heartbeat.roles().stream().sorted().map(role -> role.name().toLowerCase(Locale.ROOT)).toList().toString();
  }

  /** Who sent a message that could not be read, as far as its own fields say. */
  private static String sender(Object body) {
    if (body instanceof JsonObject json && (json.getValue("instanceId") instanceof String
        || json.getValue("address") instanceof String)) {
      return printable(json.getValue("instanceId") + " at " + json.getValue("address"));
    }
    return "an unknown sender";
  }

  /** Text from the wire, made safe for one log line. */
  private static String printable(String text) {
    String line = text.replaceAll("[^\\x20-\\x7e]", "?");
    return line.length() <= 120 ? line : line.substring(0, 120) + "...";
  }
}
