package io.fleetvote.agent;

import io.fleetvote.agent.AgentOptionSources.Source;
import io.fleetvote.agent.db.DbOptions;
import io.fleetvote.agent.lb.LbOptions;
import io.fleetvote.common.cli.CommandLine;
import io.fleetvote.common.cli.CommandLineException;
import io.fleetvote.common.imds.InstanceIdentity;
import io.fleetvote.common.imds.InstanceMetadataClient;
import io.fleetvote.common.msg.MessageException;
import io.fleetvote.common.process.ProcessProbe;
import io.vertx.core.Vertx;
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

/**
 * Starts the agent of one instance.
 * <ol>
 *   <li>Makes the agent's one Vert.x and reads the instance's identity (IMDSv2) with it.</li>
 *   <li>Resolves {@link AgentOptions}; each field comes from the first of: the command line, the {@code --config}
 *   file, the user-data's {@code fleetvote} object, the tags {@code fleetvote:deployment}, {@code fleetvote:group}
 *   and {@code fleetvote:role}, the defaults (see {@link AgentOptionSources}). The HTTP endpoint binds to the
 *   private IP from metadata.</li>
 *   <li>Runs the {@link Agent}: one runtime per role, the HTTP endpoint, the heartbeat.</li>
 * </ol>
 * Any failure to start is logged as one line and exits 1; coordinators that are not there yet are not a failure.
 */
public final class AgentMain {

  private static final Logger LOG = LoggerFactory.getLogger(AgentMain.class);

  static final CommandLine COMMAND_LINE = new CommandLine("agent",
      "Runs the Fleetvote agent of this instance. Options given here override the config file and the user-data.")
      .option("port", "N", "the agent's HTTP port (/health, /metrics)", Integer.toString(AgentOptions.DEFAULT_AGENT_PORT))
      .option("app-port", "N", "the port of this instance's web app, 0 for none",
          Integer.toString(AgentOptions.DEFAULT_APP_PORT))
      .option("check-port", "N", "role app: answer HAProxy's agent-check (the instance's weight) on this port, 0 for none",
          "0")
      .option("imds", "URL", "the instance-metadata endpoint", InstanceMetadataClient.defaultEndpoint().toString())
      .option("sensor", "host|process|cgroup", "what an app agent's load is: the whole host, one process tree, or "
          + "the cgroup of one process in percent of its CPU quota", AgentOptions.DEFAULT_SENSOR.name()
          .toLowerCase(Locale.ROOT))
      .option("sensor-pid-file", "FILE", "with --sensor process or cgroup: the file whose first token is the pid to "
          + "measure", "none")
      .option("db-client-file", "FILE", "role app: where to keep the DB pair's application account and the LBs' DB "
          + "ports for the app (a properties file, mode 0600)", "none")
      .option("sensor-cores", "N", "with --sensor process (or cgroup, where the process has no quota): the cores "
          + "the process tree is entitled to", Double.toString(AgentOptions.DEFAULT_SENSOR_CORES))
      .option("lb-serves", "GROUP", "role lb: the group whose instances this LB's HAProxy balances", "none")
      .option("lb-frontend-port", "N", "role lb: the port of HAProxy's frontend",
          Integer.toString(LbOptions.DEFAULT_FRONTEND_PORT))
      .option("lb-db-write-port", "N", "role lb: the DB pair's write port (TCP to the master alone)", "none")
      .option("lb-db-read-port", "N", "role lb: the DB pair's read port (TCP to the replicas)", "none")
      .option("lb-haproxy-dir", "DIR", "role lb: run HAProxy here (config, admin socket, log)", "none")
      .option("lb-socket", "PATH", "role lb: the admin socket of a HAProxy that something else runs", "none")
      .option("db-port", "N", "role db: MariaDB's port", Integer.toString(DbOptions.DEFAULT_PORT))
      .option("db-dir", "DIR", "role db: the agent's own directory for MariaDB (my.cnf, socket, log; not the data)",
          "none")
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
      if (parsed.given("sensor")) {
        overrides.put("sensor", parsed.string("sensor"));
      }
      if (parsed.given("sensor-pid-file")) {
        overrides.put("sensorPidFile", parsed.string("sensor-pid-file"));
      }
      if (parsed.given("db-client-file")) {
        overrides.put("dbClientFile", parsed.string("db-client-file"));
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
      if (parsed.given("lb-db-write-port")) {
        lb.put("dbWritePort", parsed.intValue("lb-db-write-port", 1, 65535));
      }
      if (parsed.given("lb-db-read-port")) {
        lb.put("dbReadPort", parsed.intValue("lb-db-read-port", 1, 65535));
      }
      if (parsed.given("lb-socket")) {
        lb.put("socket", parsed.string("lb-socket"));
      }
      if (!lb.isEmpty()) {
        overrides.put("lb", lb);
      }
      JsonObject db = new JsonObject();
      if (parsed.given("db-port")) {
        db.put("port", parsed.intValue("db-port", 1, 65535));
      }
      if (parsed.given("db-dir")) {
        db.put("dir", parsed.string("db-dir"));
      }
      if (!db.isEmpty()) {
        overrides.put("db", db);
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
      LOG.error("agent failed to start: {}", Agent.describe(e));
      System.exit(1);
    }
  }

  /** Runs on the main thread; it returns once the agent is up (its threads keep it running). */
  private static void start(Invocation invocation, Clock clock) {
    // The process's start, not main's: "agent up N ms after its start" counts the JVM's own start too.
    long startedAt = ProcessProbe.startMillis(ProcessHandle.current()).orElse(clock.millis());
    Vertx vertx = Agent.vertx();
    InstanceIdentity identity = readIdentity(vertx, invocation.imds());
    String id = identity.instanceId();
    LOG.info("{}: identity read from {}: {} {} in {}, private IP {}", id, invocation.imds(), identity.instanceType(),
        identity.imageId(), identity.availabilityZone(), identity.privateIp());

    AgentOptions options = resolveOptions(invocation, identity);
    LOG.info("{}: options {}", id, options.toJson().encode());
    new Agent(identity, options, startedAt, clock).run(vertx);
  }

  private static InstanceIdentity readIdentity(Vertx vertx, URI endpoint) {
    try {
      return new InstanceMetadataClient(vertx, endpoint).identity().await();
    } catch (Exception e) {
      throw new IllegalStateException("cannot read this instance's identity from " + endpoint + ": "
          + Agent.describe(e), e);
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
}
