package io.fleetvote.agent.link;

import io.fleetvote.common.LogSafe;
import io.fleetvote.common.imds.InstanceMetadataClient.SignedIdentity;
import io.fleetvote.common.link.Frame;
import io.fleetvote.common.link.FrameCodec;
import io.fleetvote.common.link.Silence;
import io.fleetvote.common.msg.JsonFields;
import io.fleetvote.common.msg.MessageException;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.JdkSSLEngineOptions;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.PemTrustOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The agent's one connection to a coordinator (TLS, trusting only the coordinators' certificates): it attests with
 * the instance's signed identity document and its nonce (at the next coordinator it resumes with the session
 * credential of its last welcome, and attests again if that is refused), then carries the agent's publishes and requests up, and
 * brings down what its subscribed addresses receive, onto the agent's own (local) event bus, where its verticles
 * listen as they would on a clustered one; a message that wants an answer is requested there and the answer goes
 * back up. It pings every third of the lease the coordinator gives; a coordinator silent for a lease (the time the
 * agent itself was held up not counted: {@link Silence}), or gone, is left for the next one of the list after a
 * random part of the spread that coordinator gave (its other agents leave it at the same moment), then with a
 * jittered backoff while none takes it. Subscriptions are
 * made again on every new connection. Its methods may be called from any thread: they run on the context that
 * started the link, and a request's answer comes back on the caller's context.
 */
public final class CoordinatorLink {

  private static final Logger LOG = LoggerFactory.getLogger(CoordinatorLink.class);
  private static final Pattern HOST_PORT = Pattern.compile("(.+):(\\d+)");
  private static final long WELCOME_TIMEOUT_MS = 5000;
  private static final long FIRST_RETRY_MS = 200;
  private static final long MAX_RETRY_MS = 5000;
  private static final long LEASE_CHECK_MS = 250;

  private final Vertx vertx;
  /** The coordinators it knows: from the user-data first, then as the last coordinator that took it listed them. */
  private volatile LinkOptions options;
  /** What the last welcome listed, taken at the next connection (a new trust needs a new client). */
  private volatile LinkOptions learned;
  private final String instanceId;
  private final Supplier<Future<SignedIdentity>> identity;
  private final String nonce;
  private final Clock clock;
  private final Set<String> subscriptions = new LinkedHashSet<>();
  private final Map<Long, Promise<JsonObject>> pending = new HashMap<>();
  private final Context context;
  /** Where a link shares its clients with others: the client for a set of coordinators' certificates; else null. */
  private final Function<LinkOptions, NetClient> shared;
  private final List<Runnable> onConnected = new ArrayList<>();
  private NetClient client;
  private long leaseTimer = -1;
  /** The session credential of the last welcome: the next connection resumes with it instead of attesting. */
  private String credential;
  private NetSocket socket;
  private boolean welcomed;
  private String coordinator;
  /** The silence after which the agent leaves its coordinator: the welcome's lease (read on any thread). */
  private volatile long leaseMillis = 3000;
  private long lastFrameAt;
  private long heardMark;
  /** Over how long it spreads its reconnection when its coordinator goes (the coordinator's word: 0 until it says). */
  private long spreadMillis;
  /** The lease's judge: the time this agent itself was held up (a pause, a starved host) is not the coordinator's. */
  private final Silence silence = new Silence(LEASE_CHECK_MS);
  private long nextId;
  private int next;
  private int failures;
  private long timer = -1;
  private boolean closed;
  /** The coordinator that took the agent, for its health; null while it has none. */
  private volatile String connected;

  public CoordinatorLink(Vertx vertx, LinkOptions options, String instanceId,
                         Supplier<Future<SignedIdentity>> identity, String nonce, Clock clock) {
    this(vertx, options, instanceId, identity, nonce, clock, null);
  }

