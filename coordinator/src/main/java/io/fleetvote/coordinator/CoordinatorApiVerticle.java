package io.fleetvote.coordinator;

import io.fleetvote.common.Addresses;
import io.fleetvote.common.cluster.ClusterBootstrap;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.micrometer.PrometheusScrapingHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Locale;

/**
 * The coordinator's HTTP API: {@code GET /health}, {@code GET /metrics} (Prometheus) and {@code GET /api/instances}
 * (the live registry). Every error is a JSON {@code {"error": "..."}} with its status, never a stack trace.
 * A port already taken fails the deployment.
 */
final class CoordinatorApiVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(CoordinatorApiVerticle.class);
  private static final DeliveryOptions QUERY = new DeliveryOptions().setSendTimeout(2000);

  private final CoordinatorOptions options;
  private HttpServer server;

  CoordinatorApiVerticle(CoordinatorOptions options) {
    this.options = options;
  }

  @Override
  public Future<?> start() {
    Router router = Router.router(vertx);
    router.get("/health").handler(this::health);
    router.get("/metrics").handler(PrometheusScrapingHandler.create());
    router.get("/api/instances").handler(this::instances);
    for (int status : List.of(404, 405, 500, 503)) {
      router.errorHandler(status, this::error);
    }
    return vertx.createHttpServer()
        .requestHandler(router)
        .listen(options.getHttpPort(), options.getHttpHost())
        .onSuccess(listening -> server = listening)
        .recover(e -> Future.failedFuture(new IllegalStateException("HTTP API cannot listen on " + options.getHttpHost()
            + ":" + options.getHttpPort() + ": " + e.getMessage(), e)));
  }

  /** The port the API listens on (the chosen one when configured with 0); valid once deployed. */
  int actualPort() {
    return server.actualPort();
  }

  private void health(RoutingContext ctx) {
    JsonObject health = new JsonObject().put("status", "UP").put("clustered", vertx.isClustered());
    if (vertx.isClustered()) {
      health.put("clusterMembers", ClusterBootstrap.memberCount(vertx));
    }
    ctx.json(health);
  }

  private void instances(RoutingContext ctx) {
    vertx.eventBus().<JsonObject>request(Addresses.REGISTRY_QUERY, null, QUERY)
        .onSuccess(reply -> ctx.json(reply.body()))
        .onFailure(e -> ctx.fail(503, e));
  }

  private void error(RoutingContext ctx) {
    int status = ctx.statusCode();
    String path = ctx.request().path();
    if (ctx.failure() != null) {
      LOG.warn("{} {} answered {}: {}", ctx.request().method(), path, status, ctx.failure().toString());
    }
    if (ctx.response().headWritten()) {
      ctx.response().reset();
      return;
    }
    String reason = ctx.response().setStatusCode(status).getStatusMessage().toLowerCase(Locale.ROOT);
    ctx.json(new JsonObject().put("error", status == 404 ? "no such resource: " + path : reason));
  }
}
