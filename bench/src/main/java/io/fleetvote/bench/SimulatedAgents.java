package io.fleetvote.bench;

import io.fleetvote.agent.link.CoordinatorLink;
import io.fleetvote.agent.link.LinkOptions;
import io.fleetvote.common.Addresses;
import io.fleetvote.common.imds.InstanceIdentity;
import io.fleetvote.common.imds.InstanceMetadataClient;
import io.fleetvote.common.msg.AgentHeartbeat;
import io.fleetvote.common.msg.JsonFields;
import io.fleetvote.common.msg.Role;
import io.fleetvote.common.msg.Vote;
import io.fleetvote.common.msg.VoteKind;
import io.fleetvote.testkit.Await;
import io.fleetvote.testkit.SandboxAdmin;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * Agents for instances that run none (the benchmarks' idle instances), speaking as the real agent does: each holds
 * the agent's own {@link CoordinatorLink} to the coordinators its instance's user-data names, attested by that
 * instance's sandbox-signed identity document, so what they publish passes the gateway's checks like a real agent's.
 */
final class SimulatedAgents implements AutoCloseable {

  private final Vertx vertx;
  /** How many simulated agents start per second (an instance's agent starts as it boots). */
  static final int STARTS_PER_SECOND = 200;

  private final Map<String, CoordinatorLink> links;
  private final List<InstanceMetadataClient> metadata;

  private SimulatedAgents(Vertx vertx, Map<String, CoordinatorLink> links, List<InstanceMetadataClient> metadata) {
    this.vertx = vertx;
    this.links = links;
    this.metadata = metadata;
  }

  /**
   * One link per instance of {@code ids}, all to the coordinators the first instance's user-data names (the same for
   * every instance the coordinator launched); each link reads its own instance's signed identity when it connects,
   * and tries again with its backoff while a busy sandbox is slow to answer. Returns once a coordinator has taken
   * every one.
   */
  static SimulatedAgents connect(SandboxAdmin admin, List<String> ids, Duration timeout) {
    Vertx vertx = Vertx.vertx();
    Map<String, CoordinatorLink> links = new ConcurrentHashMap<>();
    List<InstanceMetadataClient> metadata = new CopyOnWriteArrayList<>();
    SimulatedAgents agents = new SimulatedAgents(vertx, links, metadata);
    try {
      Set<String> wanted = Set.copyOf(ids);
      // As on EC2, an agent starts on a running instance: thousands take the sandbox a while to start, and agents
      // asking a sandbox that is still booting thousands of instances timed it out until it ran out of descriptors.
      Map<String, URI> endpoints = Await.until("each of " + ids.size() + " instances running, with its metadata endpoint",
          timeout, Duration.ofMillis(500), () -> endpoints(admin, wanted), found -> found.size() == wanted.size());
      InstanceMetadataClient first = new InstanceMetadataClient(vertx, endpoints.get(ids.get(0)));
      metadata.add(first);
      LinkOptions options = LinkOptions.fromJson(JsonFields.object(JsonFields.object(JsonFields.object(
          userData(first, 20).await(), "user-data"), "fleetvote"), "coordinators"));
      // One TLS client for all (per set of coordinators' certificates): a fleet's agents share them.
      Map<String, NetClient> clients = new ConcurrentHashMap<>();
      Function<LinkOptions, NetClient> client = known -> clients.computeIfAbsent(known.certificates(),
          certificates -> CoordinatorLink.client(vertx, known));
      Deque<CoordinatorLink> unstarted = new ArrayDeque<>();
      for (String id : ids) {
        InstanceMetadataClient imds = new InstanceMetadataClient(vertx, endpoints.get(id));
        metadata.add(imds);
        CoordinatorLink link = new CoordinatorLink(vertx, options, id, imds::signedIdentity,
            UUID.randomUUID().toString(), Clock.systemUTC(), client);
        links.put(id, link);
        unstarted.add(link);
      }
      // Started as a fleet comes up, not all in the same instant: STARTS_PER_SECOND, spread over each second (5,000
      // at once had the sandbox's metadata endpoints and the coordinator time out, and every retry came back).
      long batch = Math.max(1, STARTS_PER_SECOND / 10);
      vertx.setPeriodic(1, 100, timer -> {
        for (int i = 0; i < batch && !unstarted.isEmpty(); i++) {
          unstarted.poll().start();
        }
        if (unstarted.isEmpty()) {
          vertx.cancelTimer(timer);
        }
      });
      Await.until("a coordinator to take all " + ids.size() + " simulated agents", timeout, Duration.ofMillis(500),
          () -> links.values().stream().filter(l -> l.connected().isPresent()).count(), n -> n == ids.size());
      return agents;
    } catch (Exception e) {
      agents.close();
      throw new IllegalStateException("cannot connect " + ids.size() + " simulated agents: " + e, e);
    }
  }

  /** The metadata endpoints of those of {@code wanted} that are running. */
  private static Map<String, URI> endpoints(SandboxAdmin admin, Set<String> wanted) {
    Map<String, URI> endpoints = new HashMap<>();
    admin.instances().stream().filter(i -> wanted.contains(i.getString("instanceId"))
            && "running".equals(i.getString("state")) && i.getString("metadataEndpoint") != null)
        .forEach(i -> endpoints.put(i.getString("instanceId"), URI.create(i.getString("metadataEndpoint"))));
    return endpoints;
  }

  /** The instance's user-data; its metadata endpoint may be slow to answer while a thousand instances start. */
  private static Future<String> userData(InstanceMetadataClient imds, int attempts) {
    return imds.identity().map(InstanceIdentity::userData)
        .recover(e -> attempts > 1 ? userData(imds, attempts - 1) : Future.failedFuture(e));
  }

  Vertx vertx() {
    return vertx;
  }

  /** The coordinator (its id) that holds each agent now; agents that have none are left out. */
  Map<String, String> coordinators() {
    Map<String, String> on = new HashMap<>();
    links.forEach((id, link) -> link.connected().ifPresent(coordinator -> on.put(id, coordinator)));
    return on;
  }

  /** The coordinators' gateways each agent knows of (where it would go next). */
  Map<String, List<String>> known() {
    Map<String, List<String>> known = new HashMap<>();
    links.forEach((id, link) -> known.put(id, link.coordinators()));
    return known;
  }

  /**
   * Every agent of {@code ids} sends a heartbeat and a vote once a second, spread over the second, as group
   * {@code group} of {@code deployment}; loads wander within the thresholds, so the group holds and the
   * coordinators' work is the votes, not launches. A vote's lease is the agent's ({@link Vote#leaseMillis}); an agent
   * whose link has no coordinator sends nothing, as the agent.
   */
  void speak(List<String> ids, String deployment, String group) {
    speak(Map.of(group, ids), deployment);
  }

  /** The same for the agents of several groups: {@code ids} by group. */
  void speak(Map<String, List<String>> ids, String deployment) {
    List<String> agents = new ArrayList<>();
    List<String> groups = new ArrayList<>();
    ids.forEach((group, members) -> members.forEach(id -> {
      agents.add(id);
      groups.add(group);
    }));
    long startedAt = System.currentTimeMillis() - 600_000;
    Random random = new Random(42);
    double[] loads = agents.stream().mapToDouble(id -> 30 + random.nextDouble() * 30).toArray();
    int slices = 20;
    for (int slice = 0; slice < slices; slice++) {
      int from = agents.size() * slice / slices;
      int to = agents.size() * (slice + 1) / slices;
      vertx.setPeriodic(1 + slice * 1000L / slices, 1000, t -> {
        long now = System.currentTimeMillis();
        for (int i = from; i < to; i++) {
          String id = agents.get(i);
          String group = groups.get(i);
          loads[i] = Math.max(0, Math.min(100, loads[i] + random.nextGaussian() * 3));
          publish(id, Addresses.AGENT_HEARTBEATS, new AgentHeartbeat(id, deployment, group, Set.of(Role.APP),
              "127.0.0.1", 8080, 9110, 0, startedAt, now, true, "", false).toJson());
          publish(id, Addresses.VOTES, new Vote(id, deployment, group, VoteKind.NONE, loads[i], true, false,
              startedAt, now, Vote.leaseMillis(1000, links.get(id).leaseMillis())).toJson());
        }
      });
    }
  }

  /** Publishes {@code body} on {@code address} through {@code instanceId}'s link. */
  void publish(String instanceId, String address, JsonObject body) {
    CoordinatorLink link = links.get(instanceId);
    if (link == null) {
      throw new IllegalArgumentException("no simulated agent for " + instanceId);
    }
    link.publish(address, body);
  }

  @Override
  public void close() {
    List<Future<Void>> closed = new ArrayList<>();
    links.values().forEach(l -> closed.add(l.close()));
    Future.join(closed).eventually(() -> {
      metadata.forEach(InstanceMetadataClient::close);
      return vertx.close();
    }).await();
  }
}
