package io.fleetvote.coordinator;

import io.fleetvote.common.Addresses;
import io.fleetvote.common.cluster.ClusterOptions;
import io.fleetvote.common.msg.Vote;
import io.fleetvote.common.msg.VoteKind;
import io.fleetvote.sandbox.ImageCatalog;
import io.fleetvote.testkit.Ec2Clients;
import io.fleetvote.testkit.Http;
import io.fleetvote.testkit.LocalCluster;
import io.fleetvote.testkit.SandboxProcess;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.ec2.Ec2Client;

import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An app instance's agent is a Hazelcast lite member, which loses its event-bus registrations for good when the
 * last data member leaves. With a real sandbox and the real app image: the agent votes to the only data member
 * (a minimal clustered Vert.x in the test JVM, listening on {@link Addresses#VOTES} as a coordinator does); that
 * member leaves and a new one starts on the same address; the same agent process joins again by itself and its
 * votes, which follow its demo app's measured CPU, arrive at the new member.
 */
class AgentRejoinIT {

  private static final String APP = ImageCatalog.imageId("fleetvote-app");
  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  @TempDir
  static Path stateDir;
  static SandboxProcess sandbox;

  /** The one data member's cluster: each data member of the test starts on its port. */
  private final ClusterOptions cluster = LocalCluster.single("rejoin-it");
  private Vertx dataMember;

  @BeforeAll
  static void startSandbox() {
    sandbox = SandboxProcess.start(stateDir);
  }

  @AfterAll
  static void stopSandbox() {
    if (sandbox != null) {
      sandbox.close();
    }
  }

  @AfterEach
  void stopDataMember() throws TimeoutException {
    if (dataMember != null) {
      dataMember.close().await(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void theAgentJoinsANewDataMemberByItselfAndItsVotesFollowItsAppsLoad() throws Exception {
    BlockingQueue<Vote> firstVotes = startDataMember();
    String id = launchApp();
    Vote idle = awaitVote(firstVotes, id, vote -> vote.vote() == VoteKind.SHRINK, "a shrink vote from the idle app");
    assertThat(idle.warm()).isTrue();
    assertThat(idle.leaseMillis()).isEqualTo(1500);
    long agentPid = agentPid(id);

    dataMember.close().await(30, TimeUnit.SECONDS);
    dataMember = null;
    BlockingQueue<Vote> votesAfter = startDataMember();
    Vote rejoined = awaitVote(votesAfter, id, vote -> true, "a vote after the data member was replaced");
    assertThat(rejoined.startedAt()).as("the same agent, not a restarted one").isEqualTo(idle.startedAt());
    assertThat(agentPid(id)).isEqualTo(agentPid);
    assertThat(ProcessHandle.of(agentPid).map(ProcessHandle::isAlive)).contains(true);
    assertThat(Files.readString(stateDir.resolve("instances").resolve(id).resolve("agent.log")))
        .contains("left the cluster, and this lite member's event-bus registrations with it");

    int appPort = sandbox.admin().port(id, "app");
    AtomicBoolean loading = new AtomicBoolean(true);
    ExecutorService load = Executors.newFixedThreadPool(2);
    try {
      for (int i = 0; i < 2; i++) {
        load.submit(() -> busy(appPort, loading));
      }
      Vote grow = awaitVote(votesAfter, id, vote -> vote.vote() == VoteKind.GROW, "a grow vote from the busy app");
      assertThat(grow.load()).isGreaterThan(50.0);
    } finally {
      loading.set(false);
      load.shutdown();
      assertThat(load.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
    }
  }

  /** A data member on the cluster's port (the member the agents' user-data names) that queues every vote. */
  private BlockingQueue<Vote> startDataMember() throws TimeoutException {
    dataMember = LocalCluster.join(cluster);
    BlockingQueue<Vote> votes = new LinkedBlockingQueue<>();
    dataMember.eventBus().consumer(Addresses.VOTES, message -> votes.add(Vote.fromJson(message.body())))
        .completion().await(30, TimeUnit.SECONDS);
    return votes;
  }

  /** One app instance that votes within seconds: no warm-up, 1 s windows, votes every 500 ms. */
  private String launchApp() {
    String userData = new JsonObject().put("fleetvote", new JsonObject()
        .put("deployment", "it")
        .put("group", "web")
        .put("gossipPeriodMs", 500)
        .put("sampleMs", 500)
        .put("warmupMs", 0)
        .put("growAbove", 50)
        .put("growAfterMs", 1000)
        .put("shrinkBelow", 30)
        .put("shrinkAfterMs", 1000)
        .put("cluster", new JsonObject()
            .put("clusterName", cluster.getClusterName())
            .put("members", new JsonArray(cluster.getMembers()))
            .put("portAutoIncrement", false))).encode();
    try (Ec2Client ec2 = Ec2Clients.sync(sandbox.endpoint())) {
      return ec2.runInstances(b -> b.imageId(APP).minCount(1).maxCount(1)
              .userData(Base64.getEncoder().encodeToString(userData.getBytes(StandardCharsets.UTF_8))))
          .instances().get(0).instanceId();
    }
  }

  private static Vote awaitVote(BlockingQueue<Vote> votes, String instanceId, Predicate<Vote> wanted, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    Vote last = null;
    while (System.nanoTime() < deadline) {
      Vote vote = votes.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
      if (vote != null && vote.instanceId().equals(instanceId)) {
        last = vote;
        if (wanted.test(vote)) {
          return vote;
        }
      }
    }
    throw new AssertionError("timed out after " + TIMEOUT + " waiting for " + what + " of " + instanceId
        + "; last vote: " + last);
  }

  private static long agentPid(String instanceId) {
    return sandbox.admin().instance(instanceId).getJsonArray("processes").stream()
        .map(JsonObject.class::cast)
        .filter(process -> process.getString("name").equals("agent"))
        .mapToLong(process -> process.getLong("pid"))
        .findFirst().orElseThrow();
  }

  /** Keeps asking the demo app for 100 ms of CPU per request until told to stop. */
  private static Void busy(int appPort, AtomicBoolean loading) throws InterruptedException {
    HttpRequest.Builder request = Http.request(Http.local(appPort, "/?work=100"));
    while (loading.get()) {
      // No answer: the app answers again on the next request; the test fails on its own timeout if it never does.
      Http.answer(request);
    }
    return null;
  }
}
