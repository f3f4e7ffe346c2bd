package io.fleetvote.coordinator;

import io.fleetvote.common.Addresses;
import io.fleetvote.common.Ids;
import io.fleetvote.common.LogSafe;
import io.fleetvote.common.cluster.ClusterBootstrap;
import io.fleetvote.common.msg.JsonFields;
import io.fleetvote.common.msg.LedgerQuery;
import io.fleetvote.common.msg.MessageException;
import io.fleetvote.common.msg.OperatorCommand;
import io.fleetvote.common.msg.ScalingState;
import io.fleetvote.coordinator.auth.Authentication;
import io.fleetvote.coordinator.auth.UsersFile;
import io.fleetvote.coordinator.gateway.AgentGateway;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.bridge.PermittedOptions;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.StaticHandler;
import io.vertx.ext.web.handler.sockjs.SockJSBridgeOptions;
import io.vertx.ext.web.handler.sockjs.SockJSHandler;
import io.vertx.micrometer.PrometheusScrapingHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * The coordinator's HTTP API: {@code GET /health}, {@code GET /metrics} (Prometheus), open to all, and under
 * {@code /api/} the live registry, the ledger, the groups and the leader, behind {@link Authentication} when the
 * coordinator has a users file. Every error is a JSON {@code {"error": "..."}} with its status, never a stack trace.
 * A port already taken fails the deployment.
 */
