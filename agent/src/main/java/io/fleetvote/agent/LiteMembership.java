package io.fleetvote.agent;

import com.hazelcast.cluster.Cluster;
import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.config.Config;
import com.hazelcast.partition.NoDataMemberInClusterException;
import com.hazelcast.spi.properties.ClusterProperty;
import com.hazelcast.spi.properties.HazelcastProperty;
import io.fleetvote.common.cluster.ClusterBootstrap;
import io.fleetvote.common.cluster.ClusterOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * Keeps a clustered agent in its cluster as a Hazelcast lite member: it holds no cluster data, so it takes no
 * partitions when the fleet grows or shrinks and needs less memory. That has two consequences
 * ({@code reference/vertx-spike-2.md} section 4), both handled here without leaving the process:
 * <ul>
 *   <li>a lite member cannot start while no data member (a coordinator) is up: the clustered start is retried with
 *   a jittered exponential backoff ({@value #FIRST_RETRY_MS} ms doubling up to {@value #MAX_RETRY_MS} ms), one
 *   log line per attempt;</li>
 *   <li>when the last data member leaves, the lite member's event-bus registrations are gone for good, even after
 *   a data member joins again: a Hazelcast membership listener notices that no data member is left, and the agent
 *   closes that Vert.x and joins with a new one, on which its verticles are deployed again.</li>
 * </ul>
 * It also trims Hazelcast for an agent ({@link #trimForAgent}).
 * {@link #run()} holds the caller's thread (the agent's main thread) for the life of the agent.
 */
final class LiteMembership {

  private static final long FIRST_RETRY_MS = 1000;
  private static final long MAX_RETRY_MS = 15_000;

  private static final Logger LOG = LoggerFactory.getLogger(LiteMembership.class);
  private static final long CLOSE_TIMEOUT_MS = 10_000;
  private static final long SHUTDOWN_TIMEOUT_MS = 15_000;
  private static final String PARTITION_LOSS_LOGGER = "com.hazelcast.internal.partition.impl.MigrationManager";

  private final String instanceId;
  private final ClusterOptions cluster;
  private final VertxOptions vertxOptions;
  private final Function<Vertx, Future<?>> deployment;
  private final CompletableFuture<Void> stopping = new CompletableFuture<>();
  private final CompletableFuture<Void> stopped = new CompletableFuture<>();

  /**
   * @param cluster    how to join (as a lite member, whatever it says)
   * @param deployment deploys the agent's verticles on a newly joined Vert.x; its failure is fatal
   */
  LiteMembership(String instanceId, ClusterOptions cluster, VertxOptions vertxOptions,
                 Function<Vertx, Future<?>> deployment) {
    this.instanceId = instanceId;
    this.cluster = new ClusterOptions(cluster).setLiteMember(true);
    this.vertxOptions = vertxOptions;
    this.deployment = deployment;
  }

  /**
   * Joins, deploys, waits until no data member is left, closes, and joins again, until {@link #stop()}. Blocks;
   * throws when a deployment fails (a port taken), after closing that Vert.x.
   */
  void run() {
    quietPartitionLossWarnings();
    try {
      while (!stopping.isDone()) {
        Optional<Vertx> joined = join();
        if (joined.isEmpty()) {
          return;
        }
        Vertx vertx = joined.get();
        CompletableFuture<String> lost = watchDataMembers(vertx);
        try {
          deployment.apply(vertx).await();
        } catch (Exception e) {
          close(vertx);
          throw new IllegalStateException("cannot deploy the agent: " + describe(e), e);
        }
        CompletableFuture.anyOf(lost, stopping).join();
        if (!stopping.isDone()) {
          LOG.warn("{}: {}, and this lite member's event-bus registrations with it: leaving the cluster to join "
              + "again", instanceId, lost.join());
        }
        close(vertx);
      }
    } finally {
      stopped.complete(null);
    }
  }

  /** For the shutdown hook: stops joining, closes the current Vert.x (Hazelcast leaves cleanly), waits for that. */
  void stop() {
    LOG.info("{}: shutting down", instanceId);
    long began = System.nanoTime();
    stopping.complete(null);
    try {
      stopped.get(SHUTDOWN_TIMEOUT_MS, TimeUnit.MILLISECONDS);
      LOG.info("{}: agent stopped in {} ms", instanceId, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began));
    } catch (TimeoutException | ExecutionException e) {
      LOG.warn("{}: the agent did not stop within {} ms", instanceId, SHUTDOWN_TIMEOUT_MS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The delay before join attempt {@code attempt + 1}: doubling from the first, capped, jittered by up to half. */
  static long retryDelay(int attempt) {
    long ceiling = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS << Math.min(attempt - 1, 20));
    return ceiling / 2 + ThreadLocalRandom.current().nextLong(ceiling / 2 + 1);
  }

  /** Joins the cluster, trying until it works; empty when {@link #stop()} came first. */
  private Optional<Vertx> join() {
    for (int attempt = 1; ; attempt++) {
      long began = System.nanoTime();
      try {
        Vertx vertx = ClusterBootstrap.clustered(cluster, vertxOptions, LiteMembership::trimForAgent).await();
        if (stopping.isDone()) {
          close(vertx);
          return Optional.empty();
        }
        LOG.info("{}: joined cluster {} as a lite member (attempt {}, {} ms)", instanceId, cluster.getClusterName(),
            attempt, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began));
        return Optional.of(vertx);
      } catch (Exception e) {
        long delay = retryDelay(attempt);
        LOG.warn("{}: cannot join cluster {} (attempt {}, {} ms): {}; next attempt in {} ms", instanceId,
            cluster.getClusterName(), attempt, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began), describe(e),
            delay);
        if (stopsWithin(delay)) {
          return Optional.empty();
        }
      }
    }
  }

  /**
   * A lite member talking to a few coordinators needs one thread per Hazelcast pool, not Hazelcast's defaults sized
   * for a data member on this many cores, and neither Hazelcast's metrics (the agent's own are on {@code /metrics})
   * nor its health monitor: less memory and CPU on every instance ({@code bench/agent-footprint}).
   */
  static void trimForAgent(Config config) {
    config.getMetricsConfig().setEnabled(false);
    for (HazelcastProperty pool : List.of(ClusterProperty.IO_THREAD_COUNT, ClusterProperty.EVENT_THREAD_COUNT,
        ClusterProperty.PARTITION_OPERATION_THREAD_COUNT, ClusterProperty.GENERIC_OPERATION_THREAD_COUNT,
        ClusterProperty.RESPONSE_THREAD_COUNT)) {
      config.setProperty(pool.getName(), "1");
    }
    config.setProperty(ClusterProperty.HEALTH_MONITORING_LEVEL.getName(), "OFF");
  }

  /**
   * When the last data member leaves, Hazelcast warns that each of its 271 partitions "is completely lost". A lite
   * member holds none of them, so in an agent's log that is 271 lines of noise per coordinator outage; on a
   * coordinator the same warning is news, so only lite members quiet it.
   */
  private static void quietPartitionLossWarnings() {
    if (LoggerFactory.getLogger(PARTITION_LOSS_LOGGER) instanceof ch.qos.logback.classic.Logger logger) {
      logger.setLevel(ch.qos.logback.classic.Level.ERROR);
    }
  }

  /** Completes with what happened once no data member is left in the cluster of {@code vertx}. */
  private static CompletableFuture<String> watchDataMembers(Vertx vertx) {
    Cluster members = ClusterBootstrap.hazelcast(vertx).getCluster();
    CompletableFuture<String> lost = new CompletableFuture<>();
    members.addMembershipListener(new MembershipListener() {
      @Override
      public void memberAdded(MembershipEvent event) {
        // a lite member needs no reaction to a new member: Vert.x registers with it
      }

      @Override
      public void memberRemoved(MembershipEvent event) {
        if (noDataMember(event.getMembers())) {
          lost.complete("the last data member, " + event.getMember().getAddress() + ", left the cluster");
        }
      }
    });
    if (noDataMember(members.getMembers())) {
      lost.complete("no data member is left in the cluster");
    }
    return lost;
  }

  private static boolean noDataMember(Collection<Member> members) {
    return members.stream().allMatch(Member::isLiteMember);
  }

  /** Closes {@code vertx}; if that hangs, terminates its Hazelcast member so the next one can bind the same port. */
  private void close(Vertx vertx) {
    try {
      vertx.close().await(CLOSE_TIMEOUT_MS, TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      LOG.warn("{}: Vert.x did not close within {} ms ({}): terminating its Hazelcast member", instanceId,
          CLOSE_TIMEOUT_MS, describe(e));
      ClusterBootstrap.hazelcast(vertx).getLifecycleService().terminate();
    }
  }

  /** True when {@link #stop()} is called within {@code millis}. */
  private boolean stopsWithin(long millis) {
    try {
      stopping.get(millis, TimeUnit.MILLISECONDS);
      return true;
    } catch (TimeoutException e) {
      return false;
    } catch (ExecutionException e) {
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return true;
    }
  }

  private static String describe(Throwable e) {
    if (e instanceof NoDataMemberInClusterException) {
      return "no data member (coordinator) is in the cluster";
    }
    return e.getMessage() == null ? e.toString() : e.getMessage();
  }
}
