package io.fleetvote.coordinator.gateway;

import io.fleetvote.common.Addresses;
import io.fleetvote.common.imds.InstanceMetadataClient;
import io.fleetvote.common.link.Frame;
import io.fleetvote.common.link.FrameCodec;
import io.fleetvote.common.msg.LbAnnouncement;
import io.fleetvote.common.msg.MessageException;
import io.fleetvote.common.msg.Vote;
import io.fleetvote.common.msg.VoteKind;
import io.fleetvote.common.net.FreePorts;
import io.fleetvote.coordinator.Coordinator;
import io.fleetvote.coordinator.CoordinatorOptions;
import io.fleetvote.sandbox.ImageCatalog;
import io.fleetvote.testkit.Await;
import io.fleetvote.testkit.CoordinatorClient;
import io.fleetvote.testkit.Ec2Clients;
import io.fleetvote.testkit.HttpReply;
import io.fleetvote.testkit.SandboxAdmin;
import io.fleetvote.testkit.SandboxProcess;
import io.vertx.core.Vertx;
import io.vertx.core.VertxException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.ec2.Ec2Client;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Agents reach the coordinator through its gateway, with real processes: the coordinator launches group web, whose
 * agents connect over TLS, attest with the sandbox-signed identity documents of their instances, and are heard (the
 * registry lists them from the heartbeats they send through the gateway). A client of its own, as an attacker
 * would write one, is refused at attestation with a tampered document or with a real document and another nonce
 * (a copied document); with the identity of instance A (its document and the nonce of its agent, as root on A
 * holds them) its vote for B, an operator's command, B's drain requests and the LBs' heartbeat feed are refused and
 * counted, and the group does not grow. Once A is terminated, it leaves the registry and its identity no longer
 * attests.
 */
class GatewayIT {

  private static final Duration TIMEOUT = Duration.ofSeconds(90);

  @TempDir
  static Path dir;
  static SandboxProcess sandbox;
  static SandboxAdmin admin;
  static Coordinator coordinator;
  static CoordinatorClient api;
  static Vertx vertx;
  static int gatewayPort;

