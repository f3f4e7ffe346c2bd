package io.fleetvote.testkit;

import com.hazelcast.config.Config;
import io.fleetvote.common.cluster.ClusterBootstrap;
import io.fleetvote.common.cluster.ClusterOptions;
import io.fleetvote.common.net.FreePorts;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;

import java.util.List;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * Hazelcast clusters of a test's own on 127.0.0.1: a name no other test uses, members on free ports that list each
 * other (no port auto-increment, so a member is where the others look for it).
 */
public final class LocalCluster {

  private LocalCluster() {
  }

  /** A data member of a cluster of one, named {@code prefix-<uuid>}, on a free port. */
  public static ClusterOptions single(String prefix) {
    return members(name(prefix), List.of(FreePorts.pick())).get(0);
  }

  /** One data member per port of a cluster named {@code cluster}, each listing all of them. */
  public static List<ClusterOptions> members(String cluster, List<Integer> ports) {
    List<String> members = ports.stream().map(p -> "127.0.0.1:" + p).toList();
    return ports.stream().map(p -> new ClusterOptions().setClusterName(cluster).setPort(p)
        .setPortAutoIncrement(false).setMembers(members)).toList();
  }

  /** {@code prefix-<uuid>}: a cluster name no other test uses. */
  public static String name(String prefix) {
    return prefix + "-" + UUID.randomUUID();
  }

  /** A clustered Vert.x with these options, started and joined. */
  public static Vertx join(ClusterOptions options) {
    return join(options, config -> { });
  }

  /** The same after {@code configurer} has added to the Hazelcast configuration (a coordinator's quorum, say). */
  public static Vertx join(ClusterOptions options, Consumer<Config> configurer) {
    return ClusterBootstrap.clustered(options, new VertxOptions(), configurer).await();
  }
}
