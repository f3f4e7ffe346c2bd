package io.fleetvote.coordinator;

import io.fleetvote.common.cluster.ClusterBootstrap;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;

import java.time.Clock;

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
    ClusterBootstrap.clustered(own.getCluster(), ClusterBootstrap.withPrometheus(new VertxOptions()))
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
        .compose(registry -> vertx.deployVerticle(api))
        .map(deployed -> new Coordinator(vertx, api.actualPort()));
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
