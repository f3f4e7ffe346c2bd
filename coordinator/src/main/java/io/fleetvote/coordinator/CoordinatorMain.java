package io.fleetvote.coordinator;

import io.fleetvote.common.Ids;
import io.fleetvote.common.cli.CommandLine;
import io.fleetvote.common.cli.CommandLineException;
import io.fleetvote.common.cluster.ClusterOptions;
import io.fleetvote.common.msg.MessageException;
import io.fleetvote.coordinator.auth.UsersFile;
import io.fleetvote.coordinator.db.DbPairConfig;
import io.fleetvote.coordinator.scaling.GroupsFile;
import io.fleetvote.coordinator.scaling.ScalingOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Starts a coordinator: joins the cluster, deploys the live registry and the HTTP API, and logs where it listens.
 * A failed start is logged as one line and exits 1. A shutdown hook closes Vert.x, so Hazelcast leaves the
 * cluster cleanly instead of being timed out by its peers.
 */
public final class CoordinatorMain {

  private static final Logger LOG = LoggerFactory.getLogger(CoordinatorMain.class);
  private static final long SHUTDOWN_TIMEOUT_MS = 10_000;
  static final int DEFAULT_AGENT_PORT = 9443;

  static final CommandLine COMMAND_LINE = new CommandLine("coordinator",
      "Runs a Fleetvote coordinator: the live registry of the deployment's agents and the HTTP API.")
      .option("deployment", "NAME", "the deployment whose agents this coordinator serves",
          CoordinatorOptions.DEFAULT_DEPLOYMENT)
      .option("cluster-name", "NAME", "the cluster to join", ClusterOptions.DEFAULT_CLUSTER_NAME)
      .option("cluster-host", "IP", "the address Hazelcast and the event bus bind to and advertise",
          ClusterOptions.DEFAULT_HOST)
      .option("cluster-port", "N", "the Hazelcast member port", Integer.toString(ClusterOptions.DEFAULT_PORT))
      .option("event-bus-port", "N", "the clustered event bus's port (TLS); 0: any free one", "0")
      .option("members", "LIST", "comma-separated host[:port] of members to join; none: via --cluster-host", "none")
      .option("cluster-key", "FILE", "the key every coordinator of the deployment holds (./fleetvote cluster-key --file "
          + "FILE makes one): their event bus is TLS with client certificates; none: a lone coordinator makes its own "
          + "in --data-dir", "none")
      .option("http-host", "IP", "the address the HTTP API binds to", CoordinatorOptions.DEFAULT_HTTP_HOST)
      .option("http-port", "N", "the HTTP API's port (/health, /metrics, /api/...)",
          Integer.toString(CoordinatorOptions.DEFAULT_HTTP_PORT))
      .option("groups", "FILE", "the groups to scale (JSON); without it the coordinator keeps the registry only", "none")
      .option("users", "FILE", "who may use the API and the dashboard (JSON, see ./fleetvote hash-password)", "none")
      .flag("no-auth", "serve the API and the dashboard to anyone who reaches --http-host (a test, or a network "
          + "you trust): instead of --users")
      .option("coordinators", "N", "how many coordinators the deployment runs (a majority must see each other to act)",
          Integer.toString(CoordinatorOptions.DEFAULT_COORDINATORS))
      .option("data-dir", "DIR", "where this coordinator keeps its copy of the decision ledger",
          CoordinatorOptions.DEFAULT_DATA_DIR)
      .option("ec2-endpoint", "URL", "an EC2-compatible endpoint (the sandbox); none: AWS, with the SDK's credentials",
          "none")
      .option("region", "NAME", "the AWS region (default: the SDK's region chain; us-east-1 with --ec2-endpoint)",
          "default")
      .option("tick-ms", "N", "how often the leader tallies the votes", Long.toString(ScalingOptions.DEFAULT_TICK_MILLIS))
      .option("fleet-refresh-ms", "N", "how often the fleet is described through the EC2 API",
          Long.toString(ScalingOptions.DEFAULT_FLEET_REFRESH_MILLIS))
      .option("agent-port", "N", "agents connect here (TLS, attested by their identity documents); with --groups",
          Integer.toString(DEFAULT_AGENT_PORT))
      .option("agent-host", "IP", "the address the agent gateway binds to and names to agents", "--cluster-host")
      .option("identity-certificate", "FILE", "the cloud's certificate of its instance identity signatures (PEM: "
          + "AWS's of the region, or the sandbox's identity-certificate.pem); needed with --groups", "none")
      .option("account", "ID", "the AWS account agents' identity documents must name; none: any account whose "
          + "instances the deployment's DescribeInstances lists", "none");

  /** Which command-line option sets each {@link CoordinatorOptions} JSON field, to name it in errors. */
  private static final Map<String, String> OPTION_OF_FIELD = Map.ofEntries(
      Map.entry("deployment", "deployment"),
      Map.entry("cluster.clusterName", "cluster-name"),
      Map.entry("cluster.members", "members"),
      Map.entry("cluster.keyStore", "cluster-key"),
      Map.entry("coordinators", "coordinators"),
      Map.entry("dataDir", "data-dir"),
      Map.entry("scaling.fleet.endpoint", "ec2-endpoint"),
      Map.entry("scaling.fleet.region", "region"),
      Map.entry("gateway.accountId", "account"),
      Map.entry("gateway.identityCertificate", "identity-certificate"),
      Map.entry("gateway.region", "region"));

  private CoordinatorMain() {
  }

