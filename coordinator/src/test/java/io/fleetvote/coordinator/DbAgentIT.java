package io.fleetvote.coordinator;

import io.fleetvote.common.net.FreePorts;
import io.fleetvote.sandbox.ImageCatalog;
import io.fleetvote.testkit.Await;
import io.fleetvote.testkit.CoordinatorClient;
import io.fleetvote.testkit.Ec2Clients;
import io.fleetvote.testkit.SandboxProcess;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.ec2.Ec2Client;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A db instance of the sandbox (image fleetvote-db, a real MariaDB 10.11 under its agent) reports to the coordinator
 * through the gateway: without its data volume, then, once a volume is attached at /dev/sdf, with MariaDB up,
 * read-only, with its own server_id and its datadir on the volume ({@code GET /api/db}).
 */
class DbAgentIT {

  private static final Duration UP = Duration.ofSeconds(120);

  @TempDir
  static Path dir;
  static SandboxProcess sandbox;
  static Coordinator coordinator;
  static CoordinatorClient api;
  static Ec2Client ec2;

  @BeforeAll
  static void start() {
    sandbox = SandboxProcess.start(dir.resolve("sandbox"));
    ec2 = Ec2Clients.sync(sandbox.endpoint());
    JsonObject group = new JsonObject().put("name", "db").put("imageId", ImageCatalog.imageId("fleetvote-db"))
        .put("min", 1).put("max", 1).put("calmTimeMs", 1000).put("bootTimeoutMs", 120_000)
        .put("agent", new JsonObject().put("roles", new JsonArray().add("db")).put("gossipPeriodMs", 500));
    CoordinatorOptions options = new CoordinatorOptions(new JsonObject()
        .put("deployment", "dbit")
        .put("httpPort", 0)
        .put("cluster", new JsonObject().put("clusterName", "db-it-" + System.nanoTime()).put("port", FreePorts.pick()))
        .put("dataDir", dir.resolve("coordinator").toString())
        .put("gateway", sandbox.agentGateway().put("port", FreePorts.pick()))
        .put("scaling", new JsonObject().put("tickMillis", 500).put("fleetRefreshMillis", 2000)
            .put("groups", new JsonArray().add(group))
            .put("fleet", new JsonObject().put("deployment", "dbit").put("endpoint", sandbox.endpoint().toString())
                .put("firstRetryDelayMillis", 200).put("maxRetryDelayMillis", 2000))));
    coordinator = Coordinator.start(options).await();
    api = new CoordinatorClient(coordinator.httpPort());
  }

  @AfterAll
  static void stop() {
    if (sandbox != null) {
      sandbox.admin().terminateAll();
    }
    if (coordinator != null) {
      coordinator.close().await();
    }
    if (ec2 != null) {
      ec2.close();
    }
    if (sandbox != null) {
      sandbox.close();
    }
  }

  @Test
  void aDbAgentReportsItsMariaDbWithoutAndThenWithItsVolume() throws Exception {
    JsonObject waiting = Await.until("the db instance's report without a volume", UP, api::db,
        reports -> reports.size() == 1).get(0);
    assertThat(waiting.getString("server")).isEqualTo("no_volume");
    assertThat(waiting.getString("problem")).contains("/dev/sdf");
    String instanceId = waiting.getString("instanceId");
    String zone = ec2.describeInstances(b -> b.instanceIds(instanceId)).reservations().get(0).instances().get(0)
        .placement().availabilityZone();

    String volumeId = ec2.createVolume(b -> b.availabilityZone(zone).size(10)).volumeId();
    Await.until("the volume available", UP, () -> ec2.describeVolumes(b -> b.volumeIds(volumeId)).volumes().get(0)
        .stateAsString().equals("available"));
    ec2.attachVolume(b -> b.volumeId(volumeId).instanceId(instanceId).device("/dev/sdf"));

    JsonObject up = Await.until("MariaDB up on the volume", UP, () -> api.db().get(0),
        report -> report.getString("server").equals("up"));
    assertThat(up.getBoolean("readOnly")).isTrue();
    assertThat(up.getLong("serverId")).isPositive();
    assertThat(up.getString("ioThread")).isEqualTo("none");
    Path instanceDir = Path.of(sandbox.admin().instance(instanceId).getString("dir"));
    assertThat(instanceDir.resolve("db/my.cnf")).content().contains("server_id=" + up.getLong("serverId"));
    Path volumeDir = dir.resolve("sandbox/volumes").resolve(volumeId);
    assertThat(volumeDir.resolve("mysql/mysql")).as("the datadir on the volume").isDirectory();
    assertThat(Files.exists(volumeDir.resolve("mysql/my.cnf"))).isFalse();
  }
}