  /**
   * The same over clients shared with many links (simulated agents by the thousand: one TLS context, not one each):
   * {@code shared} gives the client for a set of coordinators (made by {@link #client}, kept by its owner), asked
   * again when the coordinators listed bring new certificates; closing the link leaves them open.
   */
  public CoordinatorLink(Vertx vertx, LinkOptions options, String instanceId,
                         Supplier<Future<SignedIdentity>> identity, String nonce, Clock clock,
                         Function<LinkOptions, NetClient> shared) {
    this.vertx = vertx;
    this.options = options;
    this.instanceId = instanceId;
    this.identity = identity;
    this.nonce = nonce;
    this.clock = clock;
    this.shared = shared;
    this.next = ThreadLocalRandom.current().nextInt(options.addresses().size());
    this.context = vertx.getOrCreateContext();
  }

  /** A TLS client that trusts the coordinators' certificates of {@code options} and no one else. */
  public static NetClient client(Vertx vertx, LinkOptions options) {
    PemTrustOptions trust = new PemTrustOptions();
    for (String pem : options.certificates().split("(?=-----BEGIN CERTIFICATE-----)")) {
      if (pem.contains("-----BEGIN CERTIFICATE-----")) {
        trust.addCertValue(Buffer.buffer(pem));
      }
    }
    // The trust is the coordinators' own certificates, not a public CA's: no host name to check against.
    return vertx.createNetClient(new NetClientOptions().setSsl(true).setTrustOptions(trust)
        .setHostnameVerificationAlgorithm("").setConnectTimeout((int) WELCOME_TIMEOUT_MS).setTcpNoDelay(true)
        // The handshake's crypto on a worker: the event loop keeps the heartbeats of the other links on time (one
        // JVM of simulated agents holds thousands).
        .setSslEngineOptions(new JdkSSLEngineOptions().setUseWorkerThread(true)));
  }

  /** Starts connecting; the log says when a coordinator took the agent. */
  public void start() {
    context.runOnContext(x -> begin());
  }

  private void begin() {
    if (closed) {
      return;
    }
    client = shared != null ? shared.apply(options) : client(vertx, options);
    leaseTimer = vertx.setPeriodic(LEASE_CHECK_MS, t -> checkLease());
    connect();
  }

  /** The coordinator (its id) that took the agent; empty while the agent has none. */
  public Optional<String> connected() {
    return Optional.ofNullable(connected);
  }

  /**
   * How long the agent may go on with a coordinator that no longer answers before it leaves for another: the lease
   * of the last welcome (3 s until the first).
   */
  public long leaseMillis() {
    return leaseMillis;
  }

  /** The gateways of all the coordinators it knows of, the next it will try included. */
  public List<String> coordinators() {
    LinkOptions next = learned;
    return (next != null ? next : options).addresses();
  }

  /** Runs {@code action} on the link's context each time a coordinator takes the agent (a heartbeat at once, say). */
  public void onConnected(Runnable action) {
    context.runOnContext(x -> onConnected.add(action));
  }

  /** Publishes on the cluster's bus through the coordinator; dropped while there is no connection. */
  public void publish(String address, JsonObject body) {
    on(() -> {
      if (welcomed) {
        write(Frame.publish(address, body));
      }
    });
  }

  /** A request through the coordinator; fails at once without a connection, and when the connection goes. */
  public Future<JsonObject> request(String address, JsonObject body, long timeoutMs) {
    Context caller = Vertx.currentContext();
    Promise<JsonObject> result = Promise.promise();
    on(() -> requestHere(address, body, timeoutMs).onComplete(answer -> {
      if (caller == null || caller == context) {
        result.handle(answer);
      } else {
        caller.runOnContext(x -> result.handle(answer));
      }
    }));
    return result.future();
  }