  public static void main(String[] args) {
    CoordinatorOptions options = COMMAND_LINE.parseOrExit(args, CoordinatorMain::options);
    Coordinator coordinator;
    try {
      coordinator = Coordinator.start(options).await();
    } catch (Exception e) {
      LOG.error("coordinator failed to start: {}", e.getMessage() == null ? e.toString() : e.getMessage());
      System.exit(1);
      return;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(coordinator), "fleetvote-coordinator-shutdown"));
    LOG.info("coordinator of deployment {} up: cluster {} at {}:{}, HTTP on http://{}:{}", options.getDeployment(),
        options.getCluster().getClusterName(), options.getCluster().getHost(), options.getCluster().getPort(),
        options.getHttpHost(), coordinator.httpPort());
  }

  static CoordinatorOptions options(CommandLine.Parsed parsed) {
    JsonArray members = new JsonArray();
    if (parsed.given("members")) {
      Arrays.stream(parsed.string("members").split(",")).map(String::trim).filter(m -> !m.isEmpty())
          .forEach(members::add);
    }
    JsonObject json = new JsonObject()
        .put("deployment", parsed.string("deployment"))
        .put("httpHost", ip(parsed, "http-host"))
        .put("httpPort", parsed.intValue("http-port", 0, 65535))
        .put("cluster", new JsonObject()
            .put("clusterName", parsed.string("cluster-name"))
            .put("host", ip(parsed, "cluster-host"))
            .put("port", parsed.intValue("cluster-port", 1, 65535))
            .put("eventBusPort", parsed.intValue("event-bus-port", 0, 65535))
            .put("members", members));
    if (parsed.given("cluster-key")) {
      json.getJsonObject("cluster").put("keyStore", parsed.string("cluster-key"));
    }
    if (parsed.given("users") == parsed.flag("no-auth")) {
      throw new CommandLineException(parsed.given("users") ? "give --users or --no-auth, not both"
          : "who may use the API? give --users FILE (see ./fleetvote hash-password), or --no-auth to open it to anyone");
    }
    if (parsed.given("users")) {
      UsersFile.read(Path.of(parsed.string("users")));
      json.put("usersFile", parsed.string("users"));
    }
    if (parsed.given("groups")) {
      JsonObject fleet = new JsonObject().put("deployment", parsed.string("deployment"));
      if (parsed.given("ec2-endpoint")) {
        fleet.put("endpoint", parsed.string("ec2-endpoint"));
      }
      if (parsed.given("region")) {
        fleet.put("region", parsed.string("region"));
      }
      JsonArray groups = new JsonArray();
      GroupsFile.read(Path.of(parsed.string("groups"))).forEach(g -> groups.add(g.toJson()));
      json.put("coordinators", parsed.intValue("coordinators", 1, 7)).put("dataDir", parsed.string("data-dir"));
      json.put("scaling", new JsonObject()
          .put("tickMillis", parsed.longValue("tick-ms", 50, 60_000))
          .put("fleetRefreshMillis", parsed.longValue("fleet-refresh-ms", 500, 3_600_000))
          .put("groups", groups)
          .put("db", GroupsFile.readDb(Path.of(parsed.string("groups"))).map(DbPairConfig::toJson).orElse(null))
          .put("fleet", fleet));
      json.put("gateway", gateway(parsed));
    } else {
      for (String option : List.of("coordinators", "data-dir", "ec2-endpoint", "region", "tick-ms", "fleet-refresh-ms",
          "agent-port", "agent-host", "identity-certificate", "account")) {
        if (parsed.given(option)) {
          throw new CommandLineException("option --" + option + " needs --groups (it configures the autoscaler)");
        }
      }
    }
    try {
      return new CoordinatorOptions(json);
    } catch (MessageException e) {
      String field = e.field().replaceAll("\\[\\d+]", "");
      throw new CommandLineException("option --" + OPTION_OF_FIELD.getOrDefault(field, field) + ": " + e.problem());
    }
  }

  private static JsonObject gateway(CommandLine.Parsed parsed) {
    if (!parsed.given("identity-certificate")) {
      throw new CommandLineException("option --groups needs --identity-certificate (how the agent gateway verifies "
          + "agents' identity documents: AWS's certificate of the region, or the sandbox's identity-certificate.pem)");
    }
    Path certificate = Path.of(parsed.string("identity-certificate"));
    String pem;
    try {
      pem = Files.readString(certificate);
    } catch (IOException e) {
      throw new CommandLineException("option --identity-certificate: cannot read " + certificate + ": " + e);
    }
    JsonObject gateway = new JsonObject()
        .put("host", parsed.given("agent-host") ? ip(parsed, "agent-host") : ip(parsed, "cluster-host"))
        .put("port", parsed.intValue("agent-port", 0, 65535)).put("identityCertificate", pem)
        .put("region", parsed.given("region") ? parsed.string("region") : "us-east-1");
    if (parsed.given("account")) {
      gateway.put("accountId", parsed.string("account"));
    }
    return gateway;
  }

  private static String ip(CommandLine.Parsed parsed, String option) {
    String value = parsed.string(option);
    if (!Ids.IPV4.matcher(value).matches()) {
      throw new CommandLineException("option --" + option + ": '" + value + "' is not an IPv4 address");
    }
    return value;
  }

  private static void stop(Coordinator coordinator) {
    LOG.info("coordinator shutting down");
    try {
      coordinator.close().await(SHUTDOWN_TIMEOUT_MS, TimeUnit.MILLISECONDS);
      LOG.info("coordinator stopped");
    } catch (Exception e) {
      LOG.warn("Vert.x did not close cleanly within {} ms: {}", SHUTDOWN_TIMEOUT_MS, e.toString());
    }
  }
}
