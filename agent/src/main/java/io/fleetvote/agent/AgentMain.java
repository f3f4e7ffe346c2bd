package io.fleetvote.agent;

import io.fleetvote.agent.AgentOptionSources.Source;
import io.fleetvote.common.cli.CommandLine;
import io.fleetvote.common.cli.CommandLineException;
import io.fleetvote.common.cluster.ClusterBootstrap;
import io.fleetvote.common.cluster.ClusterOptions;
import io.fleetvote.common.imds.InstanceIdentity;
import io.fleetvote.common.imds.InstanceMetadataClient;
import io.fleetvote.common.msg.MessageException;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Starts the agent of one instance.
 * <ol>
 *   <li>Reads the instance's identity (IMDSv2) with a short-lived Vert.x of its own: whether to cluster depends on
 *   what the metadata says, so the real Vert.x can only be built afterwards.</li>
 *   <li>Resolves {@link AgentOptions}; each field comes from the first of: the command line, the {@code --config}
 *   file, the user-data's {@code fleetvote} object, the tags {@code fleetvote:deployment}, {@code fleetvote:group}
 *   and {@code fleetvote:role}, the defaults (see {@link AgentOptionSources}).</li>
 *   <li>Builds a clustered Vert.x when the cluster options name members or AWS discovery, else a standalone one;
 *   Hazelcast, the event bus and the HTTP endpoint bind to the private IP from metadata, whatever
 *   {@code cluster.host} says. Deploys the HTTP endpoint and, when clustered, the heartbeat.</li>
 * </ol>
 * Any failure is logged as one line and exits 1. A shutdown hook closes Vert.x, so Hazelcast leaves the
 * cluster cleanly instead of being timed out by its peers.
 */
public final class AgentMain {

  private static final Logger LOG = LoggerFactory.getLogger(AgentMain.class);
  private static final long SHUTDOWN_TIMEOUT_MS = 10_000;

  static final CommandLine COMMAND_LINE = new CommandLine("agent",
      "Runs the Fleetvote agent of this instance. Options given here override the config file and the user-data.")
      .option("port", "N", "the agent's HTTP port (/health, /metrics)", Integer.toString(AgentOptions.DEFAULT_AGENT_PORT))
      .option("app-port", "N", "the port of this instance's web app, 0 for none",
          Integer.toString(AgentOptions.DEFAULT_APP_PORT))
      .option("cluster-port", "N", "the Hazelcast member port", Integer.toString(ClusterOptions.DEFAULT_PORT))
      .option("imds", "URL", "the instance-metadata endpoint", InstanceMetadataClient.defaultEndpoint().toString())
      .option("config", "FILE", "a JSON file shaped like the user-data: {\"fleetvote\": {...}}", "none");

  /** What the command line asks for: where metadata is, an optional config file, and the options it overrides. */
  record Invocation(URI imds, Optional<Path> configFile, JsonObject overrides) {

    static Invocation read(CommandLine.Parsed parsed) {
      URI imds = URI.create(parsed.string("imds"));
      if (!"http".equals(imds.getScheme()) || imds.getHost() == null) {
        throw new CommandLineException("option --imds: '" + imds + "' is not an http://host[:port] URL");
      }
      JsonObject overrides = new JsonObject();
      if (parsed.given("port")) {
        overrides.put("agentPort", parsed.intValue("port", 1, 65535));
      }
      if (parsed.given("app-port")) {
        overrides.put("appPort", parsed.intValue("app-port", 0, 65535));
      }
      if (parsed.given("cluster-port")) {
        overrides.put("cluster", new JsonObject().put("port", parsed.intValue("cluster-port", 1, 65535)));
      }
      Optional<Path> config = parsed.given("config") ? Optional.of(Path.of(parsed.string("config"))) : Optional.empty();
      return new Invocation(imds, config, overrides);
    }
  }

  private AgentMain() {
  }

  public static void main(String[] args) {
    Invocation invocation = COMMAND_LINE.parseOrExit(args, Invocation::read);
    try {
      start(invocation, Clock.systemUTC());
    } catch (Exception e) {
      LOG.error("agent failed to start: {}", describe(e));
      System.exit(1);
    }
  }

  /** Runs on the main thread, so it may wait on each step in turn. */
  private static void start(Invocation invocation, Clock clock) {
    long startedAt = clock.millis();
    InstanceIdentity identity = readIdentity(invocation.imds());
    String id = identity.instanceId();
    LOG.info("{}: identity read from {}: {} {} in {}, private IP {}", id, invocation.imds(), identity.instanceType(),
        identity.imageId(), identity.availabilityZone(), identity.privateIp());

    AgentOptions options = resolveOptions(invocation, identity);
    options.getCluster().setHost(identity.privateIp());
    LOG.info("{}: options {}", id, options.toJson().encode());

    VertxOptions vertxOptions = ClusterBootstrap.withPrometheus(new VertxOptions());
    Vertx vertx = options.isClustered()
        ? ClusterBootstrap.clustered(options.getCluster(), vertxOptions).await()
        : ClusterBootstrap.standalone(vertxOptions);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(vertx, id), "fleetvote-agent-shutdown"));

    vertx.deployVerticle(new AgentApiVerticle(identity, options)).await();
    if (vertx.isClustered()) {
      vertx.deployVerticle(new HeartbeatVerticle(identity, options, startedAt, clock)).await();
    }
    LOG.info("{}: agent up in {} ms, {} {} {} {}", id, clock.millis() - startedAt, options.getDeployment(),
        options.getGroup(), AgentOptions.roleNames(options.getRoles()).encode(),
        vertx.isClustered() ? "clustered" : "standalone (no cluster members or AWS discovery configured)");
  }

  private static InstanceIdentity readIdentity(URI endpoint) {
    Vertx probe = Vertx.vertx();
    try {
      return new InstanceMetadataClient(probe, endpoint).identity().await();
    } catch (Exception e) {
      throw new IllegalStateException("cannot read this instance's identity from " + endpoint + ": " + describe(e), e);
    } finally {
      probe.close().await();
    }
  }

  private static AgentOptions resolveOptions(Invocation invocation, InstanceIdentity identity) {
    List<Source> sources = new ArrayList<>();
    sources.add(AgentOptionSources.commandLine(invocation.overrides()));
    invocation.configFile().ifPresent(file -> sources.add(AgentOptionSources.configFile(file.toString(), read(file))));
    Optional<Source> userData = AgentOptionSources.userData(identity.userData());
    if (userData.isPresent()) {
      sources.add(userData.get());
    } else {
      LOG.info("{}: user-data ({} characters) has no JSON \"{}\" object, ignored", identity.instanceId(),
          identity.userData().length(), AgentOptionSources.ROOT);
    }
    sources.add(AgentOptionSources.tags(identity.tags()));
    return AgentOptionSources.resolve(sources);
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new MessageException("config file " + file, "cannot be read: " + e);
    }
  }

  private static String describe(Throwable e) {
    return e.getMessage() == null ? e.toString() : e.getMessage();
  }

  private static void stop(Vertx vertx, String id) {
    LOG.info("{}: shutting down", id);
    long began = System.nanoTime();
    try {
      vertx.close().await(SHUTDOWN_TIMEOUT_MS, TimeUnit.MILLISECONDS);
      LOG.info("{}: agent stopped in {} ms", id, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began));
    } catch (Exception e) {
      LOG.warn("{}: Vert.x did not close cleanly within {} ms: {}", id, SHUTDOWN_TIMEOUT_MS, e.toString());
    }
  }
}
