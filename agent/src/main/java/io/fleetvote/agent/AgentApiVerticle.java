package io.fleetvote.agent;

import io.fleetvote.common.cluster.ClusterBootstrap;
import io.fleetvote.common.imds.InstanceIdentity;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.micrometer.PrometheusScrapingHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Locale;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The agent's HTTP endpoint on the instance's private address: {@code GET /health} says who and where the
 * instance is and, for an app agent, its load, vote and warmth; {@code GET /metrics} is the Prometheus scrape. A
 * port already taken fails the deployment.
 */
final class AgentApiVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(AgentApiVerticle.class);

  private final InstanceIdentity identity;
  private final AgentOptions options;
  private final Supplier<Optional<VotePolicy.Decision>> vote;

  /** {@code vote} gives the latest vote, or nothing (no sample yet, or an agent that does not vote). */
  AgentApiVerticle(InstanceIdentity identity, AgentOptions options, Supplier<Optional<VotePolicy.Decision>> vote) {
    this.identity = identity;
    this.options = options;
    this.vote = vote;
  }

  @Override
  public Future<?> start() {
    Router router = Router.router(vertx);
    router.get("/health").handler(this::health);
    router.get("/metrics").handler(PrometheusScrapingHandler.create());
    return vertx.createHttpServer()
        .requestHandler(router)
        .listen(options.getAgentPort(), identity.privateIp())
        .onSuccess(server -> LOG.info("{}: agent HTTP listening on {}:{}", identity.instanceId(), identity.privateIp(),
            server.actualPort()));
  }

  private void health(RoutingContext ctx) {
    JsonObject health = new JsonObject()
        .put("status", "UP")
        .put("instanceId", identity.instanceId())
        .put("deployment", options.getDeployment())
        .put("group", options.getGroup())
        .put("roles", AgentOptions.roleNames(options.getRoles()))
        .put("address", identity.privateIp())
        .put("appPort", options.getAppPort())
        .put("clustered", vertx.isClustered());
    if (vertx.isClustered()) {
      health.put("clusterMembers", ClusterBootstrap.memberCount(vertx));
    }
    vote.get().ifPresent(decision -> {
      health.put("load", decision.sample().isMissing() ? null : decision.sample().cpuPercent())
          .put("vote", decision.vote().name().toLowerCase(Locale.ROOT))
          .put("warm", decision.warm());
      if (decision.sample().isMissing()) {
        health.put("loadProblem", decision.sample().problem());
      }
    });
    ctx.json(health);
  }
}
