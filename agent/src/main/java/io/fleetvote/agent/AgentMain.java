package io.fleetvote.agent;

import io.fleetvote.agent.AgentOptionSources.Source;
import io.fleetvote.agent.check.AgentCheckReply;
import io.fleetvote.agent.check.AgentCheckVerticle;
import io.fleetvote.agent.check.SmoothedLoad;
import io.fleetvote.agent.lb.LbOptions;
import io.fleetvote.agent.lb.LbRegistrar;
import io.fleetvote.agent.load.CgroupLoadSensor;
import io.fleetvote.agent.load.HostLoadSensor;
import io.fleetvote.agent.load.LoadSensor;
import io.fleetvote.agent.load.ProcessTreeLoadSensor;
import io.fleetvote.common.cli.CommandLine;
import io.fleetvote.common.cli.CommandLineException;
import io.fleetvote.common.cluster.ClusterBootstrap;
import io.fleetvote.common.cluster.ClusterOptions;
import io.fleetvote.common.imds.InstanceIdentity;
import io.fleetvote.common.imds.InstanceMetadataClient;
import io.fleetvote.common.msg.MessageException;
import io.fleetvote.common.msg.Role;
import io.vertx.core.Future;
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
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Starts the agent of one instance.
 * <ol>
 *   <li>Reads the instance's identity (IMDSv2) with a short-lived Vert.x of its own: whether to cluster depends on
 *   what the metadata says, so the real Vert.x can only be built afterwards.</li>
 *   <li>Resolves {@link AgentOptions}; each field comes from the first of: the command line, the {@code --config}
 *   file, the user-data's {@code fleetvote} object, the tags {@code fleetvote:deployment}, {@code fleetvote:group}
 *   and {@code fleetvote:role}, the defaults (see {@link AgentOptionSources}).</li>
 *   <li>Sets up the load sensor of an app agent ({@code sensor}: the host, the process tree of a pid file, or that
 *   process's cgroup against its CPU quota).</li>
 *   <li>When the cluster options name members or AWS discovery, joins the cluster as a Hazelcast lite member and
 *   stays in it ({@link LiteMembership}: retries while no coordinator is up, joins again with a new Vert.x when the
 *   last one left); else builds a standalone Vert.x. Hazelcast, the event bus and the HTTP endpoint bind to the
 *   private IP from metadata, whatever {@code cluster.host} says. Deploys the HTTP endpoint, the vote (role app)
 *   and, when clustered, the heartbeat.</li>
 * </ol>
 * Any failure to start is logged as one line and exits 1; a cluster that is not there yet is not a failure. A
 * shutdown hook closes Vert.x, so Hazelcast leaves the cluster cleanly instead of being timed out by its peers.
 */
public final class AgentMain {

  private static final Logger LOG = LoggerFactory.getLogger(AgentMain.class);
  private static final long SHUTDOWN_TIMEOUT_MS = 10_000;
  /** Beyond the drain timeout, for the HAProxy commands around the drain and the replies. */
  private static final long DRAIN_MARGIN_MS = 5_000;
  private static final int EVENT_LOOPS = 2;
  private static final int WORKERS = 2;
  /** How slowly the weight HAProxy gets follows the load: a few samples, so it settles rather than swings. */
  private static final long WEIGHT_TIME_CONSTANT_MS = 3000;

  static final CommandLine COMMAND_LINE = new CommandLine("agent",
      "Runs the Fleetvote agent of this instance. Options given here override the config file and the user-data.")
      .option("port", "N", "the agent's HTTP port (/health, /metrics)", Integer.toString(AgentOptions.DEFAULT_AGENT_PORT))
      .option("app-port", "N", "the port of this instance's web app, 0 for none",
          Integer.toString(AgentOptions.DEFAULT_APP_PORT))
      .option("check-port", "N", "role app: answer HAProxy's agent-check (the instance's weight) on this port, 0 for none",
          "0")
      .option("cluster-port", "N", "the Hazelcast member port", Integer.toString(ClusterOptions.DEFAULT_PORT))
      .option("imds", "URL", "the instance-metadata endpoint", InstanceMetadataClient.defaultEndpoint().toString())
      .option("sensor", "host|process|cgroup", "what an app agent's load is: the whole host, one process tree, or "
          + "the cgroup of one process in percent of its CPU quota", AgentOptions.DEFAULT_SENSOR.name()
          .toLowerCase(Locale.ROOT))
      .option("sensor-pid-file", "FILE", "with --sensor process or cgroup: the file whose first token is the pid to "
          + "measure", "none")
      .option("sensor-cores", "N", "with --sensor process (or cgroup, where the process has no quota): the cores "
          + "the process tree is entitled to", Double.toString(AgentOptions.DEFAULT_SENSOR_CORES))
      .option("lb-serves", "GROUP", "role lb: the group whose instances this LB's HAProxy balances", "none")
      .option("lb-frontend-port", "N", "role lb: the port of HAProxy's frontend",
          Integer.toString(LbOptions.DEFAULT_FRONTEND_PORT))
      .option("lb-haproxy-dir", "DIR", "role lb: run HAProxy here (config, admin socket, log)", "none")
      .option("lb-socket", "PATH", "role lb: the admin socket of a HAProxy that something else runs", "none")
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
      if (parsed.given("check-port")) {
        overrides.put("checkPort", parsed.intValue("check-port", 0, 65535));
      }
      if (parsed.given("cluster-port")) {
        overrides.put("cluster", new JsonObject().put("port", parsed.intValue("cluster-port", 1, 65535)));
      }
      if (parsed.given("sensor")) {
        overrides.put("sensor", parsed.string("sensor"));
      }
      if (parsed.given("sensor-pid-file")) {
        overrides.put("sensorPidFile", parsed.string("sensor-pid-file"));
      }
      if (parsed.given("sensor-cores")) {
        String cores = parsed.string("sensor-cores");
        try {
          overrides.put("sensorCores", Double.parseDouble(cores));
        } catch (NumberFormatException e) {
          throw new CommandLineException("option --sensor-cores: '" + cores + "' is not a number");
        }
      }
      JsonObject lb = new JsonObject();
      if (parsed.given("lb-serves")) {
        lb.put("serves", parsed.string("lb-serves"));
      }
      if (parsed.given("lb-frontend-port")) {
        lb.put("frontendPort", parsed.intValue("lb-frontend-port", 1, 65535));
      }
      if (parsed.given("lb-haproxy-dir")) {
        lb.put("haproxyDir", parsed.string("lb-haproxy-dir"));
      }
      if (parsed.given("lb-socket")) {
        lb.put("socket", parsed.string("lb-socket"));
      }
      if (!lb.isEmpty()) {
        overrides.put("lb", lb);
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

  /** Runs on the main thread, so it may wait on each step in turn; when clustered it returns only at shutdown. */
  private static void start(Invocation invocation, Clock clock) {
    long startedAt = clock.millis();
    InstanceIdentity identity = readIdentity(invocation.imds());
    String id = identity.instanceId();
    LOG.info("{}: identity read from {}: {} {} in {}, private IP {}", id, invocation.imds(), identity.instanceType(),
        identity.imageId(), identity.availabilityZone(), identity.privateIp());

    AgentOptions options = resolveOptions(invocation, identity);
    options.getCluster().setHost(identity.privateIp()).setLiteMember(true);
    LOG.info("{}: options {}", id, options.toJson().encode());
    Optional<LoadSensor> sensor = options.getRoles().contains(Role.APP)
        ? Optional.of(sensor(options, clock))
        : Optional.empty();
    InstanceState state = new InstanceState();
    Optional<LbRuntime> lb = options.getRoles().contains(Role.LB)
        ? Optional.of(LbRuntime.start(identity, options.getLb(), clock))
        : Optional.empty();
    Deployed deployed = new Deployed();
    lb.ifPresent(runtime -> runtime.onHaproxyStart(() -> {
      LbVerticle verticle = deployed.lb.get();
      if (verticle != null) {
        verticle.haproxyStarted();
      }
    }));
    Function<Vertx, Future<?>> deployment = vertx -> deploy(vertx, identity, options, sensor, startedAt, clock, state,
        lb.map(LbRuntime::registrar), deployed);

    // An agent serves a few requests a minute and samples once a second: Vert.x's defaults (2 event loops per core,
    // 20 workers) only cost memory on a big instance.
    VertxOptions vertxOptions = ClusterBootstrap.withPrometheus(new VertxOptions()
        .setEventLoopPoolSize(EVENT_LOOPS).setWorkerPoolSize(WORKERS));
    if (options.isClustered()) {
      LiteMembership membership = new LiteMembership(id, options.getCluster(), vertxOptions, deployment);
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        leaveLoadBalancers(id, deployed, options);
        membership.stop();
        lb.ifPresent(LbRuntime::stop);
      }, "fleetvote-agent-shutdown"));
      membership.run();
    } else {
      Vertx vertx = ClusterBootstrap.standalone(vertxOptions);
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        stop(vertx, id);
        lb.ifPresent(LbRuntime::stop);
      }, "fleetvote-agent-shutdown"));
      deployment.apply(vertx).await();
    }
  }

  /** The verticles of the current cluster membership that the shutdown hook and HAProxy's restarts need to reach. */
  private static final class Deployed {
    private final AtomicReference<RegistrationVerticle> registration = new AtomicReference<>();
    private final AtomicReference<LbVerticle> lb = new AtomicReference<>();
  }

  /** SIGTERM: take the instance out of every LB gracefully before the agent and then the app stop. */
  private static void leaveLoadBalancers(String id, Deployed deployed, AgentOptions options) {
    RegistrationVerticle registration = deployed.registration.get();
    if (registration == null) {
      return;
    }
    try {
      registration.leave(options.getDrainTimeoutMs())
          .await(options.getDrainTimeoutMs() + DRAIN_MARGIN_MS, TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      LOG.warn("{}: could not leave every LB before stopping: {}", id, describe(e));
    }
  }

  /**
   * Deploys the agent's verticles on {@code vertx}: the HTTP endpoint, the vote and the agent-check (role app) and,
   * when clustered, the registration, the LB and the heartbeat. A clustered agent does this again on each Vert.x it
   * joins with; the sensor outlives them.
   */
  private static Future<?> deploy(Vertx vertx, InstanceIdentity identity, AgentOptions options,
                                  Optional<LoadSensor> sensor, long startedAt, Clock clock, InstanceState state,
                                  Optional<LbRegistrar> registrar, Deployed current) {
    Optional<VoteVerticle> vote = sensor.map(s -> new VoteVerticle(identity, options, s, startedAt, clock));
    Future<?> deployed = vertx.deployVerticle(new AgentApiVerticle(identity, options,
        () -> vote.flatMap(VoteVerticle::latest), state, registrar));
    if (vote.isPresent()) {
      deployed = deployed.compose(api -> vertx.deployVerticle(vote.get()));
    }
    if (options.getRoles().contains(Role.APP) && options.getCheckPort() > 0) {
      SmoothedLoad load = new SmoothedLoad(WEIGHT_TIME_CONSTANT_MS);
      Supplier<String> reply = () -> AgentCheckReply.of(state.leaving(), state.app().refusing(), load.update(
          vote.flatMap(VoteVerticle::latest).filter(d -> !d.sample().isMissing()).map(d -> d.sample().cpuPercent())
              .orElse(Double.NaN), clock.millis()));
      deployed = deployed.compose(previous -> vertx.deployVerticle(new AgentCheckVerticle(identity.instanceId(),
          identity.privateIp(), options.getCheckPort(), reply, clock)));
    }
    if (vertx.isClustered()) {
      // Registration and LB first: the first heartbeat makes every LB announce itself at once, and the registration
      // verticle must be listening by then.
      if (options.getRoles().contains(Role.APP)) {
        RegistrationVerticle registration = new RegistrationVerticle(identity, options, state,
            options.getDrainTimeoutMs(), clock);
        deployed = deployed.compose(previous -> vertx.deployVerticle(registration))
            .onSuccess(x -> current.registration.set(registration));
      }
      if (registrar.isPresent()) {
        LbVerticle lb = new LbVerticle(identity, options, registrar.get(), clock);
        deployed = deployed.compose(previous -> vertx.deployVerticle(lb)).onSuccess(x -> current.lb.set(lb));
      }
      deployed = deployed.compose(previous -> vertx.deployVerticle(new HeartbeatVerticle(identity, options, startedAt,
          clock, state)));
    }
    return deployed.onSuccess(done -> LOG.info("{}: agent up {} ms after its start, {} {} {} {}", identity.instanceId(),
        clock.millis() - startedAt, options.getDeployment(), options.getGroup(),
        AgentOptions.roleNames(options.getRoles()).encode(),
        vertx.isClustered() ? "clustered" : "standalone (no cluster members or AWS discovery configured)"));
  }

  /** Sets up the configured sensor (OSHI reads {@code /proc} once), here on the main thread. */
  private static LoadSensor sensor(AgentOptions options, Clock clock) {
    return switch (options.getSensor()) {
      case HOST -> new HostLoadSensor(clock);
      case PROCESS -> processTree(options, clock);
      case CGROUP -> new CgroupLoadSensor(Path.of(options.getSensorPidFile()), processTree(options, clock), clock);
    };
  }

  private static ProcessTreeLoadSensor processTree(AgentOptions options, Clock clock) {
    return new ProcessTreeLoadSensor(Path.of(options.getSensorPidFile()), options.getSensorCores(), clock);
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
