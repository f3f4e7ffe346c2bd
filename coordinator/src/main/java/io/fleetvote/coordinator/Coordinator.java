package io.fleetvote.coordinator;

import io.fleetvote.common.cluster.ClusterBootstrap;
import io.fleetvote.common.cluster.ClusterOptions;
import io.fleetvote.coordinator.fleet.Ec2Fleet;
import io.fleetvote.coordinator.fleet.FleetOptions;
import io.fleetvote.coordinator.leader.CoordinatorQuorum;
import io.fleetvote.coordinator.scaling.ScalingOptions;
import io.fleetvote.coordinator.scaling.ScalingVerticle;
import io.fleetvote.coordinator.ui.UiVerticle;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;

import java.time.Clock;
import java.util.List;

/**
 * One running coordinator: a clustered Vert.x with the live registry and the HTTP API deployed on it.
 * {@link CoordinatorMain} runs one per process; integration tests run one in the test JVM.
 */
public final class Coordinator {

  private final Vertx vertx;
  private final int httpPort;

  private Coordinator(Vertx vertx, int httpPort) {
    this.vertx = vertx;
    this.httpPort = httpPort;
  }

  /** Joins the cluster and deploys the coordinator; on a failed deployment it leaves the cluster again. */
  public static Future<Coordinator> start(CoordinatorOptions options) {
    CoordinatorOptions own = new CoordinatorOptions(options);
    // Without a context: after a failed deployment it completes once Vert.x, event loops and all, has closed.
    Promise<Coordinator> started = Promise.promise();
    int coordinators = own.getScaling() == null ? 1 : own.getScaling().getCoordinators();
    ClusterBootstrap.clustered(own.getCluster(), ClusterBootstrap.withPrometheus(new VertxOptions()),
            new CoordinatorQuorum(coordinators)::configure)
        .onFailure(started::fail)
        .onSuccess(vertx -> deploy(vertx, own)
            .onSuccess(started::complete)
            .onFailure(failure -> vertx.close().onComplete(closed -> started.fail(failure))));
    return started.future();
  }

  /** Deploys the coordinator's verticles on {@code vertx}, clustered or not; {@link #close()} closes it. */
  static Future<Coordinator> deploy(Vertx vertx, CoordinatorOptions options) {
    CoordinatorApiVerticle api = new CoordinatorApiVerticle(options);
    return vertx.deployVerticle(new RegistryVerticle(options, Clock.systemUTC()))
        .compose(registry -> vertx.deployVerticle(new UiVerticle(options.getDeployment(), options.getScaling() != null,
            1000, Clock.systemUTC())))
        .compose(ui -> vertx.deployVerticle(api))
        .compose(deployed -> options.getScaling() == null ? Future.succeededFuture()
            : vertx.deployVerticle(scaling(vertx, options, options.getHttpHost() + ":" + api.actualPort())))
        .map(deployed -> new Coordinator(vertx, api.actualPort()));
  }

  /** The autoscaler, named by its API address; new instances' agents are told to join the configured members. */
  private static ScalingVerticle scaling(Vertx vertx, CoordinatorOptions options, String id) {
    ScalingOptions scaling = options.getScaling();
    FleetOptions fleet = new FleetOptions(scaling.getFleet().setDeployment(options.getDeployment()));
    ClusterOptions cluster = options.getCluster();
    List<String> members = cluster.getMembers().isEmpty() ? List.of(cluster.getHost() + ":" + cluster.getPort())
        : cluster.getMembers();
    return new ScalingVerticle(id, options.getDeployment(), cluster.getClusterName(), members, scaling,
        () -> Ec2Fleet.create(vertx, fleet), Clock.systemUTC(), options.getFutureToleranceMillis(),
        options.getExpireAfterMillis());
  }

  /** The port the HTTP API listens on, on {@link CoordinatorOptions#getHttpHost()}. */
  public int httpPort() {
    return httpPort;
  }

  /** Undeploys everything and leaves the cluster. */
  public Future<Void> close() {
    return vertx.close();
  }
}
