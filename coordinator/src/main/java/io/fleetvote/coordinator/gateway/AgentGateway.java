package io.fleetvote.coordinator.gateway;

import io.fleetvote.common.imds.IdentityDocument;
import io.fleetvote.common.imds.IdentityVerifier;
import io.fleetvote.common.link.Frame;
import io.fleetvote.common.link.FrameCodec;
import io.fleetvote.common.msg.MessageException;
import io.fleetvote.common.msg.Rejections;
import io.fleetvote.common.tls.OwnKey;
import io.fleetvote.coordinator.attest.Attestor;
import io.fleetvote.coordinator.fleet.Fleet;
import io.fleetvote.coordinator.fleet.FleetInstance;
import io.fleetvote.coordinator.scaling.GroupConfig;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.PfxOptions;
import io.vertx.micrometer.backends.BackendRegistries;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Where agents connect: a TLS server (the coordinator's own key, {@link OwnKey}) holding one {@link AgentConnection}
 * per agent. It attests agents ({@link Attestor} over the cloud's signed identity documents and the deployment's
 * DescribeInstances), and relays between each connection and the cluster's bus: what an agent may send is forwarded
 * (publish, request), what its subscriptions receive is delivered to it. One clustered consumer per subscribed
 * address, whatever the number of agents subscribed to it; a publish goes to every subscribed connection but the one
 * it came in on. Agents are not cluster members: a fleet costs the coordinators one connection per agent.
 * <p>
 * Metrics: {@code fleetvote_gateway_connections} (attested), refusals in
 * {@code fleetvote_coordinator_messages_rejected_total{address="gateway.<frame type>"}}, and publishes dropped for a
 * connection that does not keep up.
 */
public final class AgentGateway extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(AgentGateway.class);
  private static final String KEYSTORE = "gateway.p12";
  private static final char[] STORE_PASSWORD = "fleetvote-gateway".toCharArray();
  /** The cluster map of every coordinator's gateway: address and certificate. */
  private static final String DIRECTORY = "fleetvote.gateways";
  private static final long DIRECTORY_REFRESH_MS = 2000;
  private static final long DIRECTORY_TTL_MS = 10_000;

  private final GatewayOptions options;
  private final String coordinatorId;
  private final String dataDir;
  private final Supplier<Fleet> fleetFactory;
  private final List<GroupConfig> groups;
  private final String deployment;
  private final Clock clock;
  private final Map<Long, AgentConnection> connections = new HashMap<>();
  private final Map<String, Set<AgentConnection>> subscribers = new HashMap<>();
  private final Map<String, MessageConsumer<Object>> consumers = new HashMap<>();
  private final Map<String, Integer> nextSubscriber = new HashMap<>();
  private Fleet fleet;
  private FleetBindings bindings;
  private Attestor attestor;
  private Rejections rejections;
  private NetServer server;
  private String certificatePem;
  private volatile JsonObject reach = new JsonObject();
  private long nextConnection;
  private int attested;
  private long dropped;

  /**
   * @param coordinatorId the coordinator's name, told to agents in their welcome
   * @param dataDir       where the gateway's TLS key is kept (made the first time)
   */
  public AgentGateway(GatewayOptions options, String coordinatorId, String dataDir, String deployment,
                      List<GroupConfig> groups, Supplier<Fleet> fleet, Clock clock) {
    this.options = options;
    this.coordinatorId = coordinatorId;
    this.dataDir = dataDir;
    this.deployment = deployment;
    this.groups = List.copyOf(groups);
    this.fleetFactory = fleet;
    this.clock = clock;
  }

  @Override
  public Future<?> start() {
    rejections = Rejections.of(Rejections.COORDINATOR_METRIC, LOG, "agent gateway", clock);
    MeterRegistry meters = Optional.ofNullable(BackendRegistries.getDefaultNow()).orElse(Metrics.globalRegistry);
    Gauge.builder("fleetvote.gateway.connections", () -> attested)
        .description("Agents connected to this coordinator and attested").register(meters);
    Gauge.builder("fleetvote.gateway.dropped", () -> dropped)
        .description("Publishes not delivered to an agent whose connection did not keep up").register(meters);
    IdentityVerifier verifier = IdentityVerifier.fromPem(options.identityCertificate());
    attestor = new Attestor(verifier, options.accountId(), options.region(), clock,
        Duration.ofMillis(options.sessionMillis()));
    fleet = fleetFactory.get();
    bindings = new FleetBindings(fleet, deployment, groups, clock, 1000);
    vertx.setPeriodic(Math.max(100, options.leaseMillis() / 3), t -> expireSilent());
    return vertx.executeBlocking(() -> OwnKey.load(Path.of(dataDir, KEYSTORE), STORE_PASSWORD,
            OwnKey.Spec.tlsServer("gateway", "CN=Fleetvote coordinator " + coordinatorId, options.host())))
        .compose(key -> {
          certificatePem = key.certificatePem();
          server = vertx.createNetServer(new NetServerOptions().setHost(options.host()).setPort(options.port())
              .setSsl(true).setKeyCertOptions(new PfxOptions().setPath(key.store().toString())
                  .setPassword(new String(STORE_PASSWORD)))
              .setIdleTimeout((int) Math.max(1, options.leaseMillis() * 2 / 1000)).setIdleTimeoutUnit(TimeUnit.SECONDS)
              .setTcpNoDelay(true));
          server.connectHandler(this::connected);
          return server.listen();
        })
        .compose(listening -> advertise().map(listening))
        .onSuccess(s -> vertx.setPeriodic(DIRECTORY_REFRESH_MS, t -> advertise()))
        .onSuccess(s -> LOG.info("agent gateway on {}:{} (TLS); agents attest with identity documents of {}{}",
            options.host(), s.actualPort(), options.region(),
            options.accountId() == null ? "" : ", account " + options.accountId()));
  }

  @Override
  public Future<?> stop() {
    new ArrayList<>(connections.values()).forEach(AgentConnection::close);
    return (server == null ? Future.succeededFuture() : server.close()).eventually(() -> fleet == null
        ? Future.succeededFuture() : fleet.close());
  }

  /**
   * Puts this gateway in the coordinators' directory (a cluster map whose entries expire unless renewed) and reads
   * every coordinator's entry back: what new instances' user-data names, so an agent can reach any of them.
   */
  private Future<Void> advertise() {
    JsonObject entry = new JsonObject().put("address", options.host() + ":" + server.actualPort())
        .put("certificate", certificatePem);
    return vertx.sharedData().<String, JsonObject>getAsyncMap(DIRECTORY)
        .compose(map -> map.put(coordinatorId, entry, DIRECTORY_TTL_MS).compose(put -> map.values()))
        .onSuccess(all -> {
          List<JsonObject> sorted = new ArrayList<>(all);
          sorted.sort(Comparator.comparing(e -> e.getString("address")));
          JsonObject now = new JsonObject().put("coordinators", new JsonObject()
              .put("addresses", new JsonArray(sorted.stream().map(e -> e.getString("address")).toList()))
              .put("certificates", String.join("", sorted.stream().map(e -> e.getString("certificate")).toList())));
          if (!now.equals(reach)) {
            reach = now;
            // Agents taken before a coordinator came (or after one went) learn where to go next.
            Buffer frame = FrameCodec.encode(new Frame(Frame.Type.COORDINATORS, now));
            connections.values().stream().filter(c -> c.binding().isPresent()).forEach(c -> c.deliverPublished(frame));
          }
        })
        .onFailure(e -> LOG.warn("cannot update the coordinators' gateway directory: {}", e.getMessage()))
        .mapEmpty();
  }

  /** The user-data's fields that let a new instance's agent reach the coordinators' gateways. */
  public JsonObject reach() {
    return reach.copy();
  }

  /** The port agents connect to. */
  public int actualPort() {
    return server.actualPort();
  }

  /** The gateway's certificate, PEM: what agents are given to trust it. */
  public String certificatePem() {
    return certificatePem;
  }

  private void connected(NetSocket socket) {
    if (connections.size() >= options.maxConnections()) {
      rejected("connect", "full", "more than " + options.maxConnections() + " connections: closing "
          + socket.remoteAddress());
      socket.close();
      return;
    }
    long id = nextConnection++;
    connections.put(id, new AgentConnection(id, socket, this, clock.millis()));
  }

  Future<AgentConnection.Attested> attest(String document, String signature, String nonce) {
    String claimed;
    try {
      claimed = IdentityDocument.fromJson(document).instanceId();
    } catch (MessageException e) {
      return Future.failedFuture(new Attestor.Refused("document", "identity refused: " + e.getMessage()));
    }
    return bindings.instance(claimed).map(found -> {
      Attestor.Session session = attestor.attest(document, signature, nonce,
          id -> id.equals(claimed) ? found : Optional.empty());
      FleetInstance instance = found.orElseThrow();
      AgentPolicy.Binding binding = bindings.binding(instance).orElseThrow(() -> new Attestor.Refused("group",
          claimed + " is of group '" + instance.group() + "', which the groups file does not name"));
      return new AgentConnection.Attested(binding, session);
    });
  }

  void attested(AgentConnection connection) {
    attested++;
    LOG.debug("{} attested and connected", connection.binding().map(AgentPolicy.Binding::instanceId).orElse("?"));
  }

  void subscribe(String address, AgentConnection connection) {
    subscribers.computeIfAbsent(address, a -> new LinkedHashSet<>()).add(connection);
    consumers.computeIfAbsent(address, a -> bus().consumer(a, message -> relay(a, message)));
  }

  void closed(AgentConnection connection, Set<String> subscriptions) {
    if (connections.remove(connection.id()) != null && connection.binding().isPresent()) {
      attested--;
    }
    for (String address : subscriptions) {
      Set<AgentConnection> set = subscribers.get(address);
      if (set != null && set.remove(connection) && set.isEmpty()) {
        subscribers.remove(address);
        nextSubscriber.remove(address);
        MessageConsumer<Object> consumer = consumers.remove(address);
        if (consumer != null) {
          consumer.unregister();
        }
      }
    }
  }

  private void relay(String address, Message<Object> message) {
    Set<AgentConnection> set = subscribers.getOrDefault(address, Set.of());
    if (set.isEmpty()) {
      return;
    }
    if (message.replyAddress() != null) {
      // A request goes to one agent (an LB's own address has one subscriber; several: in turn).
      List<AgentConnection> list = new ArrayList<>(set);
      int next = nextSubscriber.merge(address, 1, Integer::sum);
      list.get(Math.floorMod(next, list.size())).deliverRequest(message);
      return;
    }
    // A publish is encoded once, whatever the number of agents it goes to.
    String origin = message.headers().get(AgentConnection.ORIGIN);
    Buffer frame = FrameCodec.encode(Frame.message(address, message.body() instanceof JsonObject json ? json
        : new JsonObject(), null));
    for (AgentConnection connection : set) {
      if (!Long.toString(connection.id()).equals(origin)) {
        connection.deliverPublished(frame);
      }
    }
  }

  private void expireSilent() {
    long now = clock.millis();
    for (AgentConnection connection : new ArrayList<>(connections.values())) {
      if (now - connection.lastFrameAt() > options.leaseMillis()) {
        rejected("connect", "silent", connection.binding().map(AgentPolicy.Binding::instanceId)
            .orElse("an unattested agent") + " sent nothing for " + options.leaseMillis() + " ms: closing");
        connection.close();
      }
    }
  }

  void rejected(String what, String reason, String message) {
    rejections.reject("gateway." + what, reason, message);
  }

  void dropped() {
    dropped++;
  }

  void later(long millis, Runnable action) {
    vertx.setTimer(millis, t -> action.run());
  }

  EventBus bus() {
    return vertx.eventBus();
  }

  long now() {
    return clock.millis();
  }

  String coordinatorId() {
    return coordinatorId;
  }

  long leaseMillis() {
    return options.leaseMillis();
  }
}