  @BeforeAll
  static void start() throws Exception {
    sandbox = SandboxProcess.start(dir.resolve("sandbox"));
    admin = sandbox.admin();
    JsonObject agent = new JsonObject().put("gossipPeriodMs", 500).put("sampleMs", 500).put("warmupMs", 1000)
        .put("growAbove", 50).put("growAfterMs", 2000).put("shrinkBelow", 0).put("shrinkAfterMs", 60_000);
    JsonObject group = new JsonObject().put("name", "web").put("imageId", ImageCatalog.imageId("fleetvote-app"))
        .put("min", 2).put("max", 3).put("calmTimeMs", 1000).put("bootTimeoutMs", 60_000).put("agent", agent);
    gatewayPort = FreePorts.pick();
    CoordinatorOptions options = new CoordinatorOptions(new JsonObject()
        .put("deployment", "gw")
        .put("httpPort", 0)
        .put("cluster", new JsonObject().put("clusterName", "gateway-it-" + System.nanoTime())
            .put("port", FreePorts.pick()))
        .put("dataDir", dir.resolve("coordinator").toString())
        .put("gateway", sandbox.agentGateway().put("port", gatewayPort))
        .put("scaling", new JsonObject().put("tickMillis", 500)
            .put("fleetRefreshMillis", 2000).put("groups", new JsonArray().add(group))
            .put("fleet", new JsonObject().put("deployment", "gw").put("endpoint", sandbox.endpoint().toString())
                .put("firstRetryDelayMillis", 200).put("maxRetryDelayMillis", 2000))));
    coordinator = Coordinator.start(options).await();
    api = new CoordinatorClient(coordinator.httpPort());
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() {
    if (sandbox != null) {
      sandbox.admin().terminateAll();
    }
    if (vertx != null) {
      vertx.close().await();
    }
    if (coordinator != null) {
      coordinator.close().await();
    }
    if (sandbox != null) {
      sandbox.close();
    }
  }

  @Test
  void agentsAttestThroughTheGatewayAndForgedIdentitiesVotesAndCommandsAreRefusedAndCounted() throws Exception {
    Await.until("group web's 2 agents heard through the gateway", TIMEOUT, () -> api.instances().size() == 2);
    List<String> web = api.instances().stream().map(i -> i.getString("instanceId")).sorted().toList();
    String a = web.get(0);
    String b = web.get(1);
    assertThat(Files.readString(Path.of(admin.instance(a).getString("dir"), "agent.log")))
        .contains("connected to coordinator");

    JsonObject identity = signedIdentity(a);
    String document = identity.getString("document");
    String signature = identity.getString("signature");

    // A tampered document: the signature no longer matches.
    Client forged = Client.connect(gatewayPort);
    forged.send(new Frame(Frame.Type.ATTEST, new JsonObject().put("document", document.replace(a, b))
        .put("signature", signature).put("nonce", "an-attackers-own-nonce")));
    Frame refused = forged.await(Frame.Type.REFUSED);
    assertThat(refused.toJson().getString("reason")).as(refused.toJson().encode()).isEqualTo("signature");
    forged.awaitClosed();

    // A's real document, copied, with another nonce than A's agent holds.
    Client copied = Client.connect(gatewayPort);
    copied.send(new Frame(Frame.Type.ATTEST, new JsonObject().put("document", document).put("signature", signature)
        .put("nonce", "an-attackers-own-nonce")));
    assertThat(copied.await(Frame.Type.REFUSED).toJson().getString("reason")).isEqualTo("nonce");
    copied.awaitClosed();

    // Anything before an attestation closes the connection.
    Client eager = Client.connect(gatewayPort);
    eager.send(Frame.publish(Addresses.VOTES, vote(b, VoteKind.GROW).toJson()));
    assertThat(eager.await(Frame.Type.ERROR).toJson().getString("reason")).isEqualTo("unattested");
    eager.awaitClosed();

    // Root on A: A's document and its agent's nonce.
    String nonce = Files.readString(Path.of(admin.instance(a).getString("dir"), "fleetvote-agent.nonce")).strip();
    Client rootOnA = Client.connect(gatewayPort);
    rootOnA.send(new Frame(Frame.Type.ATTEST, new JsonObject().put("document", document).put("signature", signature)
        .put("nonce", nonce)));
    JsonObject welcome = rootOnA.await(Frame.Type.WELCOME).toJson();
    assertThat(welcome.getString("instanceId")).isEqualTo(a);
    assertThat(welcome.getJsonArray("roles").getList()).containsExactly("app");
    // Over how long its agents spread their reconnection if it goes: half a millisecond per agent it holds (3 here).
    assertThat(welcome.getLong("spreadMs")).isBetween(0L, 2L);
    rootOnA.send(Frame.ping());
    assertThat(rootOnA.await(Frame.Type.PONG).toJson().getLong("spreadMs")).isBetween(0L, 2L);
    String own = "127.0.0.1:" + gatewayPort;
    assertThat(welcome.getJsonObject("coordinators").getJsonArray("addresses").getList()).containsExactly(own);

    // Another coordinator's gateway enters the directory and says so: connected agents are told where it is.
    String certificate = welcome.getJsonObject("coordinators").getString("certificates");
    coordinator.vertx().sharedData().<String, JsonObject>getAsyncMap(AgentGateway.DIRECTORY)
        .compose(map -> map.put("another-coordinator", new JsonObject().put("address", "127.0.0.1:1")
            .put("certificate", certificate), 10_000)).await();
    coordinator.vertx().eventBus().publish(AgentGateway.DIRECTORY_CHANGED, "another-coordinator");
    assertThat(rootOnA.await(Frame.Type.COORDINATORS).toJson().getJsonObject("coordinators")
        .getJsonArray("addresses").getList()).containsExactly("127.0.0.1:1", own);

    // An LB's announcement (of another deployment: A's own agent ignores it), relayed by the cluster: a subscriber
    // gets it; one that subscribes later (below) is handed it at once, not at the LB's next announcement.
    JsonObject announcement = new LbAnnouncement("i-0000000000000abcd", "gw-elsewhere", "web", "10.0.0.9", 80,
        System.currentTimeMillis(), 60_000).toJson();
    rootOnA.send(Frame.subscribe(Addresses.LB_ANNOUNCEMENTS));
    coordinator.vertx().eventBus().publish(Addresses.LB_ANNOUNCEMENTS, announcement);
    assertThat(rootOnA.await(Frame.Type.MESSAGE).body()).isEqualTo(announcement);

    double before = rejected("publish", "instance");
    for (int i = 0; i < 10; i++) {
      rootOnA.send(Frame.publish(Addresses.VOTES, vote(b, VoteKind.GROW).toJson()));
    }
    rootOnA.send(Frame.request(Addresses.SCALING_COMMAND, new JsonObject().put("command", "resize").put("group", "web")
        .put("min", 3).put("max", 3).put("user", "agent"), 1, 5000));
    rootOnA.send(Frame.subscribe(Addresses.agentDrain(b)));
    rootOnA.send(Frame.subscribe(Addresses.agentSecrets(b))); // B's credentials reach B alone
    rootOnA.send(Frame.subscribe(Addresses.AGENT_HEARTBEATS)); // an LB's, not an app's
    Await.until("the forged votes refused and counted", TIMEOUT, () -> rejected("publish", "instance") >= before + 10);
    List<Frame> errors = rootOnA.awaitCount(Frame.Type.ERROR, 14);
    assertThat(errors).extracting(f -> f.toJson().getString("reason"))
        .containsOnly("instance", "address", "role");
    assertThat(errors).anySatisfy(f -> assertThat(f.id()).isEqualTo(1L)); // the command, refused
    assertThat(rejected("request", "address")).isPositive();
    assertThat(rejected("subscribe", "address")).isPositive();
    assertThat(rejected("subscribe", "role")).isPositive();
    // Every forged vote was refused (counted above, in order after them): the tally has none of them, while both
    // real agents' votes through the gateway (none: they are idle) are counted.
    Await.until("both real agents' votes in the tally", TIMEOUT,
        () -> api.group("web").orElseThrow().votes().none() == 2);
    assertThat(api.group("web").orElseThrow().votes().grow()).as("grow votes").isZero();
    assertThat(api.group("web").orElseThrow().instances()).hasSize(2);
    assertThat(api.instances()).hasSize(2);
    forged.close();

    // Sessions: a credential resumes at any coordinator until a later attestation makes it stale; a revoked
    // instance's connections close, and it neither resumes nor attests again.
    String first = welcome.getString("credential");
    assertThat(resume(a, "not-a-credential-of-anyone").getString("reason")).isEqualTo("credential");
    Client resumed = Client.connect(gatewayPort);
    resumed.send(new Frame(Frame.Type.ATTEST, new JsonObject().put("instanceId", a).put("credential", first)));
    assertThat(resumed.await(Frame.Type.WELCOME).toJson().getString("credential")).isEqualTo(first);
    resumed.send(Frame.subscribe(Addresses.LB_ANNOUNCEMENTS));
    Frame retained = resumed.await(Frame.Type.MESSAGE);
    assertThat(retained.address()).isEqualTo(Addresses.LB_ANNOUNCEMENTS);
    assertThat(retained.body()).as("announced before this connection subscribed").isEqualTo(announcement);
    Client again = Client.connect(gatewayPort);
    again.send(new Frame(Frame.Type.ATTEST, new JsonObject().put("document", document).put("signature", signature)
        .put("nonce", nonce)));
    String second = again.await(Frame.Type.WELCOME).toJson().getString("credential");
    assertThat(resume(a, first).getString("reason")).as("a stale credential").isEqualTo("credential");
    HttpReply revoked = api.revoke(a);
    assertThat(revoked.status()).as(revoked.body()).isEqualTo(200);
    assertThat(revoked.json().getInteger("closedHere")).as("A's agent, root's two and the resumed one")
        .isGreaterThanOrEqualTo(3);
    rootOnA.awaitClosed();
    again.awaitClosed();
    resumed.awaitClosed();
    assertThat(resume(a, second).getString("reason")).isEqualTo("revoked");
    Client afterRevoke = Client.connect(gatewayPort);
    afterRevoke.send(new Frame(Frame.Type.ATTEST, new JsonObject().put("document", document)
        .put("signature", signature).put("nonce", nonce)));
    assertThat(afterRevoke.await(Frame.Type.REFUSED).toJson().getString("reason")).isEqualTo("revoked");
    assertThat(rejected("attest", "revoked")).isGreaterThanOrEqualTo(2);

    // A terminated instance: its agent leaves the registry, and its identity, document and nonce both, no longer
    // attests (the cloud does not list it in the deployment any more).
    try (Ec2Client ec2 = Ec2Clients.sync(sandbox.endpoint())) {
      ec2.terminateInstances(r -> r.instanceIds(a));
    }
    Await.until(a + " gone from the registry", TIMEOUT,
        () -> api.instances().stream().noneMatch(i -> i.getString("instanceId").equals(a)));
    Client stale = Client.connect(gatewayPort);
    stale.send(new Frame(Frame.Type.ATTEST, new JsonObject().put("document", document).put("signature", signature)
        .put("nonce", nonce)));
    assertThat(stale.await(Frame.Type.REFUSED).toJson().getString("reason")).isEqualTo("not-in-fleet");
    stale.awaitClosed();
    assertThat(api.instances()).extracting(i -> i.getString("instanceId")).contains(b);
  }

  /** A resumption with {@code credential} as {@code instance}: the refusal's fields (it must be refused). */
  private static JsonObject resume(String instance, String credential) throws Exception {
    Client client = Client.connect(gatewayPort);
    client.send(new Frame(Frame.Type.ATTEST, new JsonObject().put("instanceId", instance).put("credential", credential)));
    JsonObject refused = client.await(Frame.Type.REFUSED).toJson();
    client.awaitClosed();
    return refused;
  }

  private static double rejected(String frame, String reason) {
    return api.metric("fleetvote_coordinator_messages_rejected_total{address=\"gateway." + frame + "\",reason=\""
        + reason + "\"}");
  }

  private static Vote vote(String instanceId, VoteKind kind) {
    long now = System.currentTimeMillis();
    return new Vote(instanceId, "gw", "web", kind, 99, true, false, now - 60_000, now, 3000);
  }

  private static JsonObject signedIdentity(String instanceId) {
    InstanceMetadataClient imds = new InstanceMetadataClient(vertx,
        URI.create(admin.instance(instanceId).getString("metadataEndpoint")));
    try {
      InstanceMetadataClient.SignedIdentity signed = imds.signedIdentity().await();
      return new JsonObject().put("document", signed.document()).put("signature", signed.signature());
    } finally {
      imds.close();
    }
  }

  /** A client of the agent link written from its wire format alone, trusting any certificate. */
  private static final class Client {
    private final NetSocket socket;
    private final List<Frame> frames = new CopyOnWriteArrayList<>();
    private volatile boolean closed;

    private Client(NetSocket socket) {
      this.socket = socket;
      socket.handler(FrameCodec.parser(FrameCodec.MAX_FRAME_BYTES, new FrameCodec.Sink() {
        @Override
        public void frame(Frame frame) {
          frames.add(frame);
          if (frame.type() == Frame.Type.WELCOME) {
            keepAlive();
          }
        }

        @Override
        public void invalid(MessageException problem) {
          throw problem;
        }

        @Override
        public void oversized(long length) {
          throw new IllegalStateException("oversized " + length);
        }
      }));
      socket.closeHandler(x -> closed = true);
    }

    /**
     * Once attested, a ping a second, as an agent pings (every third of the gateway's lease): a connection that sends
     * nothing for the lease (3 s) is closed as silent, and the waits between this test's frames can be that long.
     */
    private void keepAlive() {
      vertx.setPeriodic(1000, timer -> {
        if (closed) {
          vertx.cancelTimer(timer);
        } else {
          socket.write(FrameCodec.encode(Frame.ping()));
        }
      });
    }

    static Client connect(int port) {
      return new Client(vertx.createNetClient(new NetClientOptions().setSsl(true).setTrustAll(true)
          .setHostnameVerificationAlgorithm("")).connect(port, "127.0.0.1").await());
    }

    /**
     * Writes the frame and waits for the write. A frame the gateway answers by closing the connection (a forgery, a
     * frame before the attestation) can see the close before its write's completion, which then fails although the
     * gateway read it: that failure is not the test's; what the gateway answered is awaited after.
     */
    void send(Frame frame) {
      assertThat(closed).as("the connection closed before " + frame.type().wire()).isFalse();
      try {
        socket.write(FrameCodec.encode(frame)).await();
      } catch (VertxException e) {
        // The write failed: fine only because the gateway closed the connection (its close handler may run just
        // after the write's failure).
        Await.until("the connection closed after a failed write (" + e.getMessage() + ")", Duration.ofSeconds(5),
            () -> closed);
      }
    }

    Frame await(Frame.Type type) {
      return awaitCount(type, 1).get(0);
    }

    List<Frame> awaitCount(Frame.Type type, int count) {
      Await.until(count + " " + type.wire() + " frame(s); got " + frames, TIMEOUT,
          () -> frames.stream().filter(f -> f.type() == type).count() >= count);
      return frames.stream().filter(f -> f.type() == type).toList();
    }

    void awaitClosed() {
      Await.until("the gateway closes the connection", TIMEOUT, () -> closed);
    }

    void close() {
      socket.close();
    }
  }
}
