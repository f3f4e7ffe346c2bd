package io.fleetvote.sandbox;

import io.fleetvote.sandbox.admin.AdminApi;
import io.fleetvote.sandbox.capacity.CpuQuota;
import io.fleetvote.sandbox.identity.IdentitySigner;
import io.fleetvote.sandbox.capacity.InstanceTypes;
import io.fleetvote.sandbox.ec2.Ec2Api;
import io.fleetvote.sandbox.ec2.Ec2Exception;
import io.fleetvote.sandbox.ec2.QueryRequest;
import io.fleetvote.sandbox.ec2.XmlWriter;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/**
 * The sandbox process's one verticle: restores the saved cloud, then serves the EC2 Query API on {@code POST /}
 * (and {@code GET /?Action=...}) and the admin API under {@code /_sandbox/}, on 127.0.0.1.
 */
public final class SandboxVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(SandboxVerticle.class);
  /** Big enough for 16 KiB of user-data, base64- and then form-encoded, with room for everything else. */
  static final int MAX_BODY = 256 * 1024;

  private final SandboxOptions options;
  private final ImageCatalog images;
  private Cloud cloud;
  private Ec2Api ec2;
  private HttpServer server;

  public SandboxVerticle(SandboxOptions options, ImageCatalog images) {
    this.options = options;
    this.images = images;
  }

  @Override
  public Future<?> start() throws Exception {
    Files.createDirectories(options.stateDir().resolve("instances"));
    StateStore store = new StateStore(vertx, options.stateDir());
    CpuQuota quota = CpuQuota.detect(Path.of("/"), options.stateDir());
    if (quota.enforced()) {
      LOG.info("capacity enforced: {}, CFS period {} us; instance types {} vCPU; at most {} vCPUs on {} cores",
          quota.why(), CpuQuota.PERIOD_MICROS, InstanceTypes.capacities(), InstanceTypes.format(options.maxVcpus()),
          SandboxOptions.hostCores());
    } else {
      LOG.warn("capacity NOT enforced: {}; instance types {} vCPU run without CPU quotas, sharing the host's {} cores",
          quota.why(), InstanceTypes.capacities(), SandboxOptions.hostCores());
    }
    // The identity key is made once per state directory (keytool, about a second): not on the event loop.
    return vertx.executeBlocking(() -> IdentitySigner.load(options.stateDir()), false)
        .compose(signer -> serve(store, quota, signer));
  }

  private Future<?> serve(StateStore store, CpuQuota quota, IdentitySigner signer) {
    cloud = new Cloud(vertx, options, images, store, quota, signer, Clock.systemUTC());
    ec2 = new Ec2Api(cloud);
    Router router = Router.router(vertx);
    router.route("/_sandbox/*").subRouter(new AdminApi(cloud, ec2).router(vertx));
    router.route("/").method(HttpMethod.POST).method(HttpMethod.GET).handler(this::readBody);
    router.route().handler(ctx -> ec2Error(ctx, new Ec2Exception(404, "InvalidAction",
        "The sandbox serves the EC2 API at / and its admin API under /_sandbox/")));
    router.route().failureHandler(this::failure);
    Future<Void> restored = store.load().map(cloud::restore).orElse(Future.succeededFuture())
        .compose(x -> cloud.removeAbandonedGroups());
    vertx.setPeriodic(500, t -> cloud.sweep());
    return restored.compose(x -> vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1")
            .setPort(options.port()).setIdleTimeout(60).setMaxInitialLineLength(16 * 1024))
        .requestHandler(router)
        .listen())
        .onSuccess(s -> {
          server = s;
          LOG.info("sandbox serving EC2 at http://127.0.0.1:{}/ (region {}), state in {}, {} image(s): {}",
              s.actualPort(), options.region(), options.stateDir(), images.all().size(),
              images.all().stream().map(i -> i.name() + "=" + i.id()).toList());
        });
  }

  @Override
  public Future<?> stop() {
    Future<Void> closing = server == null ? Future.succeededFuture() : server.close();
    return closing.transform(x -> cloud.close());
  }

  public int actualPort() {
    return server.actualPort();
  }

  /**
   * Reads the body up to {@link #MAX_BODY} itself: vert.x-web's BodyHandler would also decode the form, with its own
   * limits (8 KiB per field, 256 fields) that legitimate requests exceed and that answer outside EC2's error shape.
   */
  private void readBody(RoutingContext ctx) {
    HttpServerRequest request = ctx.request();
    String length = request.getHeader("Content-Length");
    if (length != null && length.length() < 19 && length.chars().allMatch(Character::isDigit)
        && Long.parseLong(length) > MAX_BODY) {
      tooLarge(ctx);
      return;
    }
    Buffer body = Buffer.buffer();
    request.handler(chunk -> {
      if (body.length() + chunk.length() > MAX_BODY) {
        if (!ctx.response().ended()) {
          tooLarge(ctx);
        }
      } else {
        body.appendBuffer(chunk);
      }
    });
    request.endHandler(end -> {
      if (!ctx.response().ended()) {
        ec2Request(ctx, body);
      }
    });
  }

  private void tooLarge(RoutingContext ctx) {
    ctx.response().putHeader("Connection", "close");
    ec2Error(ctx, new Ec2Exception(413, "RequestEntityTooLarge", "The request is larger than " + MAX_BODY + " bytes."));
  }

  private void ec2Request(RoutingContext ctx, Buffer body) {
    String requestId = UUID.randomUUID().toString();
    try {
      Map<String, String> params = new LinkedHashMap<>();
      decodeForm(ctx.request().query(), params);
      if (body.length() > 0) {
        decodeForm(body.toString(StandardCharsets.UTF_8), params);
      }
      String xml = ec2.handle(new QueryRequest(params), requestId);
      ctx.response().putHeader("Content-Type", "text/xml;charset=UTF-8").putHeader("x-amzn-RequestId", requestId)
          .end(xml);
    } catch (Ec2Exception e) {
      ec2Error(ctx, e, requestId);
    } catch (RuntimeException e) {
      LOG.error("request {} failed unexpectedly", requestId, e);
      ec2Error(ctx, new Ec2Exception(500, "InternalError", "An internal error has occurred."), requestId);
    }
  }

  private void failure(RoutingContext ctx) {
    if (ctx.statusCode() >= 400 && ctx.statusCode() < 500) {
      ec2Error(ctx, new Ec2Exception(400, "MalformedQueryString", "The request could not be read."));
    } else {
      LOG.error("request to {} failed", Ec2Exception.abbreviate(ctx.request().path()), ctx.failure());
      ec2Error(ctx, new Ec2Exception(500, "InternalError", "An internal error has occurred."));
    }
  }

  private void ec2Error(RoutingContext ctx, Ec2Exception error) {
    ec2Error(ctx, error, UUID.randomUUID().toString());
  }

  private static void ec2Error(RoutingContext ctx, Ec2Exception error, String requestId) {
    if (ctx.response().ended()) {
      return;
    }
    ctx.response().setStatusCode(error.status()).putHeader("Content-Type", "text/xml;charset=UTF-8")
        .putHeader("x-amzn-RequestId", requestId)
        .end(XmlWriter.error(error.code(), error.getMessage(), requestId));
  }

  /** Form decoding done here so that a bad escape or a repeated name is an EC2 error, not a framework's 400. */
  static void decodeForm(String form, Map<String, String> into) {
    if (form == null || form.isEmpty()) {
      return;
    }
    for (String pair : form.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String name;
      String value;
      try {
        name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
        value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
      } catch (IllegalArgumentException e) {
        throw new Ec2Exception(400, "MalformedQueryString",
            "The query string contains a bad escape: " + Ec2Exception.abbreviate(pair));
      }
      if (into.put(name, value) != null) {
        throw new Ec2Exception(400, "MalformedQueryString",
            "The parameter " + Ec2Exception.abbreviate(name) + " appears more than once.");
      }
    }
  }
}
