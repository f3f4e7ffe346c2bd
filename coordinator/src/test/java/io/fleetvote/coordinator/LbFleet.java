package io.fleetvote.coordinator;

import io.fleetvote.common.cluster.ClusterOptions;
import io.fleetvote.common.msg.ScalingState;
import io.fleetvote.load.Capacity;
import io.fleetvote.load.LoadGenerator;
import io.fleetvote.load.LoadOptions;
import io.fleetvote.load.LoadReport;
import io.fleetvote.sandbox.ImageCatalog;
import io.fleetvote.testkit.Await;
import io.fleetvote.testkit.CoordinatorClient;
import io.fleetvote.testkit.Ec2Clients;
import io.fleetvote.testkit.Http;
import io.fleetvote.testkit.HttpReply;
import io.fleetvote.testkit.LocalCluster;
import io.fleetvote.testkit.SandboxAdmin;
import io.fleetvote.testkit.SandboxProcess;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import software.amazon.awssdk.services.ec2.Ec2Client;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A sandbox and a coordinator running group {@code lb} (HAProxy instances serving group {@code web}) and group
 * {@code web} (t3.micro app instances, a quarter of a core each, with voting windows of seconds), plus a Vert.x of
 * the tests' own for their loads (their bus requests go on the coordinator's, as a coordinator's would); and the views the load-balancing tests need: a group's instances, an LB's
 * backend, the ledger. Loads are sized from the instances' capacity ({@link #CAPACITY}), never from the host's speed;
 * it refuses to start where the sandbox cannot enforce that capacity, saying why.
 */
final class LbFleet implements AutoCloseable {

  static final Duration TIMEOUT = Duration.ofSeconds(90);
  static final String WEB_TYPE = "t3.micro";
  /** CPU milliseconds per request of the tests' loads. */
  static final int WORK_MS = 10;
  static final Capacity CAPACITY = Capacity.of(WEB_TYPE, WORK_MS);
  /** The web instances' voting thresholds, in percent of their capacity. */
  static final int GROW_ABOVE = 60;
  static final int SHRINK_BELOW = 20;

  final SandboxProcess sandbox;
  final SandboxAdmin admin;
  final Ec2Client ec2;
  final Coordinator coordinator;
  final CoordinatorClient api;
  final Vertx member;

  private LbFleet(SandboxProcess sandbox, Ec2Client ec2, Coordinator coordinator, Vertx member) {
    this.sandbox = sandbox;
    this.admin = sandbox.admin();
    this.ec2 = ec2;
    this.coordinator = coordinator;
    this.api = new CoordinatorClient(coordinator.httpPort());
    this.member = member;
  }

  /** Starts everything; {@code lbs} LB instances, web between {@code webMin} and {@code webMax}. */
  static LbFleet start(Path dir, int lbs, int webMin, int webMax) {
    return start(dir, lbs, new JsonObject().put("min", webMin).put("max", webMax));
  }