  private Future<JsonObject> requestHere(String address, JsonObject body, long timeoutMs) {
    if (!welcomed) {
      return Future.failedFuture(new ReplyException(ReplyFailure.NO_HANDLERS, 503,
          instanceId + " is not connected to a coordinator"));
    }
    long id = nextId++;
    Promise<JsonObject> answer = Promise.promise();
    pending.put(id, answer);
    write(Frame.request(address, body, id, Math.min(timeoutMs, Frame.MAX_TIMEOUT_MS)));
    vertx.setTimer(timeoutMs + 1000, t -> {
      Promise<JsonObject> late = pending.remove(id);
      if (late != null) {
        late.fail(new ReplyException(ReplyFailure.TIMEOUT, -1, "no answer from " + address + " within "
            + timeoutMs + " ms"));
      }
    });
    return answer.future();
  }

  /** Delivers what {@code address} receives onto the local bus, from now on and on every new connection. */
  public void subscribe(String address) {
    on(() -> {
      if (subscriptions.add(address) && welcomed) {
        write(Frame.subscribe(address));
      }
    });
  }

  private void on(Runnable action) {
    if (Vertx.currentContext() == context) {
      action.run();
    } else {
      context.runOnContext(x -> action.run());
    }
  }

  public Future<Void> close() {
    Promise<Void> done = Promise.promise();
    on(() -> closeHere().onComplete(done));
    return done.future();
  }

  private Future<Void> closeHere() {
    closed = true;
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    if (leaseTimer >= 0) {
      vertx.cancelTimer(leaseTimer);
    }
    if (socket != null) {
      socket.close();
    }
    return client == null || shared != null ? Future.succeededFuture() : client.close();
  }

  private void connect() {
    timer = -1;
    if (closed) {
      return;
    }
    takeLearned();
    String address = options.addresses().get(Math.floorMod(next, options.addresses().size()));
    Matcher hostPort = HOST_PORT.matcher(address);
    if (!hostPort.matches()) {
      throw new IllegalStateException("not host:port: " + address);
    }
    // With a session credential, it resumes; else the identity first: a connection is opened only with a document.
    JsonObject attestation = credential != null
        ? new JsonObject().put("instanceId", instanceId).put("credential", credential) : null;
    Future<JsonObject> attest = attestation != null ? Future.succeededFuture(attestation)
        : identity.get().map(signed -> new JsonObject().put("document", signed.document())
            .put("signature", signed.signature()).put("nonce", nonce));
    attest.compose(fields -> client.connect(Integer.parseInt(hostPort.group(2)), hostPort.group(1))
            .onSuccess(socket -> attest(socket, fields, address)))
        .onFailure(e -> retry(address, "cannot connect: " + LogSafe.printable(String.valueOf(e.getMessage()), 200)));
  }

  private void attest(NetSocket connected, JsonObject attestation, String address) {
    if (closed) {
      connected.close();
      return;
    }
    socket = connected;
    heard();
    socket.handler(FrameCodec.parser(FrameCodec.MAX_FRAME_BYTES, new FrameCodec.Sink() {
      @Override
      public void frame(Frame frame) {
        received(frame, address);
      }

      @Override
      public void invalid(MessageException problem) {
        LOG.warn("{}: coordinator {} sent a frame that could not be read: {}", instanceId, address,
            problem.getMessage());
      }

      @Override
      public void oversized(long length) {
        LOG.warn("{}: coordinator {} sent a frame of {} bytes: leaving it", instanceId, address, length);
        connected.close();
      }
    }));
    socket.closeHandler(x -> lost(connected, address, "the connection closed"));
    socket.exceptionHandler(e -> connected.close());
    write(new Frame(Frame.Type.ATTEST, attestation));
  }

