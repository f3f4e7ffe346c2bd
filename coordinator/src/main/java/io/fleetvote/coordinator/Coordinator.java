package io.fleetvote.coordinator;

import io.fleetvote.common.cluster.ClusterBootstrap;
import io.fleetvote.common.cluster.ClusterOptions;
import io.fleetvote.coordinator.fleet.Ec2Fleet;
import io.fleetvote.coordinator.fleet.FleetOptions;
import io.fleetvote.coordinator.gateway.AgentGateway;
import io.fleetvote.coordinator.leader.CoordinatorQuorum;
import io.fleetvote.coordinator.leader.LeaderVerticle;
import io.fleetvote.coordinator.scaling.ScalingVerticle;
import io.fleetvote.coordinator.ui.UiVerticle;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * One running coordinator: a clustered Vert.x with the live registry and the HTTP API deployed on it.
 * {@link CoordinatorMain} runs one per process; integration tests run one in the test JVM.
 */
public final class Coordinator {

  private final Vertx vertx;
  private final int httpPort;
  /** Deployment ids in the order deployed: undeployed the other way round. */
  private final List<String> deployments;

  private Coordinator(Vertx vertx, int httpPort, List<String> deployments) {
    this.vertx = vertx;
    this.httpPort = httpPort;
    this.deployments = List.copyOf(deployments);
  }

  /** Joins the cluster and deploys the coordinator; on a failed deployment it leaves the cluster again. */
  public static Future<Coordinator> start(CoordinatorOptions options) {
    CoordinatorOptions own = new CoordinatorOptions(options);
    // Without a context: after a failed deployment it completes once Vert.x, event loops and all, has closed.
    Promise<Coordinator> started = Promise.promise();
    ClusterBootstrap.clustered(own.getCluster(), ClusterBootstrap.withPrometheus(new VertxOptions()),
            new CoordinatorQuorum(own.getCoordinators())::configure)
        .onFailure(started::fail)
        .onSuccess(vertx -> deploy(vertx, own)
            .onSuccess(started::complete)
            .onFailure(failure -> vertx.close().onComplete(closed -> started.fail(failure))));
    return started.future();
  }

  /**
   * Deploys the coordinator's verticles on {@code vertx}, clustered or not; {@link #close()} closes it. A coordinator
   * that acts (today: one that scales) runs one {@link LeaderVerticle}, deployed before the components that act as
   * the leader, so that closing undeploys them first and the lease is handed back last.
   */
  static Future<Coordinator> deploy(Vertx vertx, CoordinatorOptions options) {
    CoordinatorApiVerticle api = new CoordinatorApiVerticle(options);
    List<String> ids = new ArrayList<>();
    return vertx.deployVerticle(new RegistryVerticle(options, Clock.systemUTC())).onSuccess(ids::add)
        .compose(registry -> vertx.deployVerticle(new UiVerticle(options.getDeployment(), options.getScaling() != null,
            1000, Clock.systemUTC()))).onSuccess(ids::add)
        .compose(ui -> vertx.deployVerticle(api)).onSuccess(ids::add)
        .compose(deployed -> options.getScaling() == null ? Future.succeededFuture()
            : leaderComponents(vertx, options, options.getHttpHost() + ":" + api.actualPort(), ids))
        .map(deployed -> new Coordinator(vertx, api.actualPort(), ids));
  }

  /** The leadership and ledger, then the components that act under them; the coordinator is named by its API. */
  private static Future<String> leaderComponents(Vertx vertx, CoordinatorOptions options, String id, List<String> ids) {
    LeaderVerticle leader = new LeaderVerticle(id, options);
    FleetOptions fleet = new FleetOptions(options.getScaling().getFleet().setDeployment(options.getDeployment()));
    Future<Supplier<JsonObject>> reach;
    if (options.getGateway() == null) {
      reach = Future.succeededFuture(() -> clusterReach(options.getCluster()));
    } else {
      AgentGateway gateway = new AgentGateway(options.getGateway(), id, options.getDataDir(), options.getDeployment(),
          options.getScaling().getGroups(), () -> Ec2Fleet.create(vertx, fleet), Clock.systemUTC());
      reach = vertx.deployVerticle(gateway).onSuccess(ids::add).map(deployed -> gateway::reach);
    }
    return reach.compose(agentsReach -> vertx.deployVerticle(leader).onSuccess(ids::add)
        .compose(x -> vertx.deployVerticle(new ScalingVerticle(id, options, agentsReach, leader.leadership(),
            leader.ledger(), () -> Ec2Fleet.create(vertx, fleet), Clock.systemUTC()))).onSuccess(ids::add));
  }

  /** Without a gateway, new instances' agents join the configured members (or this coordinator's address). */
  private static JsonObject clusterReach(ClusterOptions cluster) {
    List<String> members = cluster.getMembers().isEmpty() ? List.of(cluster.getHost() + ":" + cluster.getPort())
        : cluster.getMembers();
    return new JsonObject().put("cluster", new JsonObject().put("clusterName", cluster.getClusterName())
        .put("members", new JsonArray(members)));
  }

  /** The port the HTTP API listens on, on {@link CoordinatorOptions#getHttpHost()}. */
  public int httpPort() {
    return httpPort;
  }

  /**
   * Undeploys everything, the last deployed first (the components that act stop before the leadership hands its
   * lease back), and leaves the cluster.
   */
  public Future<Void> close() {
    Future<Void> undeployed = Future.succeededFuture();
    for (int i = deployments.size() - 1; i >= 0; i--) {
      String id = deployments.get(i);
      undeployed = undeployed.eventually(() -> vertx.undeploy(id));
    }
    return undeployed.eventually(vertx::close);
  }
}