  /** The same with more settings of group web ({@code min}, {@code max}, healing...) over the defaults. */
  static LbFleet start(Path dir, int lbs, JsonObject web) {
    SandboxProcess sandbox = SandboxProcess.start(dir.resolve("sandbox"));
    Coordinator coordinator = null;
    try {
      sandbox.admin().requireCapacity("these tests' loads");
      ClusterOptions cluster = LocalCluster.single("lb");
      JsonObject lbGroup = new JsonObject().put("name", "lb").put("imageId", ImageCatalog.imageId("fleetvote-lb"))
          .put("min", lbs).put("max", lbs).put("agent", new JsonObject().put("roles", new JsonArray().add("lb"))
              .put("gossipPeriodMs", 500).put("lb", new JsonObject().put("serves", "web").put("reconcileMs", 1000)));
      JsonObject webGroup = new JsonObject().put("name", "web").put("imageId", ImageCatalog.imageId("fleetvote-app"))
          .put("instanceType", WEB_TYPE).put("calmTimeMs", 4000).put("drainTimeoutMs", 10_000)
          .put("agent", new JsonObject().put("gossipPeriodMs", 500).put("sampleMs", 500).put("warmupMs", 2000)
              .put("growAbove", GROW_ABOVE).put("growAfterMs", 3000).put("shrinkBelow", SHRINK_BELOW)
              .put("shrinkAfterMs", 4000))
          .mergeIn(web);
      coordinator = Coordinator.start(new CoordinatorOptions(new JsonObject()
          .put("deployment", "it").put("httpPort", 0)
          .put("cluster", cluster.toJson())
          .put("gateway", sandbox.agentGateway())
          .put("dataDir", dir.resolve("coordinator").toString())
          .put("scaling", new JsonObject()
              .put("tickMillis", 500).put("fleetRefreshMillis", 2000)
              .put("groups", new JsonArray().add(lbGroup).add(webGroup))
              .put("fleet", new JsonObject().put("deployment", "it").put("endpoint", sandbox.endpoint().toString())
                  .put("firstRetryDelayMillis", 200).put("maxRetryDelayMillis", 2000))))).await();
      Vertx member = Vertx.vertx();
      return new LbFleet(sandbox, Ec2Clients.sync(sandbox.endpoint()), coordinator, member);
    } catch (RuntimeException e) {
      if (coordinator != null) {
        coordinator.close().await();
      }
      sandbox.close();
      throw e;
    }
  }

  /**
   * Load through the LB's frontend: {@code share} of the capacity of {@code instances} web instances (1.0: all they
   * can serve), for {@code duration}.
   */
  Future<LoadReport> load(String lb, int instances, double share, Duration duration, Duration timeout) {
    return load(lb, CAPACITY.rate(instances, share), duration, timeout);
  }

  Future<LoadReport> load(String lb, int rate, Duration duration, Duration timeout) {
    URI frontend = URI.create("http://127.0.0.1:" + admin.port(lb, "http") + "/?work=" + WORK_MS);
    return new LoadGenerator(member, new LoadOptions(List.of(frontend), rate, duration, timeout, 256, null),
        line -> { }).run();
  }

  @Override
  public void close() {
    try {
      member.close().await();
      coordinator.close().await();
    } finally {
      sandbox.close();
    }
  }

  /** The first LB instance, once the coordinator has launched it and its backend holds {@code ready} web servers. */
  String awaitLbWith(int ready) {
    String lb = Await.until("the LB instance", TIMEOUT, () -> groupInstances("lb").stream().findFirst(),
        Optional::isPresent).orElseThrow();
    Await.until(ready + " web instances in the LB's backend, up", TIMEOUT, () -> readyServers(lb).size() == ready);
    return lb;
  }

  /** The instances the coordinator counts in {@code group}. */
  List<String> groupInstances(String group) {
    return api.group(group).map(ScalingState.GroupState::instances).orElse(List.of());
  }

  /** The dashboard's latest snapshot ({@code GET /api/dashboard}). */
  JsonObject dashboard() {
    return api.dashboard();
  }

  List<JsonObject> entries(String group) {
    return api.decisions(group, null, 1000);
  }

  /** The LB agent's {@code /lb/servers}: its HAProxy backend; empty while it does not answer. */
  JsonObject backend(String lb) {
    try {
      return Http.answer(Http.request(Http.local(admin.port(lb, "agent"), "/lb/servers")))
          .filter(reply -> reply.status() == 200).map(HttpReply::json).orElseGet(JsonObject::new);
    } catch (RuntimeException e) {
      return new JsonObject();
    }
  }

  static List<JsonObject> servers(JsonObject backend) {
    return backend.getJsonArray("servers", new JsonArray()).stream().map(JsonObject.class::cast).toList();
  }

  /** Servers HAProxy routes to: up, neither in maintenance nor draining. */
  List<String> readyServers(String lb) {
    return servers(backend(lb)).stream().filter(s -> s.getBoolean("up") && !s.getBoolean("maintenance")
        && !s.getBoolean("draining")).map(s -> s.getString("name")).toList();
  }
}
