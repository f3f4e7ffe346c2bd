package io.fleetvote.coordinator;

import io.fleetvote.common.cluster.ClusterOptions;
import io.fleetvote.common.net.FreePorts;
import io.fleetvote.sandbox.ImageCatalog;
import io.fleetvote.testkit.Await;
import io.fleetvote.testkit.Ec2Clients;
import io.fleetvote.testkit.SandboxProcess;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Instance;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A coordinator in the test JVM and instances of the real app image in a real sandbox: the agents read their
 * identity from instance metadata, join the coordinator's cluster, and show up in its registry until they die.
 */
class RegistryIT {

  private static final String APP = ImageCatalog.imageId("fleetvote-app");
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2)).build();

  @TempDir
  static Path stateDir;
  static SandboxProcess sandbox;
  static Ec2Client ec2;
  static Coordinator coordinator;
  static String clusterName = "registry-it-" + UUID.randomUUID().toString().substring(0, 8);
  static int clusterPort = FreePorts.pick();

  @BeforeAll
  static void startSandboxAndCoordinator() throws Exception {
    sandbox = SandboxProcess.start(stateDir);
    ec2 = Ec2Clients.sync(sandbox.endpoint());
    ClusterOptions cluster = new ClusterOptions().setClusterName(clusterName).setPort(clusterPort)
        .setPortAutoIncrement(false).setMembers(List.of("127.0.0.1:" + clusterPort));
    coordinator = Coordinator.start(new CoordinatorOptions().setDeployment("it").setHttpPort(0).setCluster(cluster))
        .await(60, TimeUnit.SECONDS);
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
            .put("clusterName", clusterName)
            .put("members", List.of("127.0.0.1:" + clusterPort))
            .put("portAutoIncrement", false))).encode();
    List<String> ids = ec2.runInstances(b -> b.imageId(APP).minCount(2).maxCount(2)
            .userData(Base64.getEncoder().encodeToString(userData.getBytes(StandardCharsets.UTF_8))))
        .instances().stream().map(Instance::instanceId).toList();

    List<JsonObject> listed = Await.until("both agents in the registry", Duration.ofSeconds(60),
        RegistryIT::listed, entries -> ids(entries).equals(Set.copyOf(ids)));
    assertThat(listed).allSatisfy(entry -> {
      assertThat(entry.getString("group")).isEqualTo("web");
      assertThat(entry.getString("deployment")).isEqualTo("it");
      assertThat(entry.getJsonArray("roles")).containsExactly("app");
    });

    String gone = ids.get(0);
    String stays = ids.get(1);
    ec2.terminateInstances(b -> b.instanceIds(gone));
    Await.until(gone + " to expire from the registry", Duration.ofSeconds(30),
        RegistryIT::listed, entries -> ids(entries).equals(Set.of(stays)));
  }

  private static List<JsonObject> listed() {
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + coordinator.httpPort()
        + "/api/instances")).timeout(Duration.ofSeconds(5)).build();
    try {
      HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
      return new JsonObject(response.body()).getJsonArray("instances").stream().map(JsonObject.class::cast).toList();
    } catch (IOException e) {
      throw new AssertionError("GET /api/instances failed: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  private static Set<String> ids(List<JsonObject> entries) {
    return entries.stream().map(entry -> entry.getString("instanceId")).collect(Collectors.toSet());
  }
}
