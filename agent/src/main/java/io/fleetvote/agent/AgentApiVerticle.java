package io.fleetvote.agent;

import io.fleetvote.agent.lb.BackendStatus;
import io.fleetvote.agent.lb.Haproxy;
import io.fleetvote.agent.lb.LbRegistrar;
import io.fleetvote.agent.lb.ServerState;
import io.fleetvote.agent.link.CoordinatorLink;
import io.fleetvote.common.imds.InstanceIdentity;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.micrometer.PrometheusScrapingHandler;
import io.vertx.micrometer.backends.BackendRegistries;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.List;
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
  private final InstanceState state;
  private final Optional<LbRegistrar> registrar;
  /** The agent's link to the coordinators, if it has one: its health says which took it and which it knows. */
  private final Optional<CoordinatorLink> link;

  /**
   * @param vote      the latest vote, or nothing (no sample yet, or an agent that does not vote)
   * @param registrar the HAProxy registrar of an LB agent: {@code GET /lb/servers} shows its backend
   */
  AgentApiVerticle(InstanceIdentity identity, AgentOptions options, Supplier<Optional<VotePolicy.Decision>> vote,
                   InstanceState state, Optional<LbRegistrar> registrar, Optional<CoordinatorLink> link) {
    this.identity = identity;
    this.link = link;
    this.options = options;
    this.vote = vote;
    this.state = state;
    this.registrar = registrar;
  }

  @Override
  public Future<?> start() {
    Router router = Router.router(vertx);
    router.get("/health").handler(this::health);
    Optional.ofNullable(BackendRegistries.getDefaultNow())
        .ifPresent(new ProcessMetrics(Path.of("/proc/self"))::bindTo);
    router.get("/metrics").handler(PrometheusScrapingHandler.create());
    registrar.ifPresent(lb -> router.get("/lb/servers").handler(ctx -> servers(ctx, lb)));
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
        .put("appReady", state.appReady())
        .put("appProblem", state.app().problem())
        .put("leaving", state.leaving())
        .put("terminating", state.terminating())
        .put("coordinator", link.flatMap(CoordinatorLink::connected).orElse(null))
        .put("coordinators", link.map(l -> new JsonArray(l.coordinators())).orElseGet(JsonArray::new));
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

  /** The LB's backend as HAProxy reports it: each server's state, weight, sessions and errors, and the fail-open one. */
  private void servers(RoutingContext ctx, LbRegistrar lb) {
    Future<BackendStatus> status = lb.status();
    Future<Haproxy.Totals> totals = lb.totals();
    Future.all(status, totals).onComplete(result -> {
      if (result.failed()) {
        ctx.response().setStatusCode(503);
        ctx.json(new JsonObject().put("error", String.valueOf(result.cause().getMessage())));
        return;
      }
      Haproxy.Totals t = totals.result();
      ctx.json(new JsonObject().put("backend", lb.options().backend()).put("serves", lb.options().getServes())
          .put("totals", new JsonObject().put("requests", t.requests()).put("http5xx", t.frontend5xx())
              .put("backend5xx", t.backend5xx()).put("connectionErrors", t.connectionErrors())
              .put("responseErrors", t.responseErrors()).put("retries", t.retries())
              .put("redispatches", t.redispatches()))
          .put("servers", json(status.result().servers()))
          .put("failOpen", status.result().failOpen()).put("note", status.result().note())
          .put("openBackend", lb.options().openBackend()).put("openServers", json(status.result().open())));
    });
  }

  private static JsonArray json(List<ServerState> servers) {
    JsonArray list = new JsonArray();
    servers.forEach(s -> list.add(new JsonObject().put("name", s.name()).put("address", s.address())
        .put("port", s.port()).put("up", s.up()).put("maintenance", s.maintenance()).put("draining", s.draining())
        .put("check", s.checkStatus()).put("weight", s.weight()).put("sessions", s.sessions()).put("queued", s.queued())
        .put("total", s.total()).put("http5xx", s.http5xx()).put("connectionErrors", s.connectionErrors())
        .put("responseErrors", s.responseErrors())));
    return list;
  }
}
