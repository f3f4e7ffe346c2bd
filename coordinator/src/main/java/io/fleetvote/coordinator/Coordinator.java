package io.fleetvote.coordinator;

import io.fleetvote.common.cluster.ClusterBootstrap;
import io.fleetvote.common.cluster.ClusterOptions;
import io.fleetvote.common.tls.ClusterKey;
import io.fleetvote.coordinator.db.DbPairVerticle;
import io.fleetvote.coordinator.db.DbVerticle;
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
import io.vertx.core.json.JsonObject;

import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * One running coordinator: a clustered Vert.x with the live registry and the HTTP API deployed on it.
 * {@link CoordinatorMain} runs one per process; integration tests run one in the test JVM.
 */
public final class Coordinator {

  /** A lone coordinator's cluster key, in its data directory, when none is given. */
  static final String OWN_CLUSTER_KEY = "cluster.p12";

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
    try {
      secureTheBus(own);
    } catch (Exception e) {
      return Future.failedFuture(e);
    }
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
   * The cluster key: the one given (every coordinator of the deployment holds the same), or, for a lone coordinator,
   * one of its own made in its data directory. Blocking (keytool, the first time).
   */
  private static void secureTheBus(CoordinatorOptions options) throws Exception {
    ClusterOptions cluster = options.getCluster();
    if (cluster.getKeyStore() != null) {
      ClusterKey.load(Path.of(cluster.getKeyStore()));
      return;
    }
    if (options.getCoordinators() > 1) {
      throw new IllegalArgumentException("--coordinators " + options.getCoordinators() + " needs --cluster-key FILE: "
          + "the coordinators' event bus is TLS with client certificates, and each must hold the same key (make it "
          + "once with ./fleetvote cluster-key --file FILE)");
    }
    Path own = Path.of(options.getDataDir(), OWN_CLUSTER_KEY);
    ClusterKey.make(own);
    cluster.setKeyStore(own.toString());
  }

  /**
   * Deploys the coordinator's verticles on {@code vertx}, clustered or not; {@link #close()} closes it. A coordinator
   * that acts (today: one that scales) runs one {@link LeaderVerticle}, deployed before the components that act as
   * the leader, so that closing undeploys them first and the lease is handed back last.
   */
  static Future<Coordinator> deploy(Vertx vertx, CoordinatorOptions options) {
    CoordinatorApiVerticle api = new CoordinatorApiVerticle(options);
    DbVerticle db = new DbVerticle(options.getDeployment(), Clock.systemUTC());
    List<String> ids = new ArrayList<>();
    return vertx.deployVerticle(new RegistryVerticle(options, Clock.systemUTC())).onSuccess(ids::add)
        .compose(registry -> vertx.deployVerticle(new UiVerticle(options.getDeployment(), options.getScaling() != null,
            1000, Clock.systemUTC(), db::view))).onSuccess(ids::add)
        .compose(ui -> vertx.deployVerticle(db))
        .onSuccess(ids::add)
        .compose(reports -> vertx.deployVerticle(api)).onSuccess(ids::add)
        .compose(deployed -> options.getScaling() == null ? Future.succeededFuture()
            : leaderComponents(vertx, options, options.getHttpHost() + ":" + api.actualPort(), db, ids))
        .map(deployed -> new Coordinator(vertx, api.actualPort(), ids));
  }

  /** The leadership and ledger, then the components that act under them; the coordinator is named by its API. */
  private static Future<String> leaderComponents(Vertx vertx, CoordinatorOptions options, String id, DbVerticle db,
                                                 List<String> ids) {
    LeaderVerticle leader = new LeaderVerticle(id, options);
    FleetOptions fleet = new FleetOptions(options.getScaling().getFleet().setDeployment(options.getDeployment()));
    if (options.getGateway() == null) {
      return Future.failedFuture(new IllegalArgumentException("a coordinator that scales needs an agent gateway "
          + "(gateway options; --agent-port, --identity-certificate): agents reach the coordinators only through it"));
    }
    AgentGateway gateway = new AgentGateway(options, id, () -> Ec2Fleet.create(vertx, fleet), Clock.systemUTC());
    Supplier<JsonObject> reach = gateway::reach;
    return vertx.deployVerticle(gateway).onSuccess(ids::add)
        .compose(x -> vertx.deployVerticle(leader)).onSuccess(ids::add)
        .compose(x -> vertx.deployVerticle(new ScalingVerticle(id, options, reach, leader.leadership(),
            leader.ledger(), () -> Ec2Fleet.create(vertx, fleet), Clock.systemUTC()))).onSuccess(ids::add)
        .compose(x -> options.getScaling().getDb().isEmpty() ? Future.succeededFuture(x)
            : vertx.deployVerticle(new DbPairVerticle(options.getDeployment(), options.getScaling().getDb().get(),
                leader.leadership(), db, () -> Ec2Fleet.create(vertx, fleet), reach, Path.of(options.getDataDir()),
                options.getScaling().getTickMillis(), options.getOpTimeoutMillis(), Clock.systemUTC()))
                .onSuccess(ids::add));
  }

  /** The clustered Vert.x this coordinator runs on: tests publish on its bus as a coordinator. */
  public Vertx vertx() {
    return vertx;
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
