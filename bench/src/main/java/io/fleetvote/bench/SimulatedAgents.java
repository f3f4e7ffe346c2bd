package io.fleetvote.bench;

import io.fleetvote.agent.link.CoordinatorLink;
import io.fleetvote.agent.link.LinkOptions;
import io.fleetvote.common.imds.InstanceMetadataClient;
import io.fleetvote.common.msg.JsonFields;
import io.fleetvote.testkit.Await;
import io.fleetvote.testkit.SandboxAdmin;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Agents for instances that run none (the benchmarks' idle instances), speaking as the real agent does: each holds
 * the agent's own {@link CoordinatorLink} to the coordinators its instance's user-data names, attested by that
 * instance's sandbox-signed identity document, so what they publish passes the gateway's checks like a real agent's.
 */
final class SimulatedAgents implements AutoCloseable {

  private final Vertx vertx;
  private final Map<String, CoordinatorLink> links;
  private final List<InstanceMetadataClient> metadata;

  private SimulatedAgents(Vertx vertx, Map<String, CoordinatorLink> links, List<InstanceMetadataClient> metadata) {
    this.vertx = vertx;
    this.links = links;
    this.metadata = metadata;
  }

  /** One link per instance of {@code ids}; returns once a coordinator has taken every one. */
  static SimulatedAgents connect(SandboxAdmin admin, List<String> ids, Duration timeout) {
    Vertx vertx = Vertx.vertx();
    Map<String, CoordinatorLink> links = new LinkedHashMap<>();
    List<InstanceMetadataClient> metadata = new ArrayList<>();
    SimulatedAgents agents = new SimulatedAgents(vertx, links, metadata);
    try {
      NetClient client = null;
      for (String id : ids) {
        InstanceMetadataClient imds = new InstanceMetadataClient(vertx,
            URI.create(admin.instance(id).getString("metadataEndpoint")));
        metadata.add(imds);
        String userData = imds.identity().await().userData();
        LinkOptions options = LinkOptions.fromJson(JsonFields.object(JsonFields.object(userData, "user-data"),
            "fleetvote").getJsonObject("coordinators"));
        if (client == null) {
          // One TLS client for all: a fleet's agents share their coordinators' certificates.
          client = CoordinatorLink.client(vertx, options);
        }
        CoordinatorLink link = new CoordinatorLink(vertx, options, id, imds::signedIdentity,
            UUID.randomUUID().toString(), Clock.systemUTC(), client);
        links.put(id, link);
        link.start();
      }
      Await.until("a coordinator to take all " + ids.size() + " simulated agents", timeout,
          () -> links.values().stream().allMatch(l -> l.connected().isPresent()));
      return agents;
    } catch (RuntimeException e) {
      agents.close();
      throw e;
    }
  }

  Vertx vertx() {
    return vertx;
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
