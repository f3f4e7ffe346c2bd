package io.fleetvote.common.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.core.HazelcastInstance;
import io.fleetvote.common.tls.ClusterKey;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.internal.VertxInternal;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/**
 * Builds the clustered Vert.x every agent and coordinator runs on: Hazelcast joined by TCP-IP members or by
 * AWS tag discovery, bound to one interface, multicast and phone-home off, failure detection and partition
 * merge tuned to seconds; the event bus on the same address.
 */
public final class ClusterBootstrap {

  private static final Logger LOG = LoggerFactory.getLogger(ClusterBootstrap.class);

  /** Hazelcast's output threads (its default: 3); see {@link #hazelcastConfig}. */
  static final int IO_OUTPUT_THREADS = 8;

  private ClusterBootstrap() {
  }

  /** The Hazelcast configuration for these options, starting from vertx-hazelcast's own (its internal maps). */
  public static Config hazelcastConfig(ClusterOptions options) {
    options.validate();
    Config config = ConfigUtil.loadConfig();
    config.setClusterName(options.getClusterName());
    config.setProperty("hazelcast.phone.home.enabled", "false");
    config.setProperty("hazelcast.logging.type", "slf4j");
    config.setProperty("hazelcast.socket.bind.any", "false");
    config.setProperty("hazelcast.wait.seconds.before.join", "0");
    config.setProperty("hazelcast.heartbeat.interval.seconds", Integer.toString(options.getHeartbeatIntervalSeconds()));
    config.setProperty("hazelcast.max.no.heartbeat.seconds", Integer.toString(options.getMaxNoHeartbeatSeconds()));
    config.setProperty("hazelcast.merge.first.run.delay.seconds", Integer.toString(options.getMergeDelaySeconds()));
    config.setProperty("hazelcast.merge.next.run.delay.seconds", Integer.toString(options.getMergeDelaySeconds()));
    config.setProperty("hazelcast.shutdownhook.enabled", "false");
    // A member that froze with its sockets open (SIGSTOP, a stuck JVM) accepts a reconnection it never answers, and
    // Hazelcast 5.3's output thread that owns such a half-open connection spins on it (a core) and serves none of its
    // other connections until the member thaws. More output threads, each connection staying on its own, make it
    // unlikely that the survivors' connections to each other share that thread (./fleetvote bench cluster-freeze).
    config.setProperty("hazelcast.io.output.thread.count", Integer.toString(IO_OUTPUT_THREADS));
    config.setProperty("hazelcast.io.balancer.interval.seconds", "-1");

    NetworkConfig network = config.getNetworkConfig();
    network.setPort(options.getPort()).setPortAutoIncrement(options.isPortAutoIncrement());
    network.getInterfaces().setEnabled(true).clear().addInterface(options.getHost());
    JoinConfig join = network.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getKubernetesConfig().setEnabled(false);
    join.getGcpConfig().setEnabled(false);
    join.getAzureConfig().setEnabled(false);
    join.getEurekaConfig().setEnabled(false);
    if (options.isAwsDiscovery()) {
      join.getTcpIpConfig().setEnabled(false);
      join.getAwsConfig().setEnabled(true)
          .setProperty("tag-key", options.getAwsTagKey())
          .setProperty("tag-value", options.getAwsTagValue())
          .setProperty("hz-port", Integer.toString(options.getPort()));
      if (options.getAwsRegion() != null) {
        join.getAwsConfig().setProperty("region", options.getAwsRegion());
      }
    } else {
      join.getAwsConfig().setEnabled(false);
      join.getTcpIpConfig().setEnabled(true).setMembers(options.getMembers().isEmpty()
          ? List.of(options.getHost())
          : options.getMembers());
    }
    return config;
  }

  /** Starts a clustered Vert.x; the event bus binds to and advertises {@link ClusterOptions#getHost()}. */
  public static Future<Vertx> clustered(ClusterOptions options, VertxOptions vertxOptions) {
    return clustered(options, vertxOptions, config -> { });
  }

  /**
   * Starts a clustered Vert.x after {@code customizer} has added what this kind of member needs to the Hazelcast
   * configuration (member attributes, map and split-brain protection settings).
   */
  public static Future<Vertx> clustered(ClusterOptions options, VertxOptions vertxOptions, Consumer<Config> customizer) {
    Config config = hazelcastConfig(options);
    customizer.accept(config);
    VertxOptions copy = copyOf(vertxOptions);
    EventBusOptions eventBus = copy.getEventBusOptions();
    eventBus.setHost(options.getHost()).setPort(options.getEventBusPort()).setClusterPublicHost(options.getHost());
    if (options.getKeyStore() != null) {
      ClusterKey.secure(eventBus, Path.of(options.getKeyStore()));
    }
    LOG.info("joining cluster {} as {}:{} via {}{}", options.getClusterName(), options.getHost(), options.getPort(),
        options.isAwsDiscovery() ? "AWS tag " + options.getAwsTagKey() + "=" + options.getAwsTagValue()
            : "members " + config.getNetworkConfig().getJoin().getTcpIpConfig().getMembers(),
        options.getKeyStore() == null ? "" : "; event bus TLS with the cluster key " + options.getKeyStore());
    return builder(copy).withClusterManager(new HazelcastClusterManager(config)).buildClustered();
  }

  /** Starts a Vert.x that is not clustered (the sandbox, tools), with the same metrics setup. */
  public static Vertx standalone(VertxOptions vertxOptions) {
    return builder(copyOf(vertxOptions)).build();
  }

  /** The Hazelcast member under a clustered Vert.x. */
  public static HazelcastInstance hazelcast(Vertx vertx) {
    return ((HazelcastClusterManager) ((VertxInternal) vertx).clusterManager()).getHazelcastInstance();
  }

  /**
   * How many members the cluster of {@code vertx} has now (0 when it is not clustered). Vert.x 5 exposes the cluster
   * manager only through its internal API; the member list is a local read.
   */
  public static int memberCount(Vertx vertx) {
    return vertx.isClustered() ? ((VertxInternal) vertx).clusterManager().getNodes().size() : 0;
  }

  /** Turns on Micrometer with a Prometheus registry (scraped at {@code /metrics}) and JVM metrics. */
  public static VertxOptions withPrometheus(VertxOptions options) {
    return withPrometheus(options, true);
  }

  /**
   * Turns on Micrometer with a Prometheus registry (scraped at {@code /metrics}), with Micrometer's JVM metrics or
   * without them: they read the JVM's management beans, which load some 500 classes (JMX, the platform MBean
   * providers) that a process as small as the agent does without.
   */
  public static VertxOptions withPrometheus(VertxOptions options, boolean jvmMetrics) {
    return options.setMetricsOptions(new MicrometerMetricsOptions()
        .setEnabled(true)
        .setJvmMetricsEnabled(jvmMetrics)
        .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true)));
  }

  /** {@code new VertxOptions(other)} turns Micrometer's options into plain {@code MetricsOptions}, losing Prometheus. */
  private static VertxOptions copyOf(VertxOptions options) {
    VertxOptions copy = new VertxOptions(options);
    if (options.getMetricsOptions() instanceof MicrometerMetricsOptions metrics) {
      copy.setMetricsOptions(new MicrometerMetricsOptions(metrics));
    }
    return copy;
  }

  private static VertxBuilder builder(VertxOptions options) {
    VertxBuilder builder = Vertx.builder().with(options);
    if (options.getMetricsOptions() instanceof MicrometerMetricsOptions metrics && metrics.isEnabled()) {
      builder.withMetrics(new MicrometerMetricsFactory());
    }
    return builder;
  }
}
