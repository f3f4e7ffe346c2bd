package io.fleetvote.coordinator.gateway;

import io.fleetvote.common.Addresses;
import io.fleetvote.common.LogSafe;
import io.fleetvote.common.cluster.ClusterBootstrap;
import io.fleetvote.common.imds.IdentityDocument;
import io.fleetvote.common.imds.IdentityVerifier;
import io.fleetvote.common.link.Frame;
import io.fleetvote.common.link.FrameCodec;
import io.fleetvote.common.link.Silence;
import io.fleetvote.common.msg.MessageException;
import io.fleetvote.common.msg.Rejections;
import io.fleetvote.common.tls.ClusterKey;
import io.fleetvote.common.tls.OwnKey;
import io.fleetvote.coordinator.CoordinatorOptions;
import io.fleetvote.coordinator.attest.Attestations;
import io.fleetvote.coordinator.attest.Attestor;
import io.fleetvote.coordinator.fleet.Fleet;
import io.fleetvote.coordinator.fleet.FleetInstance;
import io.fleetvote.coordinator.leader.CoordinatorQuorum;
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
import io.vertx.core.net.JdkSSLEngineOptions;
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
import java.util.function.Function;
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
  static final String DIRECTORY = "fleetvote.gateways";
  /** Published (coordinators only) when an instance is revoked: every gateway closes its connection. */
  static final String REVOKED = "fleetvote.gateway.revoked";
  /** This coordinator's API asks its gateway to revoke an instance (a local consumer). */
  public static final String REVOKE = "fleetvote.gateway.revoke";
  /**
   * Published (coordinators only) by a gateway that entered the directory: the others read it at once rather than at
   * their next refresh, so that agents they hold learn of it before they may need it.
   */
  static final String DIRECTORY_CHANGED = "fleetvote.gateway.directory";
  private static final long DIRECTORY_REFRESH_MS = 2000;
  private static final long DIRECTORY_TTL_MS = 10_000;

  private final GatewayOptions options;
  private final String coordinatorId;
  private final String dataDir;
  private final Supplier<Fleet> fleetFactory;
  private final List<GroupConfig> groups;
  private final String deployment;
  private final Path clusterKey;
  private final long opTimeoutMillis;
  private final Clock clock;
  private final Map<Long, AgentConnection> connections = new HashMap<>();
  private final Map<String, Set<AgentConnection>> subscribers = new HashMap<>();
  private final Map<String, MessageConsumer<Object>> consumers = new HashMap<>();
  private final Map<String, Integer> nextSubscriber = new HashMap<>();
  private final RetainedAnnouncements announcements;
  private final Silence silence;
  private Fleet fleet;
  private FleetBindings bindings;
  private Attestor attestor;
  private Attestations attestations;
  private Rejections rejections;
  private NetServer server;
  private String certificatePem;
  private volatile JsonObject reach = new JsonObject();
  /** In the directory: from then on it reads the directory again when another gateway enters it. */
  private boolean listed;
  private long nextConnection;
  private int attested;
  private long dropped;
  private long resumedUnchecked;

  /**
   * @param coordinator   the coordinator's options: its gateway's, its data directory (where the gateway's TLS key is
   *                      kept, made the first time), its deployment and groups, its cluster key (whence the session
   *                      key), its cluster operations' timeout
   * @param coordinatorId the coordinator's name, told to agents in their welcome
   */
  public AgentGateway(CoordinatorOptions coordinator, String coordinatorId, Supplier<Fleet> fleet, Clock clock) {
    this.options = coordinator.getGateway();
    this.coordinatorId = coordinatorId;
    this.dataDir = coordinator.getDataDir();
    this.deployment = coordinator.getDeployment();
    List<GroupConfig> all = new ArrayList<>(coordinator.getScaling().getGroups());
    coordinator.getScaling().getDb().ifPresent(db -> all.add(db.group()));
    this.groups = List.copyOf(all);
    this.clusterKey = Path.of(coordinator.getCluster().getKeyStore());
    this.opTimeoutMillis = coordinator.getOpTimeoutMillis();
    this.fleetFactory = fleet;
    this.clock = clock;
    this.announcements = new RetainedAnnouncements(clock);
    this.silence = new Silence(silencePeriodMillis());
  }

  @Override
  public Future<?> start() {
    rejections = Rejections.of(Rejections.COORDINATOR_METRIC, LOG, "agent gateway", clock);
    MeterRegistry meters = Optional.ofNullable(BackendRegistries.getDefaultNow()).orElse(Metrics.globalRegistry);
    Gauge.builder("fleetvote.gateway.connections", () -> attested)
        .description("Agents connected to this coordinator and attested").register(meters);
    Gauge.builder("fleetvote.gateway.dropped", () -> dropped)
        .description("Publishes not delivered to an agent whose connection did not keep up").register(meters);
    Gauge.builder("fleetvote.gateway.resumed.unchecked", () -> resumedUnchecked)
        .description("Agents taken on their signed session credential while the attestations map did not answer")
        .register(meters);
    IdentityVerifier verifier = IdentityVerifier.fromPem(options.identityCertificate());
    attestations = new Attestations(vertx, ClusterBootstrap.hazelcast(vertx).getMap(CoordinatorQuorum.ATTESTATION_MAP),
        opTimeoutMillis);
    vertx.eventBus().<JsonObject>localConsumer(REVOKE, message -> {
      String instance = message.body().getString("instanceId");
      revoke(instance).onComplete(done -> {
        if (done.succeeded()) {
          LOG.warn("{} revoked by {}", instance, LogSafe.printable(message.body().getString("user"), 60));
          message.reply(new JsonObject().put("instanceId", instance).put("revoked", true)
              .put("closedHere", done.result()));
        } else {
          message.fail(503, String.valueOf(done.cause().getMessage()));
        }
      });
    });
    // An instance revoked at another coordinator: its connection here closes too.
    bus().<JsonObject>consumer(REVOKED, message -> {
      String revoked = message.body() == null ? null : message.body().getString("instanceId");
      if (revoked != null) {
        closeInstance(revoked);
      }
    });
    bus().<String>consumer(DIRECTORY_CHANGED, message -> {
      if (listed && !coordinatorId.equals(message.body())) {
        advertise();
      }
    });
    // Always followed, so that an agent that subscribes is told the LBs at once (RetainedAnnouncements).
    consumers.put(Addresses.LB_ANNOUNCEMENTS, bus().consumer(Addresses.LB_ANNOUNCEMENTS, message -> {
      announcements.remember(message.body());
      relay(Addresses.LB_ANNOUNCEMENTS, message);
    }));
    fleet = fleetFactory.get();
    bindings = new FleetBindings(fleet, deployment, groups, clock, 1000);
    vertx.setPeriodic(silencePeriodMillis(), t -> expireSilent());
    return vertx.executeBlocking(() -> ClusterKey.sessionKey(ClusterKey.load(clusterKey)))
        .onSuccess(sessionKey -> attestor = new Attestor(verifier, sessionKey, options.accountId(), options.region(),
            clock, Duration.ofMillis(options.sessionMillis())))
        .compose(x -> vertx.executeBlocking(() -> OwnKey.load(Path.of(dataDir, KEYSTORE), STORE_PASSWORD,
            OwnKey.Spec.tlsServer("gateway", "CN=Fleetvote coordinator " + coordinatorId, options.host()))))
        .compose(key -> {
          certificatePem = key.certificatePem();
          server = vertx.createNetServer(new NetServerOptions().setHost(options.host()).setPort(options.port())
              .setSsl(true).setKeyCertOptions(new PfxOptions().setPath(key.store().toString())
                  .setPassword(new String(STORE_PASSWORD)))
              .setIdleTimeout((int) Math.max(1, options.leaseMillis() * 2 / 1000)).setIdleTimeoutUnit(TimeUnit.SECONDS)
              .setTcpNoDelay(true)
              // A TLS handshake's key exchange and signature run on a worker, not the event loop: a thousand agents
              // reconnecting at once (their coordinator gone) took the event loops for seconds, the heartbeats of the
              // agents already here went unread, they were judged silent and reconnected in turn.
              .setSslEngineOptions(new JdkSSLEngineOptions().setUseWorkerThread(true)));
          server.connectHandler(this::connected);
          return server.listen();
        })
        .compose(listening -> advertise().map(listening))
        .onSuccess(s -> {
          listed = true;
          bus().publish(DIRECTORY_CHANGED, coordinatorId);
        })
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
            LOG.info("the coordinators' gateways are now {}", now.getJsonObject("coordinators")
                .getJsonArray("addresses"));
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
    return bindings.instance(claimed).compose(found -> {
      String id = attestor.identify(document, signature, only(claimed, found));
      return bind(id, nonce, found.orElseThrow(), 2);
    });
  }

  /** Binds the instance to the nonce and a new session: compare-and-set, tried again when another got there first. */
  private Future<AgentConnection.Attested> bind(String id, String nonce, FleetInstance instance, int tries) {
    return attestations.get(id).recover(e -> Future.failedFuture(unavailable(id, e))).compose(stored -> {
      Attestor.Granted granted = attestor.bind(id, nonce, stored.attestation());
      return attestations.replace(id, stored, granted.stored()).compose(replaced -> {
        if (replaced) {
          return Future.succeededFuture(new AgentConnection.Attested(binding(instance), granted.session()));
        }
        return tries > 1 ? bind(id, nonce, instance, tries - 1) : Future.failedFuture(new Attestor.Refused("busy",
            id + " is being attested elsewhere at the same time; try again"));
      });
    });
  }

  /** An agent back with the session credential of its last attestation (at this coordinator or another). */
  Future<AgentConnection.Attested> resume(String instanceId, String credential) {
    return bindings.instance(instanceId).compose(found -> {
      long expiresAt = attestor.verify(instanceId, credential, only(instanceId, found));
      AgentConnection.Attested attested = new AgentConnection.Attested(binding(found.orElseThrow()),
          new Attestor.Session(credential, instanceId, expiresAt));
      // Well within the agent's patience for a welcome: a map that does not answer soon is not answering.
      return attestations.get(instanceId, Math.min(opTimeoutMillis, options.leaseMillis() / 3)).transform(stored -> {
        if (stored.succeeded()) {
          attestor.current(instanceId, credential, stored.result().attestation());
        } else {
          // The coordinators' map does not answer (a minority here, a member frozen): the credential is signed by
          // the coordinators and unexpired, so the agent is taken rather than locked out; staleness and revocation
          // are checked again at its next connection.
          resumedUnchecked++;
          LOG.warn("{} resumed on its signed credential alone: the attestations cannot be read now ({})", instanceId,
              e(stored.cause()));
        }
        return Future.succeededFuture(attested);
      });
    });
  }

  private Attestor.Refused unavailable(String id, Throwable cause) {
    return new Attestor.Refused("unavailable", "cannot attest " + id + " now: the coordinators' attestations cannot "
        + "be read (" + e(cause) + "); a coordinator of the majority can");
  }

  private static String e(Throwable cause) {
    return cause.getMessage() == null ? cause.toString() : cause.getMessage();
  }

  /**
   * Revokes an instance's agent for the whole deployment: no session, no attestation ever again; every coordinator's
   * gateway closes its connection. Completes with the number of connections this one closed.
   */
  public Future<Integer> revoke(String instanceId) {
    return attestations.get(instanceId)
        .compose(stored -> attestations.replace(instanceId, stored, Attestor.revoked(stored.attestation()))
            .compose(replaced -> replaced ? Future.succeededFuture() : revoke(instanceId).mapEmpty()))
        .map(done -> {
          bus().publish(REVOKED, new JsonObject().put("instanceId", instanceId));
          return closeInstance(instanceId);
        });
  }

  /** Closes the connections bound to {@code instanceId} (revoked at some coordinator); returns how many. */
  private int closeInstance(String instanceId) {
    List<AgentConnection> bound = connections.values().stream()
        .filter(c -> c.binding().map(b -> b.instanceId().equals(instanceId)).orElse(false)).toList();
    bound.forEach(AgentConnection::close);
    return bound.size();
  }

  private static Function<String, Optional<FleetInstance>> only(String id, Optional<FleetInstance> found) {
    return asked -> asked.equals(id) ? found : Optional.empty();
  }

  private AgentPolicy.Binding binding(FleetInstance instance) {
    return bindings.binding(instance).orElseThrow(() -> new Attestor.Refused("group",
        instance.instanceId() + " is of group '" + instance.group() + "', which the groups file does not name"));
  }

  void attested(AgentConnection connection) {
    attested++;
    LOG.debug("{} attested and connected", connection.binding().map(AgentPolicy.Binding::instanceId).orElse("?"));
  }

  void subscribe(String address, AgentConnection connection) {
    subscribers.computeIfAbsent(address, a -> new LinkedHashSet<>()).add(connection);
    consumers.computeIfAbsent(address, a -> bus().consumer(a, message -> relay(a, message)));
    if (address.equals(Addresses.LB_ANNOUNCEMENTS)) {
      announcements.current().forEach(connection::deliverPublished);
    }
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
        MessageConsumer<Object> consumer = address.equals(Addresses.LB_ANNOUNCEMENTS) ? null
            : consumers.remove(address);
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
    silence.checked(now);
    for (AgentConnection connection : new ArrayList<>(connections.values())) {
      if (connection.silentMillis(now) > options.leaseMillis()) {
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

  /** Its judge of the agents' silence: the lateness of its check does not count against them. */
  Silence silence() {
    return silence;
  }

  /**
   * Over how long its agents spread their reconnection when this coordinator goes, so that they do not all come to
   * another at once: half a millisecond per agent held, at most half a lease (5,000 agents: 1.5 s of a 3 s lease).
   */
  long spreadMillis() {
    return Math.min(options.leaseMillis() / 2, attested / 2);
  }

  private long silencePeriodMillis() {
    return Math.max(100, options.leaseMillis() / 3);
  }

  long leaseMillis() {
    return options.leaseMillis();
  }
}
