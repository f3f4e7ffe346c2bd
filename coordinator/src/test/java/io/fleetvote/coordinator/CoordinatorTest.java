package io.fleetvote.coordinator;

import io.fleetvote.common.cluster.ClusterOptions;
import io.fleetvote.common.net.FreePorts;
import io.vertx.core.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class CoordinatorTest {

  @Test
  void aFailedDeploymentFailsTheStartAndLeavesTheCluster(@TempDir Path dir) throws Exception {
    int clusterPort = FreePorts.pick();
    ClusterOptions cluster = new ClusterOptions().setClusterName("coordinator-test-" + UUID.randomUUID())
        .setPort(clusterPort).setPortAutoIncrement(false).setMembers(List.of("127.0.0.1:" + clusterPort));
    // A plain socket stands for another process holding the HTTP port.
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      CoordinatorOptions options = new CoordinatorOptions().setHttpPort(taken.getLocalPort()).setCluster(cluster)
          .setDataDir(dir.toString());
      Throwable failure = Coordinator.start(options).transform(result -> Future.succeededFuture(result.cause()))
          .await(30, TimeUnit.SECONDS);
      assertThat(failure).hasMessage("HTTP API cannot listen on 127.0.0.1:" + taken.getLocalPort()
          + ": Address already in use");
    }
    try (ServerSocket hazelcastPortFreeAgain = new ServerSocket(clusterPort, 1, InetAddress.getLoopbackAddress())) {
      assertThat(hazelcastPortFreeAgain.isBound()).isTrue();
    }
  }
}