  private void received(Frame frame, String address) {
    heard();
    switch (frame.type()) {
      case WELCOME -> welcome(frame, address);
      case REFUSED -> {
        LOG.warn("{}: coordinator {} refused the agent ({}): {}", instanceId, address,
            frame.toJson().getString("reason"), LogSafe.printable(frame.toJson().getString("message"), 300));
        // A session that is over: the next connection attests with the identity document again.
        credential = null;
      }
      case PONG -> {
        // the lease is renewed by any frame; the spread follows the coordinator's number of agents
        spreadMillis(frame.toJson());
      }
      case MESSAGE -> deliver(frame);
      case COORDINATORS -> learn(frame.toJson(), address);
      case REPLY -> answered(frame.id(), frame.body(), null);
      case FAIL -> answered(frame.id(), null, new ReplyException(ReplyFailure.RECIPIENT_FAILURE,
          frame.toJson().getInteger("code"), frame.toJson().getString("message")));
      case ERROR -> {
        LOG.warn("{}: coordinator {} refused a frame ({}): {}", instanceId, address,
            frame.toJson().getString("reason"), LogSafe.printable(frame.toJson().getString("message"), 300));
        if (frame.id() != null) {
          answered(frame.id(), null, new ReplyException(ReplyFailure.RECIPIENT_FAILURE, 403,
              frame.toJson().getString("message")));
        }
      }
      default -> LOG.warn("{}: coordinator {} sent an unexpected {} frame", instanceId, address, frame.type().wire());
    }
  }

  /** The coordinators the last welcome listed replace those known, a new client if their certificates changed. */
  private void takeLearned() {
    if (learned == null || learned.equals(options)) {
      learned = null;
      return;
    }
    if (!learned.certificates().equals(options.certificates())) {
      if (shared != null) {
        client = shared.apply(learned);
      } else {
        NetClient old = client;
        client = client(vertx, learned);
        old.close();
      }
    }
    LOG.info("{}: the coordinators are now {}", instanceId, learned.addresses());
    options = new LinkOptions(learned.addresses(), learned.certificates(), options.nonceFile());
    learned = null;
  }

  /** What a welcome says about all the coordinators: added to those known, for the next connection, when valid. */
  private void learn(JsonObject fields, String address) {
    if (fields.getValue("coordinators") == null) {
      return;
    }
    try {
      LinkOptions listed = LinkOptions.fromJson(JsonFields.object(fields, "coordinators"));
      if (listed.linked()) {
        // Added to what it knows, never in place of it: a coordinator down for a while drops out of the others'
        // directory, and an agent that forgot it would have nowhere to go once the lister goes too.
        LinkOptions known = learned != null ? learned : options;
        List<String> addresses = new ArrayList<>(known.addresses());
        listed.addresses().stream().filter(a -> !addresses.contains(a)).forEach(addresses::add);
        StringBuilder certificates = new StringBuilder(known.certificates());
        for (String pem : listed.certificates().split("(?<=-----END CERTIFICATE-----\\n?)")) {
          if (pem.contains("-----BEGIN CERTIFICATE-----") && !known.certificates().contains(pem.strip())) {
            certificates.append(pem.endsWith("\n") ? pem : pem + "\n");
          }
        }
        learned = new LinkOptions(addresses, certificates.toString(), options.nonceFile());
      }
    } catch (MessageException e) {
      LOG.warn("{}: coordinator {} listed the coordinators in a way that cannot be read: {}", instanceId, address,
          e.getMessage());
    }
  }

  private void welcome(Frame frame, String address) {
    JsonObject fields = frame.toJson();
    learn(fields, address);
    welcomed = true;
    failures = 0;
    coordinator = fields.getString("coordinator");
    leaseMillis = fields.getLong("leaseMs");
    spreadMillis(fields);
    credential = fields.getString("credential");
    LOG.info("{}: connected to coordinator {} at {} as {} of group {}", instanceId, coordinator, address,
        fields.getString("instanceId"), fields.getString("group"));
    subscriptions.forEach(s -> write(Frame.subscribe(s)));
    connected = coordinator;
    onConnected.forEach(Runnable::run);
  }

