package io.fleetvote.coordinator.ui;

import io.fleetvote.common.Addresses;
import io.fleetvote.common.msg.AgentHeartbeat;
import io.fleetvote.common.msg.LbStatus;
import io.fleetvote.common.msg.LedgerQuery;
import io.fleetvote.common.msg.LiveInstances;
import io.fleetvote.common.msg.MessageException;
import io.fleetvote.common.msg.Rejections;
import io.fleetvote.common.msg.ScalingState;
import io.fleetvote.coordinator.ledger.LedgerEntry;
import io.fleetvote.coordinator.ledger.LedgerPage;
import io.fleetvote.coordinator.scaling.Decision;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * What the dashboard shows, batched: once a second one snapshot of the fleet (groups with their votes, every
 * instance with its load, vote and HAProxy state, every LB's backend) on {@link Addresses#UI_SNAPSHOT}, and the
 * events of that second (ledger entries written or finished, instances that joined or left) on
 * {@link Addresses#UI_EVENTS}; both local to this coordinator, for its SockJS bridge. 500 instances are one message
 * a second, not 500.
 */
public final class UiVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(UiVerticle.class);
  private static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true);
  private static final DeliveryOptions QUERY = new DeliveryOptions().setSendTimeout(2000);
  /** The columns of {@code instances.rows}, in order. */
  public static final List<String> COLUMNS = List.of("id", "group", "roles", "address", "state", "load", "vote",
      "warm", "haproxy", "sessions", "uptimeMs", "leaving", "protected", "health", "drained");
  private static final long LB_STATUS_LEASE_MILLIS = 10_000;

  private final Supplier<JsonObject> db;
  private final String deployment;
  private final boolean scales;
  private final long periodMillis;
  private final Clock clock;
  private final Map<String, Heard> lbs = new LinkedHashMap<>();
  private final Set<String> ledgerSeen = new LinkedHashSet<>();
  private Set<String> instancesSeen = new HashSet<>();
  /** Per LB, the servers in its backend at the last snapshot: registrations and removals are the difference. */
  private Map<String, Set<String>> backendsSeen = new HashMap<>();
  /** The LBs that failed open at the last snapshot. */
  private Set<String> failingOpen = new HashSet<>();
  private JsonObject latest = new JsonObject();
  private Rejections rejections;
  private boolean first = true;
  /** The DB pair's failover whose steps were told as events, how many of them, and the last refusal told. */
  private String failoverSeen;
  private int failoverStepsSeen;
  private String refusalSeen;

  private record Heard(LbStatus status, long receivedAt) {
  }

  public UiVerticle(String deployment, boolean scales, long periodMillis, Clock clock) {
    this(deployment, scales, periodMillis, clock, () -> null);
  }

  /** @param db the DB pair and its servers' reports, as {@code GET /api/db} answers (null: none) */
  public UiVerticle(String deployment, boolean scales, long periodMillis, Clock clock, Supplier<JsonObject> db) {
    this.db = db;
    this.deployment = deployment;
    this.scales = scales;
    this.periodMillis = periodMillis;
    this.clock = clock;
  }

  @Override
  public Future<?> start() {
    rejections = Rejections.of(Rejections.COORDINATOR_METRIC, LOG, "dashboard of " + deployment, clock);
    vertx.setPeriodic(periodMillis, t -> publish());
    return Future.join(vertx.eventBus().consumer(Addresses.LB_STATUS, this::lbStatus).completion(),
        vertx.eventBus().localConsumer(Addresses.UI_QUERY, request -> request.reply(latest)).completion());
  }

  private void lbStatus(Message<Object> message) {
    try {
      LbStatus status = LbStatus.fromJson(message.body());
      if (status.deployment().equals(deployment)) {
        lbs.put(status.instanceId(), new Heard(status, clock.millis()));
      }
    } catch (MessageException e) {
      rejections.reject(message.address(), "invalid", "an LB status that could not be read: " + e.getMessage());
    }
  }

  private void publish() {
    Future<ScalingState> scaling = scales ? query(Addresses.SCALING_STATE, null).map(ScalingState::fromJson)
        : Future.succeededFuture(null);
    Future<LiveInstances> registry = query(Addresses.REGISTRY_QUERY, null).map(LiveInstances::fromJson);
    Future<LedgerPage> ledger = scales ? query(Addresses.LEDGER_QUERY, new LedgerQuery(null, null, 50).toJson())
        .map(LedgerPage::fromJson) : Future.succeededFuture(null);
    Future.join(scaling, registry, ledger).onComplete(done -> {
      ScalingState state = scaling.succeeded() ? scaling.result() : null;
      Map<String, Future<?>> answers = Map.of(Addresses.SCALING_STATE, scaling, Addresses.REGISTRY_QUERY, registry,
          Addresses.LEDGER_QUERY, ledger);
      answers.forEach((address, answer) -> {
        if (answer.failed() && answer.cause() instanceof MessageException bad) {
          rejections.reject(address, "invalid", bad.getMessage());
        }
      });
      LiveInstances agents = registry.succeeded() ? registry.result() : new LiveInstances(List.of());
      JsonObject snapshot = snapshot(state, agents);
      latest = snapshot;
      vertx.eventBus().publish(Addresses.UI_SNAPSHOT, snapshot, LOCAL);
      JsonArray events = new JsonArray();
      instanceEvents(snapshot, events);
      backendEvents(events);
      failoverEvents(snapshot.getJsonObject("db"), events);
      if (ledger.succeeded() && ledger.result() != null) {
        ledgerEvents(ledger.result().entries(), events);
      }
      if (!events.isEmpty() && !first) {
        vertx.eventBus().publish(Addresses.UI_EVENTS, new JsonObject().put("at", clock.millis()).put("events", events),
            LOCAL);
      }
      first = false;
    });
  }

  private Future<JsonObject> query(String address, JsonObject body) {
    return vertx.eventBus().<JsonObject>request(address, body, QUERY).map(Message::body);
  }

  JsonObject snapshot(ScalingState state, LiveInstances agents) {
    long now = clock.millis();
    Map<String, AgentHeartbeat> heartbeats = new LinkedHashMap<>();
    agents.instances().forEach(e -> heartbeats.put(e.heartbeat().instanceId(), e.heartbeat()));
    lbs.values().removeIf(h -> now - h.receivedAt() > LB_STATUS_LEASE_MILLIS);
    Map<String, String> haproxyState = new HashMap<>();
    Map<String, Long> sessions = new HashMap<>();
    JsonArray lbList = new JsonArray();
    for (Heard heard : lbs.values()) {
      JsonArray servers = new JsonArray();
      for (LbStatus.Server server : heard.status().servers()) {
        servers.add(new JsonArray().add(server.name()).add(server.state()).add(server.check()).add(server.sessions())
            .add(server.total()).add(server.weight()));
        haproxyState.merge(server.name(), server.state(), (a, b) -> a.equals("UP") ? a : b);
        sessions.merge(server.name(), server.sessions(), Long::sum);
      }
      lbList.add(new JsonObject().put("instanceId", heard.status().instanceId()).put("serves", heard.status().serves())
          .put("ageMs", now - heard.receivedAt()).put("servers", servers).put("failOpen", heard.status().failOpen())
          .put("note", heard.status().note())
          .put("db", heard.status().db() == null ? null : heard.status().db().toJson()));
    }
    JsonArray groups = new JsonArray();
    JsonArray rows = new JsonArray();
    Set<String> listed = new HashSet<>();
    if (state != null) {
      for (ScalingState.GroupState group : state.groups()) {
        groups.add(new JsonObject().put("name", group.name()).put("min", group.min()).put("max", group.max())
            .put("size", group.size()).put("launchesInFlight", group.launchesInFlight())
            .put("calmLeftMs", group.calmLeftMs()).put("votes", group.votes().toJson()).put("paused", group.paused()));
        for (ScalingState.Member member : group.members()) {
          String id = member.instanceId();
          AgentHeartbeat heartbeat = heartbeats.get(id);
          listed.add(id);
          rows.add(row(id, group.name(), heartbeat, member.state(),
              heartbeat != null ? heartbeat.address() : member.privateIp(), member.load(), member.vote(),
              member.warm(), now - member.launchTime(), haproxyState, sessions)
              .add(group.protectedInstances().contains(id) || member.protectedFromScaleIn())
              .add(member.health()).add(member.drained()));
        }
      }
    }
    heartbeats.forEach((id, heartbeat) -> {
      if (!listed.contains(id)) {
        rows.add(row(id, heartbeat.group(), heartbeat, "running", heartbeat.address(), null, null, false,
            now - heartbeat.startedAt(), haproxyState, sessions).add(false)
            .add(heartbeat.appReady() || heartbeat.appPort() == 0 ? "ok"
                : "its app " + (heartbeat.appProblem().isEmpty() ? "fails its health check" : heartbeat.appProblem()))
            .add(false));
      }
    });
    JsonObject snapshot = new JsonObject().put("at", now)
        .put("instances", new JsonObject().put("columns", new JsonArray(COLUMNS)).put("rows", rows))
        .put("groups", groups).put("lbs", lbList).put("db", db.get());
    if (state != null) {
      snapshot.put("coordinator", state.coordinator()).put("leadership", state.leadership().toJson());
    }
    return snapshot;
  }

  private static JsonArray row(String id, String group, AgentHeartbeat heartbeat, String state, String address,
                               Object load, String vote, boolean warm, long uptime, Map<String, String> haproxy,
                               Map<String, Long> sessions) {
    return new JsonArray().add(id).add(group)
        .add(heartbeat == null ? new JsonArray() : heartbeat.toJson().getJsonArray("roles")).add(address).add(state)
        .add(load).add(vote).add(warm).add(haproxy.get(id)).add(sessions.get(id)).add(uptime)
        .add(heartbeat != null && heartbeat.leaving());
  }

  private void instanceEvents(JsonObject snapshot, JsonArray events) {
    Set<String> now = new HashSet<>();
    Map<String, String> groupOf = new HashMap<>();
    snapshot.getJsonObject("instances").getJsonArray("rows").forEach(r -> {
      JsonArray row = (JsonArray) r;
      now.add(row.getString(0));
      groupOf.put(row.getString(0), row.getString(1));
    });
    for (String id : now) {
      if (!instancesSeen.contains(id)) {
        events.add(new JsonObject().put("kind", "joined").put("instanceId", id).put("group", groupOf.get(id))
            .put("text", id + " appeared in group " + groupOf.get(id)));
      }
    }
    for (String id : instancesSeen) {
      if (!now.contains(id)) {
        events.add(new JsonObject().put("kind", "left").put("instanceId", id).put("text", id + " is gone"));
      }
    }
    instancesSeen = now;
  }

  /**
   * The DB pair's failover steps and refusals as events: each step of the journal once (on a coordinator that just
   * started, only those written after its first snapshot), each new refusal once, with the fence they were taken in.
   */
  private void failoverEvents(JsonObject db, JsonArray events) {
    JsonObject pair = db == null ? null : db.getJsonObject("pair");
    JsonObject failover = pair == null || pair.getJsonObject("topology") == null ? null
        : pair.getJsonObject("topology").getJsonObject("failover");
    if (failover != null) {
      String id = failover.getString("id");
      JsonArray steps = failover.getJsonArray("steps", new JsonArray());
      int from = id.equals(failoverSeen) ? failoverStepsSeen : first ? steps.size() : 0;
      for (int i = from; i < steps.size(); i++) {
        JsonObject step = steps.getJsonObject(i);
        events.add(new JsonObject().put("kind", "failover").put("at", step.getLong("at"))
            .put("text", "DB failover " + id + " (fence " + step.getLong("fence") + "): " + step.getString("name")
                + ": " + step.getString("text")));
      }
      failoverSeen = id;
      failoverStepsSeen = steps.size();
    }
    JsonObject health = pair == null ? null : pair.getJsonObject("masterHealth");
    String refusal = health == null ? null : health.getString("refusal");
    if (refusal != null && !refusal.equals(refusalSeen) && !first) {
      events.add(new JsonObject().put("kind", "failover-refused").put("text", "DB master " + health.getString(
          "instanceId") + " is dead, no failover (fence " + pair.getJsonObject("topology").getLong("fence") + "): "
          + refusal));
    }
    refusalSeen = refusal;
  }

  private void backendEvents(JsonArray events) {
    Map<String, Set<String>> now = new HashMap<>();
    for (Heard heard : lbs.values()) {
      Set<String> servers = new HashSet<>();
      heard.status().servers().stream().filter(s -> !s.state().equals("MAINT")).forEach(s -> servers.add(s.name()));
      now.put(heard.status().instanceId(), servers);
      Set<String> before = backendsSeen.getOrDefault(heard.status().instanceId(), Set.of());
      for (String server : servers) {
        if (!before.contains(server)) {
          events.add(new JsonObject().put("kind", "registered").put("instanceId", server)
              .put("text", server + " registered with LB " + heard.status().instanceId()));
        }
      }
      for (String server : before) {
        if (!servers.contains(server)) {
          events.add(new JsonObject().put("kind", "deregistered").put("instanceId", server)
              .put("text", server + " left LB " + heard.status().instanceId()));
        }
      }
    }
    backendsSeen = now;
    Set<String> open = new HashSet<>();
    for (Heard heard : lbs.values()) {
      String lb = heard.status().instanceId();
      if (heard.status().failOpen()) {
        open.add(lb);
        if (!failingOpen.contains(lb)) {
          events.add(new JsonObject().put("kind", "fail-open").put("instanceId", lb)
              .put("text", "LB " + lb + " fails open: " + heard.status().note()));
        }
      } else if (failingOpen.contains(lb)) {
        events.add(new JsonObject().put("kind", "fail-open-over").put("instanceId", lb)
            .put("text", "LB " + lb + " routes by its health checks again"));
      }
    }
    failingOpen = open;
  }

  private void ledgerEvents(List<LedgerEntry> entries, JsonArray events) {
    for (int i = entries.size() - 1; i >= 0; i--) {
      LedgerEntry entry = entries.get(i);
      LedgerEntry.Action action = entry.action();
      String key = entry.id() + "/" + (action == null ? "hold" : action.status().name());
      if (ledgerSeen.add(key)) {
        Decision decision = entry.decision();
        String outcome = decision.outcome().name().toLowerCase(Locale.ROOT);
        events.add(new JsonObject().put("kind", action == null ? "hold" : action.kind())
            .put("entry", entry.id()).put("group", decision.group())
            .put("outcome", outcome).put("at", entry.lastAt())
            .put("text", outcome + " (" + decision.rule().name().toLowerCase(Locale.ROOT).replace('_', '-') + "): "
                + decision.reason()
                + (action == null ? "" : " [" + action.kind() + " " + action.status().name().toLowerCase(Locale.ROOT)
                + " " + new JsonArray(action.instances()).encode() + "]")));
      }
    }
    while (ledgerSeen.size() > 500) {
      ledgerSeen.remove(ledgerSeen.iterator().next());
    }
  }
}
