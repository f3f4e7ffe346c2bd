package io.fleetvote.coordinator;

import io.fleetvote.common.cluster.ClusterOptions;
import io.fleetvote.sandbox.ImageCatalog;
import io.fleetvote.testkit.Await;
import io.fleetvote.testkit.CoordinatorClient;
import io.fleetvote.testkit.Ec2Clients;
import io.fleetvote.testkit.LocalCluster;
import io.fleetvote.testkit.SandboxProcess;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Instance;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A coordinator in the test JVM and instances of the real app image in a real sandbox: the agents read their
 * identity from instance metadata, join the coordinator's cluster, and show up in its registry until they die.
 */
class RegistryIT {

  private static final String APP = ImageCatalog.imageId("fleetvote-app");

  @TempDir
  static Path stateDir;
  static SandboxProcess sandbox;
  static Ec2Client ec2;
  static Coordinator coordinator;
  static CoordinatorClient api;
  static ClusterOptions cluster = LocalCluster.single("registry-it");

  @BeforeAll
  static void startSandboxAndCoordinator() throws Exception {
    sandbox = SandboxProcess.start(stateDir);
    ec2 = Ec2Clients.sync(sandbox.endpoint());
    coordinator = Coordinator.start(new CoordinatorOptions().setDeployment("it").setHttpPort(0).setCluster(cluster))
        .await(60, TimeUnit.SECONDS);
    api = new CoordinatorClient(coordinator.httpPort());
  }

  @AfterAll
  static void stopAll() throws Exception {
    try {
      if (sandbox != null) {
        sandbox.close();
      }
    } finally {
      try {
        if (ec2 != null) {
          ec2.close();
        }
      } finally {
        if (coordinator != null) {
          coordinator.close().await(30, TimeUnit.SECONDS);
        }
      }
    }
  }

  @Test
  void agentsOfLaunchedInstancesAreListedUntilTheirInstanceIsTerminated() {
    String userData = new JsonObject().put("fleetvote", new JsonObject()
        .put("deployment", "it")
        .put("group", "web")
        .put("gossipPeriodMs", 500)
        .put("cluster", new JsonObject()
            .put("clusterName", cluster.getClusterName())
            .put("members", cluster.getMembers())
            .put("portAutoIncrement", false))).encode();
    List<String> ids = ec2.runInstances(b -> b.imageId(APP).minCount(2).maxCount(2)
            .userData(Base64.getEncoder().encodeToString(userData.getBytes(StandardCharsets.UTF_8))))
        .instances().stream().map(Instance::instanceId).toList();

    List<JsonObject> listed = Await.until("both agents in the registry", Duration.ofSeconds(60),
        api::instances, entries -> ids(entries).equals(Set.copyOf(ids)));
    assertThat(listed).allSatisfy(entry -> {
      assertThat(entry.getString("group")).isEqualTo("web");
      assertThat(entry.getString("deployment")).isEqualTo("it");
      assertThat(entry.getJsonArray("roles")).containsExactly("app");
    });

    String gone = ids.get(0);
    String stays = ids.get(1);
    ec2.terminateInstances(b -> b.instanceIds(gone));
    Await.until(gone + " to expire from the registry", Duration.ofSeconds(30),
        api::instances, entries -> ids(entries).equals(Set.of(stays)));
  }

  private static Set<String> ids(List<JsonObject> entries) {
    return entries.stream().map(entry -> entry.getString("instanceId")).collect(Collectors.toSet());
  }
}
