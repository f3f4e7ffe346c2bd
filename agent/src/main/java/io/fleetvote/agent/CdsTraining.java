package io.fleetvote.agent;

import io.fleetvote.agent.link.CoordinatorLink;
import io.fleetvote.agent.link.LinkOptions;
import io.fleetvote.common.Addresses;
import io.fleetvote.common.imds.InstanceMetadataClient;
import io.fleetvote.common.link.Frame;
import io.fleetvote.common.link.FrameCodec;
import io.fleetvote.common.msg.AgentHeartbeat;
import io.fleetvote.common.msg.MessageException;
import io.fleetvote.common.msg.Role;
import io.fleetvote.common.msg.Vote;
import io.fleetvote.common.msg.VoteKind;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.SelfSignedCertificate;
import io.vertx.ext.web.Router;
import io.vertx.micrometer.backends.BackendRegistries;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The agent's class-data-sharing training run, the agent build's last step (agent/pom.xml): run with
 * {@code -XX:ArchiveClassesAtExit=fleetvote-agent.jsa}, it goes the way an agent goes up (its Vert.x with metrics, an
 * HTTP server with a router, the instance-metadata client against it, a TLS connection carrying the link's frames,
 * the records an agent sends, a metrics scrape) and exits; the JVM writes the classes it loaded to the archive, which
 * every agent maps instead of loading and verifying them again (its start takes about a third less CPU). Everything
 * stays on 127.0.0.1; a step that fails only leaves its classes out of the archive.
 */
public final class CdsTraining {

  private static final long STEP_SECONDS = 30;
  private static final Map<String, String> METADATA = Map.of(
      "meta-data/instance-id", "i-0123456789abcdef0",
      "meta-data/ami-id", "ami-0123456789abcdef0",
      "meta-data/instance-type", "t3.micro",
      "meta-data/local-ipv4", "127.0.0.1",
      "meta-data/placement/availability-zone", "us-east-1a",
      "meta-data/placement/region", "us-east-1",
      "meta-data/tags/instance", "fleetvote:role",
      "meta-data/tags/instance/fleetvote:role", "app",
      "user-data", "{\"fleetvote\": {}}");

  private CdsTraining() {
  }

  public static void main(String[] args) {
    Vertx vertx = Agent.vertx();
    try {
      metadata(vertx);
      link(vertx);
      if (BackendRegistries.getDefaultNow() instanceof PrometheusMeterRegistry prometheus) {
        prometheus.scrape();
      }
      System.out.println("CDS training done");
    } catch (Exception e) {
      System.out.println("CDS training incomplete (the archive holds what was loaded before): " + e);
      e.printStackTrace(System.out);
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().orTimeout(STEP_SECONDS, TimeUnit.SECONDS)
          .exceptionally(e -> null).join();
    }
    System.exit(0);
  }

  /** An IMDSv2 of its own, and the agent's metadata client reading the whole identity from it. */
  private static void metadata(Vertx vertx) throws Exception {
    Router router = Router.router(vertx);
    router.put("/latest/api/token").handler(ctx -> ctx.response().end("training-token"));
    router.get("/latest/*").handler(ctx -> {
      String value = METADATA.get(ctx.request().path().substring("/latest/".length()));
      if (value == null) {
        ctx.response().setStatusCode(404).end();
      } else {
        ctx.response().putHeader("content-type", "text/plain").end(value);
      }
    });
    HttpServer server = vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1")
        .await(STEP_SECONDS, TimeUnit.SECONDS);
    InstanceMetadataClient imds = new InstanceMetadataClient(vertx,
        URI.create("http://127.0.0.1:" + server.actualPort()), Duration.ofSeconds(STEP_SECONDS));
    try {
      imds.identity().await(STEP_SECONDS, TimeUnit.SECONDS);
    } finally {
      imds.close();
      server.close().await(STEP_SECONDS, TimeUnit.SECONDS);
    }
  }

  /** A TLS server echoing frames, and the link's TLS client sending it a heartbeat and a vote. */
  private static void link(Vertx vertx) throws Exception {
    SelfSignedCertificate certificate = SelfSignedCertificate.create("127.0.0.1");
    NetServer server = vertx.createNetServer(new NetServerOptions().setSsl(true)
            .setKeyCertOptions(certificate.keyCertOptions()))
        .connectHandler(socket -> socket.handler(FrameCodec.parser(FrameCodec.MAX_FRAME_BYTES,
            sink(frame -> socket.write(FrameCodec.encode(frame))))))
        .listen(0, "127.0.0.1").await(STEP_SECONDS, TimeUnit.SECONDS);
    LinkOptions options = new LinkOptions(List.of("127.0.0.1:" + server.actualPort()),
        Files.readString(Path.of(certificate.certificatePath())), LinkOptions.DEFAULT_NONCE_FILE);
    // Held until the end: Vert.x closes a client (and its connections) that is no longer referenced.
    NetClient client = CoordinatorLink.client(vertx, options);
    try {
      NetSocket socket = client.connect(server.actualPort(), "127.0.0.1").await(STEP_SECONDS, TimeUnit.SECONDS);
      Promise<Frame> echoed = Promise.promise();
      socket.handler(FrameCodec.parser(FrameCodec.MAX_FRAME_BYTES, sink(echoed::tryComplete)));
      long now = System.currentTimeMillis();
      String id = METADATA.get("meta-data/instance-id");
      socket.write(FrameCodec.encode(Frame.publish(Addresses.AGENT_HEARTBEATS, new AgentHeartbeat(id, "training",
          "web", Set.of(Role.APP), "127.0.0.1", 8080, 9100, 9110, now, now, true, "", false).toJson())));
      Frame frame = echoed.future().await(STEP_SECONDS, TimeUnit.SECONDS);
      AgentHeartbeat.fromJson(frame.body());
      Vote.fromJson(new Vote(id, "training", "web", VoteKind.NONE, 42, true, false, now, now,
          Vote.leaseMillis(1000, 3000)).toJson());
      socket.close().await(STEP_SECONDS, TimeUnit.SECONDS);
    } finally {
      client.close().await(STEP_SECONDS, TimeUnit.SECONDS);
      server.close().await(STEP_SECONDS, TimeUnit.SECONDS);
    }
  }

  private static FrameCodec.Sink sink(Consumer<Frame> frames) {
    return new FrameCodec.Sink() {
      @Override
      public void frame(Frame frame) {
        frames.accept(frame);
      }

      @Override
      public void invalid(MessageException problem) {
        System.out.println("CDS training: a frame not read back: " + problem.getMessage());
      }

      @Override
      public void oversized(long length) {
        System.out.println("CDS training: a frame of " + length + " bytes not read back");
      }
    };
  }
}