  private void deliver(Frame frame) {
    Long id = frame.id();
    if (id == null) {
      vertx.eventBus().publish(frame.address(), frame.body());
      return;
    }
    vertx.eventBus().request(frame.address(), frame.body(), new DeliveryOptions().setSendTimeout(Frame.MAX_TIMEOUT_MS))
        .onComplete(answer -> write(Frame.answer(id, answer)));
  }

  private void answered(Long id, JsonObject body, Throwable failure) {
    Promise<JsonObject> answer = id == null ? null : pending.remove(id);
    if (answer == null) {
      return;
    }
    if (failure == null) {
      answer.complete(body);
    } else {
      answer.fail(failure);
    }
  }

  private void checkLease() {
    long now = clock.millis();
    silence.checked(now);
    if (socket == null) {
      return;
    }
    long silent = silence.since(now, lastFrameAt, heardMark);
    // Before the welcome, the coordinator may be reading what the others know of the agent: the welcome's own time.
    if (silent > (welcomed ? leaseMillis : Math.max(leaseMillis, WELCOME_TIMEOUT_MS))) {
      LOG.warn("{}: coordinator {} silent for {} ms: leaving it", instanceId, coordinator, silent);
      socket.close();
    } else if (welcomed && silent >= leaseMillis / 3) {
      write(Frame.ping());
    }
  }

  private void spreadMillis(JsonObject fields) {
    Long given = fields.getLong("spreadMs");
    if (given != null) {
      spreadMillis = given;
    }
  }

  private void heard() {
    lastFrameAt = clock.millis();
    heardMark = silence.mark();
  }

  private void lost(NetSocket which, String address, String why) {
    if (which != socket || closed) {
      return;
    }
    boolean wasWelcomed = welcomed;
    socket = null;
    welcomed = false;
    connected = null;
    pending.values().forEach(p -> p.fail(new ReplyException(ReplyFailure.RECIPIENT_FAILURE, 503,
        "the connection to coordinator " + address + " went before the answer")));
    pending.clear();
    if (wasWelcomed) {
      // Its other agents lost it at the same moment: a random part of the spread it gave, not all at once.
      long delay = spreadMillis > 0 ? ThreadLocalRandom.current().nextLong(spreadMillis + 1) : 0;
      LOG.warn("{}: lost coordinator {} ({}): trying the next one in {} ms", instanceId, address, why, delay);
      next++;
      if (delay == 0) {
        connect();
      } else {
        timer = vertx.setTimer(delay, t -> connect());
      }
    } else {
      retry(address, why + " before the coordinator took the agent");
    }
  }

  private void retry(String address, String why) {
    if (closed) {
      return;
    }
    failures++;
    next++;
    long ceiling = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS << Math.min(failures - 1, 10));
    long delay = failures <= options.addresses().size() ? 0
        : ceiling / 2 + ThreadLocalRandom.current().nextLong(ceiling / 2 + 1);
    if (failures <= 2 || failures % 10 == 0) {
      LOG.warn("{}: coordinator {}: {}; next attempt in {} ms", instanceId, address, why, delay);
    }
    timer = vertx.setTimer(Math.max(1, delay), t -> connect());
  }

  private void write(Frame frame) {
    if (socket != null) {
      socket.write(FrameCodec.encode(frame));
    }
  }

  /** The agent's nonce, as {@link #nonce}: read from the file, made there on the first start. */
  public static String nonce(Path file) throws IOException {
    if (Files.exists(file)) {
      return Files.readString(file).strip();
    }
    byte[] secret = new byte[32];
    new SecureRandom().nextBytes(secret);
    String nonce = Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
    Path partial = file.resolveSibling(file.getFileName() + ".new");
    Files.writeString(partial, nonce);
    Files.setPosixFilePermissions(partial,
        PosixFilePermissions.fromString("rw-------"));
    Files.move(partial, file, StandardCopyOption.ATOMIC_MOVE);
    return nonce;
  }
}
