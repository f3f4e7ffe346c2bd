package io.fleetvote.sandbox.admin;

import io.fleetvote.common.Ids;
import io.fleetvote.common.msg.JsonFields;
import io.fleetvote.common.msg.MessageException;
import io.fleetvote.sandbox.Cloud;
import io.fleetvote.sandbox.Faults;
import io.fleetvote.sandbox.Instance;
import io.fleetvote.sandbox.InstanceState;
import io.fleetvote.sandbox.ec2.Ec2Api;
import io.fleetvote.sandbox.ec2.Ec2Exception;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The sandbox's own console under {@code /_sandbox/}: what runs where (ports, pids, logs, cgroups), API call counts,
 * the instances' capacity, and fault injection. JSON in and out; a bad body is a 400 naming the field.
 */
public final class AdminApi {

  private static final int MAX_BODY = 4096;

  private final Cloud cloud;
  private final Ec2Api ec2;

  public AdminApi(Cloud cloud, Ec2Api ec2) {
    this.cloud = cloud;
    this.ec2 = ec2;
  }

  public Router router(Vertx vertx) {
    Router router = Router.router(vertx);
    router.route().handler(BodyHandler.create().setBodyLimit(MAX_BODY).setHandleFileUploads(false));
    router.get("/health").handler(this::health);
    router.get("/images").handler(this::images);
    router.get("/instances").handler(this::instances);
    router.get("/instances/:id").handler(this::instance);
    router.post("/instances/:id/kill").handler(this::kill);
    router.post("/terminate-all").handler(this::terminateAll);
    router.get("/faults").handler(ctx -> json(ctx, 200, cloud.faults().toJson()));
    router.delete("/faults").handler(this::clearFaults);
    router.post("/faults/throttle").handler(ctx -> fault(ctx, "throttle"));
    router.post("/faults/capacity").handler(ctx -> fault(ctx, "capacity"));
    router.post("/faults/slow-boot").handler(ctx -> fault(ctx, "slow-boot"));
    router.get("/stats").handler(ctx -> json(ctx, 200, ec2.stats()));
    router.get("/capacity").handler(ctx -> json(ctx, 200, cloud.capacity()));
    router.get("/identity-certificate").handler(ctx -> ctx.response().putHeader("Content-Type",
        "application/x-pem-file").end(cloud.identityCertificate()));
    router.route().handler(ctx -> error(ctx, 404, "no such admin resource: " + ctx.request().method() + " "
        + Ec2Exception.abbreviate(ctx.request().path())));
    router.route().failureHandler(ctx -> error(ctx, ctx.statusCode() > 0 ? ctx.statusCode() : 500,
        ctx.statusCode() == 413 ? "body larger than " + MAX_BODY + " bytes" : "request failed"));
    return router;
  }

  private void health(RoutingContext ctx) {
    Map<String, Integer> byState = new TreeMap<>();
    Arrays.stream(InstanceState.values()).forEach(s -> byState.put(s.ec2Name(), 0));
    cloud.instances().forEach(i -> byState.merge(i.state().ec2Name(), 1, Integer::sum));
    json(ctx, 200, new JsonObject().put("status", "UP").put("region", cloud.options().region())
        .put("instances", new JsonObject(new TreeMap<>(byState))));
  }

  private void images(RoutingContext ctx) {
    JsonArray list = new JsonArray();
    cloud.images().all().forEach(image -> list.add(new JsonObject().put("imageId", image.id()).put("name", image.name())
        .put("description", image.description()).put("ports", new JsonArray(image.ports()))
        .put("processes", new JsonArray(image.processes().stream().map(p -> p.name()).toList()))));
    json(ctx, 200, new JsonObject().put("images", list));
  }

  private void instances(RoutingContext ctx) {
    JsonArray list = new JsonArray();
    cloud.instances().forEach(i -> list.add(cloud.adminView(i)));
    json(ctx, 200, new JsonObject().put("instances", list));
  }

  private void instance(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    cloud.find(id).ifPresentOrElse(i -> json(ctx, 200, cloud.adminView(i)),
        () -> error(ctx, 404, "no instance " + Ec2Exception.abbreviate(id)));
  }

  private void kill(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    if (!Ids.INSTANCE_ID.matcher(id).matches() || cloud.find(id).isEmpty()) {
      error(ctx, 404, "no instance " + Ec2Exception.abbreviate(id));
      return;
    }
    List<String> named = ctx.queryParam("process");
    if (named.isEmpty()) {
      cloud.kill(id).onComplete(x -> json(ctx, 200, cloud.adminView(cloud.find(id).orElseThrow())));
      return;
    }
    List<String> known = cloud.processNames(id);
    if (!known.contains(named.get(0))) {
      error(ctx, 404, "instance " + id + " has no process " + Ec2Exception.abbreviate(named.get(0))
          + "; its processes: " + String.join(", ", known));
      return;
    }
    cloud.kill(id, named.get(0)).onComplete(x -> json(ctx, 200, cloud.adminView(cloud.find(id).orElseThrow())));
  }

  private void terminateAll(RoutingContext ctx) {
    JsonArray ids = new JsonArray(cloud.instances().stream().filter(i -> i.state() != InstanceState.TERMINATED)
        .map(Instance::id).toList());
    cloud.terminateAll().onComplete(x -> json(ctx, 200, new JsonObject().put("terminated", ids)));
  }

  private void clearFaults(RoutingContext ctx) {
    cloud.faults().clear();
    json(ctx, 200, cloud.faults().toJson());
  }

  private void fault(RoutingContext ctx, String kind) {
    JsonObject body;
    try {
      body = ctx.body().length() == 0 ? new JsonObject() : JsonFields.object(ctx.body().buffer(), "body");
      int count = body.containsKey("count") ? JsonFields.intValue(body, "count", 1, 1_000_000) : Faults.UNTIL_CLEARED;
      switch (kind) {
        case "throttle" -> cloud.faults().throttle(count);
        case "capacity" -> cloud.faults().refuseCapacity(count);
        default -> cloud.faults().slowBoot(JsonFields.longValue(body, "delayMillis", 1, 600_000), count);
      }
    } catch (MessageException e) {
      error(ctx, 400, e.getMessage());
      return;
    }
    json(ctx, 200, cloud.faults().toJson());
  }

  private static void json(RoutingContext ctx, int status, JsonObject body) {
    ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body.encodePrettily());
  }

  private static void error(RoutingContext ctx, int status, String message) {
    json(ctx, status, new JsonObject().put("error", message));
  }
}