final class CoordinatorApiVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(CoordinatorApiVerticle.class);
  private static final DeliveryOptions QUERY = new DeliveryOptions().setSendTimeout(2000);
  /** An action may wait for a drain (the group's drain timeout) before the leader answers. */
  private static final DeliveryOptions COMMAND = new DeliveryOptions().setSendTimeout(120_000);
  /** Every request body the API takes is a small JSON object. */
  private static final long MAX_BODY_BYTES = 64 * 1024;

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
    router.route("/api/*").handler(BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES));
    boolean authenticated = options.getUsersFile() != null;
    if (authenticated) {
      new Authentication(vertx, UsersFile.read(Path.of(options.getUsersFile())), Clock.systemUTC()).mount(router);
    } else {
      router.get("/api/me").handler(ctx -> ctx.json(new JsonObject().put("name", "anyone").put("role", "operator")
          .put("authentication", "off: no --users file")));
    }
    router.get("/api/instances").handler(this::instances);
    router.get("/api/db").handler(ctx -> vertx.eventBus().<JsonObject>request(Addresses.DB_QUERY, null, QUERY)
        .onSuccess(reply -> ctx.json(reply.body()))
        .onFailure(e -> ctx.fail(503, e)));
    router.get("/api/decisions").handler(ctx -> decisions(ctx, ctx.queryParams().get("group")));
    router.get("/api/groups").handler(this::groups);
    router.get("/api/groups/:group/decisions").handler(ctx -> decisions(ctx, ctx.pathParam("group")));
    router.get("/api/leader").handler(this::leader);
    router.get("/api/dashboard").handler(ctx -> vertx.eventBus().<JsonObject>request(Addresses.UI_QUERY, null, QUERY)
        .onSuccess(reply -> ctx.json(reply.body()))
        .onFailure(e -> ctx.fail(503, e)));
    for (String action : List.of("bounds", "scale", "pause", "resume")) {
      operatorRoute(router, "/api/groups/:group/" + action, authenticated, ctx -> command(ctx, action, "group"));
    }
    for (String action : List.of("protect", "unprotect", "drain", "undrain")) {
      operatorRoute(router, "/api/instances/:instance/" + action, authenticated,
          ctx -> command(ctx, action, "instance"));
    }
    operatorRoute(router, "/api/instances/:instance/revoke", authenticated, this::revoke);
    operatorRoute(router, "/api/db/acknowledge", authenticated, ctx -> dbAction(ctx, Addresses.DB_ACKNOWLEDGE,
        Set.of()));
    operatorRoute(router, "/api/db/maintenance", authenticated, ctx -> dbAction(ctx, Addresses.DB_MAINTENANCE,
        Set.of("on", "reason")));
    operatorRoute(router, "/api/db/switchover", authenticated, ctx -> dbAction(ctx, Addresses.DB_SWITCHOVER,
        Set.of()));
    operatorRoute(router, "/api/db/failover", authenticated, ctx -> dbAction(ctx, Addresses.DB_FAILOVER,
        Set.of("reason")));
    operatorRoute(router, "/api/db/rebuild", authenticated, ctx -> dbAction(ctx, Addresses.DB_REBUILD, Set.of()));
    SockJSBridgeOptions bridge = new SockJSBridgeOptions()
        .addOutboundPermitted(new PermittedOptions().setAddressRegex("fleetvote\\.ui\\..+"));
    router.route(Authentication.BRIDGE_PATH).subRouter(SockJSHandler.create(vertx).bridge(bridge,
        event -> event.complete(true)));
    router.route("/webjars/*").method(HttpMethod.GET).method(HttpMethod.HEAD)
        .handler(StaticHandler.create("META-INF/resources/webjars"));
    // The dashboard's files: anything but the API and the bridge, whose unknown paths stay 404s.
    router.routeWithRegex("^/(?!api/|eventbus/).*").method(HttpMethod.GET).method(HttpMethod.HEAD)
        .handler(StaticHandler.create("webroot").setIndexPage("index.html"));
    for (int status : List.of(400, 404, 405, 413, 500, 503)) {
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

  /** The decision ledger, newest first; {@code ?outcome=grow|shrink|hold} and {@code ?limit=1..1000} narrow it. */
  private void decisions(RoutingContext ctx, String group) {
    if (!scales(ctx)) {
      return;
    }
    String outcome = ctx.queryParams().get("outcome");
    if (outcome != null && !List.of("grow", "shrink", "hold").contains(outcome)) {
      badRequest(ctx, "outcome must be grow, shrink or hold");
      return;
    }
    int limit;
    try {
      limit = Integer.parseInt(ctx.queryParams().get("limit") == null ? "100" : ctx.queryParams().get("limit"));
    } catch (NumberFormatException e) {
      limit = -1;
    }
    if (limit < 1 || limit > 1000) {
      badRequest(ctx, "limit must be a whole number from 1 to 1000");
      return;
    }
    JsonObject query = new LedgerQuery(group, outcome, limit).toJson();
    vertx.eventBus().<JsonObject>request(Addresses.SCALING_STATE, null, QUERY)
        .compose(state -> {
          boolean known = group == null || ScalingState.fromJson(state.body()).group(group).isPresent();
          if (!known) {
            ctx.response().setStatusCode(404);
            ctx.json(new JsonObject().put("error", "no such group: " + LogSafe.printable(group)));
            return Future.succeededFuture();
          }
          return vertx.eventBus().<JsonObject>request(Addresses.LEDGER_QUERY, query, QUERY)
              .onSuccess(reply -> ctx.json(reply.body().put("leader", state.body().getJsonObject("leadership"))));
        })
        .onFailure(e -> ctx.fail(503, e));
  }

  private void groups(RoutingContext ctx) {
    if (scales(ctx)) {
      vertx.eventBus().<JsonObject>request(Addresses.SCALING_STATE, null, QUERY)
          .onSuccess(reply -> ctx.json(reply.body()))
          .onFailure(e -> ctx.fail(503, e));
    }
  }

  private void leader(RoutingContext ctx) {
    if (scales(ctx)) {
      vertx.eventBus().<JsonObject>request(Addresses.SCALING_STATE, null, QUERY)
          .onSuccess(reply -> ctx.json(reply.body().getJsonObject("leadership")
              .put("coordinator", reply.body().getString("coordinator"))))
          .onFailure(e -> ctx.fail(503, e));
    }
  }

  private static void operatorRoute(Router router, String path, boolean authenticated,
                                    Handler<RoutingContext> handler) {
    Route route = router.post(path);
    if (authenticated) {
      route.handler(Authentication.operator());
    }
    route.handler(handler);
  }

  /**
   * Revokes an instance's agent (a compromised instance, say): its session ends, its connection closes at every
   * coordinator, and it may never attest again. This coordinator's agent gateway does it.
   */
  private void revoke(RoutingContext ctx) {
    if (!scales(ctx)) {
      return;
    }
    String instance = ctx.pathParam("instance");
    if (!Ids.INSTANCE_ID.matcher(instance).matches()) {
      badRequest(ctx, "'" + LogSafe.printable(instance, 40) + "' is not an instance id");
      return;
    }
    String user = Authentication.claims(ctx) == null ? "anyone" : Authentication.claims(ctx).name();
    vertx.eventBus().<JsonObject>request(AgentGateway.REVOKE, new JsonObject().put("instanceId", instance)
            .put("user", user), QUERY)
        .onSuccess(reply -> ctx.json(reply.body()))
        .onFailure(e -> {
          ctx.response().setStatusCode(503);
          ctx.json(new JsonObject().put("error", "could not revoke " + instance + ": " + e.getMessage()));
        });
  }

  /**
   * An operator's action on the DB pair (acknowledge its latest failover; maintenance on or off): the body's fields
   * checked here, the rest by the pair's verticle on this coordinator.
   */
  private void dbAction(RoutingContext ctx, String address, Set<String> allowed) {
    String user = Authentication.claims(ctx) == null ? "anyone" : Authentication.claims(ctx).name();
    JsonObject body;
    try {
      String text = ctx.body().asString();
      body = text == null || text.isBlank() ? new JsonObject() : JsonFields.object(text, "body");
      for (String field : body.fieldNames()) {
        if (!allowed.contains(field)) {
          throw new MessageException(field, "is not a field of this action" + (allowed.isEmpty() ? " (it takes none)"
              : " (it takes " + new TreeSet<>(allowed) + ")"));
        }
      }
      if (allowed.contains("on")) {
        JsonFields.booleanValue(body, "on", true);
      }
      if (allowed.contains("reason")) {
        JsonFields.optionalString(body, "reason", 200, null);
      }
    } catch (MessageException e) {
      badRequest(ctx, e.getMessage());
      return;
    }
    vertx.eventBus().<JsonObject>request(address, body.copy().put("user", user), COMMAND)
        .onSuccess(reply -> ctx.json(reply.body()))
        .onFailure(err -> {
          ctx.response().setStatusCode(err instanceof ReplyException r && r.failureCode() >= 400
              && r.failureCode() < 600 ? r.failureCode() : 503);
          ctx.json(new JsonObject().put("error", String.valueOf(err.getMessage())));
        });
  }

  /** An operator's action: the body checked here, the rest by the leader (through this coordinator's autoscaler). */
  private void command(RoutingContext ctx, String action, String target) {
    if (!scales(ctx)) {
      return;
    }
    OperatorCommand.Kind kind = OperatorCommand.Kind.valueOf(action.toUpperCase(Locale.ROOT));
    String user = Authentication.claims(ctx) == null ? "anyone" : Authentication.claims(ctx).name();
    OperatorCommand command;
    try {
      String text = ctx.body().asString();
      JsonObject body = text == null || text.isBlank() ? new JsonObject() : JsonFields.object(text, "body");
      Set<String> allowed = switch (kind) {
        case BOUNDS -> Set.of("min", "max");
        case SCALE -> Set.of("by");
        default -> Set.of();
      };
      for (String field : body.fieldNames()) {
        if (!allowed.contains(field)) {
          throw new MessageException(field, "is not a field of " + action + (allowed.isEmpty() ? " (it takes none)"
              : " (it takes " + new TreeSet<>(allowed) + ")"));
        }
      }
      command = OperatorCommand.fromJson(switch (kind) {
        case BOUNDS -> OperatorCommand.bounds(ctx.pathParam(target),
            JsonFields.intValue(body, "min", 0, OperatorCommand.MAX_SIZE),
            JsonFields.intValue(body, "max", 1, OperatorCommand.MAX_SIZE), user).toJson();
        case SCALE -> OperatorCommand.scale(ctx.pathParam(target),
            JsonFields.intValue(body, "by", -OperatorCommand.MAX_SIZE, OperatorCommand.MAX_SIZE), user).toJson();
        default -> OperatorCommand.of(kind, ctx.pathParam(target), user).toJson();
      });
    } catch (MessageException e) {
      badRequest(ctx, e.getMessage());
      return;
    }
    vertx.eventBus().<JsonObject>request(Addresses.SCALING_COMMAND, command.toJson(), COMMAND)
        .onSuccess(reply -> ctx.json(reply.body()))
        .onFailure(err -> {
          int status = err instanceof ReplyException r && r.failureCode() >= 400 && r.failureCode() < 600
              ? r.failureCode() : 503;
          ctx.response().setStatusCode(status);
          ctx.json(new JsonObject().put("error", String.valueOf(err.getMessage())));
        });
  }

  /** A coordinator started without groups keeps the registry only: the scaling API answers 404 there. */
  private boolean scales(RoutingContext ctx) {
    if (options.getScaling() == null) {
      ctx.response().setStatusCode(404);
      ctx.json(new JsonObject().put("error", "this coordinator runs no autoscaler (started without --groups)"));
      return false;
    }
    return true;
  }

  private static void badRequest(RoutingContext ctx, String message) {
    ctx.response().setStatusCode(400);
    ctx.json(new JsonObject().put("error", message));
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
