package io.fleetvote.agent;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.fleetvote.common.cluster.ClusterBootstrap;
import io.fleetvote.common.cluster.ClusterOptions;
import io.fleetvote.common.net.FreePorts;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A real lite member and real data members in this JVM, on loopback. */
class LiteMembershipTest {

  private static final long TIMEOUT_SECONDS = 30;

  private final String clusterName = "lite-test-" + UUID.randomUUID();
  private final int dataPort = FreePorts.pick();
  private final BlockingQueue<String> logLines = new LinkedBlockingQueue<>();
  private final BlockingQueue<Vertx> deployedOn = new LinkedBlockingQueue<>();
  private final AppenderBase<ILoggingEvent> logCapture = new AppenderBase<>() {
    @Override
    protected void append(ILoggingEvent event) {
      logLines.add(event.getFormattedMessage());
    }
  };
  private LiteMembership membership;
  private Thread runner;
  private Vertx dataMember;

  @BeforeEach
  void captureTheLog() {
    logCapture.start();
    ((Logger) LoggerFactory.getLogger(LiteMembership.class)).addAppender(logCapture);
  }

  @AfterEach
  void stopEverything() throws Exception {
    try {
      if (membership != null) {
        membership.stop();
        runner.join(TimeUnit.SECONDS.toMillis(TIMEOUT_SECONDS));
      }
    } finally {
      ((Logger) LoggerFactory.getLogger(LiteMembership.class)).detachAppender(logCapture);
      if (dataMember != null) {
        dataMember.close().await(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void retriesWhileNoDataMemberIsUpAndJoinsAgainWhenTheLastOneLeaves() throws Exception {
    ClusterOptions agent = new ClusterOptions().setClusterName(clusterName).setPort(FreePorts.pick())
        .setPortAutoIncrement(false).setMembers(List.of("127.0.0.1:" + dataPort));
    membership = new LiteMembership("i-0123456789abcdef0", agent, new VertxOptions(), vertx -> {
      deployedOn.add(vertx);
      return Future.succeededFuture();
    });
    runner = new Thread(membership::run, "lite-membership-test");
    runner.start();

    assertThat(awaitLine("cannot join cluster")).contains("(attempt 1, ").contains("no data member (coordinator)")
        .contains("next attempt in");
    startDataMember();
    Vertx first = deployedOn.poll(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    assertThat(first).as("deployed once joined").isNotNull();
    assertThat(first.isClustered()).isTrue();
    assertThat(ClusterBootstrap.hazelcast(first).getCluster().getLocalMember().isLiteMember()).isTrue();

    dataMember.close().await(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    dataMember = null;
    assertThat(awaitLine("left the cluster")).contains("leaving the cluster to join again");
    startDataMember();
    Vertx second = deployedOn.poll(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    assertThat(second).as("deployed again on a new Vert.x").isNotNull().isNotSameAs(first);
    assertThat(runner.isAlive()).isTrue();
  }

  @Test
  void aDeploymentThatFailsEndsTheRunAfterLeavingTheCluster() throws Exception {
    startDataMember();
    ClusterOptions agent = new ClusterOptions().setClusterName(clusterName).setPort(FreePorts.pick())
        .setPortAutoIncrement(false).setMembers(List.of("127.0.0.1:" + dataPort));
    LiteMembership failing = new LiteMembership("i-0123456789abcdef0", agent, new VertxOptions(), vertx -> {
      deployedOn.add(vertx);
      return Future.failedFuture("Address already in use");
    });
    assertThatThrownBy(failing::run).isInstanceOf(IllegalStateException.class)
        .hasMessage("cannot deploy the agent: Address already in use");
    Vertx closed = deployedOn.poll();
    assertThat(closed).isNotNull();
    assertThat(ClusterBootstrap.hazelcast(closed).getLifecycleService().isRunning()).as("left the cluster").isFalse();
  }

  @Test
  void theRetryDelayDoublesFromOneSecondUpToFifteenWithJitter() {
    for (int i = 0; i < 100; i++) {
      assertThat(LiteMembership.retryDelay(1)).isBetween(500L, 1000L);
      assertThat(LiteMembership.retryDelay(3)).isBetween(2000L, 4000L);
      assertThat(LiteMembership.retryDelay(5)).isBetween(7500L, 15_000L);
      assertThat(LiteMembership.retryDelay(1000)).isBetween(7500L, 15_000L);
    }
  }

  private void startDataMember() throws Exception {
    dataMember = ClusterBootstrap.clustered(new ClusterOptions().setClusterName(clusterName).setPort(dataPort)
        .setPortAutoIncrement(false).setMembers(List.of("127.0.0.1:" + dataPort)), new VertxOptions())
        .await(TIMEOUT_SECONDS, TimeUnit.SECONDS);
  }

  /** The first log line of {@link LiteMembership} that contains {@code text}, waiting for it. */
  private String awaitLine(String text) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
    while (System.nanoTime() < deadline) {
      String line = logLines.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
      if (line != null && line.contains(text)) {
        return line;
      }
    }
    throw new AssertionError("no log line with '" + text + "' within " + TIMEOUT_SECONDS + " s");
  }
}
