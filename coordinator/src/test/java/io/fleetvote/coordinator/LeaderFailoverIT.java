package io.fleetvote.coordinator;

import io.fleetvote.common.msg.LeadershipState;
import io.fleetvote.sandbox.ImageCatalog;
import io.fleetvote.testkit.Await;
import io.fleetvote.testkit.CoordinatorClient;
import io.fleetvote.testkit.Ec2Clients;
import io.fleetvote.testkit.SandboxAdmin;
import io.fleetvote.testkit.SandboxProcess;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.Instance;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Three coordinator processes. The leader orders a launch that EC2 refuses for lack of capacity, and dies (SIGKILL)
 * or freezes while it retries: a standby takes over within 10 s and finishes the very same order, so the launch
 * happens exactly once. A coordinator cut off from the others (a minority) never acts.
 */
class LeaderFailoverIT {

  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  @TempDir
  Path dir;
  SandboxProcess sandbox;
  SandboxAdmin admin;
  Ec2Client ec2;
  final List<CoordinatorProcess> coordinators = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    sandbox = SandboxProcess.start(dir.resolve("sandbox"), "--images",
        Path.of(getClass().getResource("/fleet-test-images.json").toURI()).toString());
    admin = sandbox.admin();
    ec2 = Ec2Clients.sync(sandbox.endpoint());
    admin.refuseCapacity(1_000_000);
    Path groups = dir.resolve("groups.json");
    Files.writeString(groups, new JsonObject().put("groups", new JsonArray().add(new JsonObject()
        .put("name", "batch").put("imageId", ImageCatalog.imageId("test-sleeper")).put("min", 2).put("max", 4)
        .put("calmTimeMs", 0))).encode());
    coordinators.addAll(CoordinatorProcess.startThree(dir, sandbox, groups, "it", 200, 1000));
  }

  @AfterEach
  void stop() {
    CoordinatorProcess.stopAll(coordinators, ec2, sandbox);
  }

  @Test
  void aStandbyTakesOverAKilledLeadersLaunchAndLaunchesExactlyOnce() {
    CoordinatorProcess leader = awaitRetryingLaunch();
    long epoch = leader.epoch();
    JsonObject ordered = launchEntry(leader).orElseThrow();

    long killed = System.nanoTime();
    leader.kill();
    admin.clearFaults();
    List<CoordinatorProcess> standbys = coordinators.stream().filter(c -> c != leader).toList();
    CoordinatorProcess successor = Await.until("a standby to take over", TIMEOUT,
        () -> standbys.stream().filter(CoordinatorProcess::leads).findFirst(), Optional::isPresent).orElseThrow();
    Duration takeover = Duration.ofNanos(System.nanoTime() - killed);
    System.out.printf("leader %s killed -> %s leading in epoch %d after %d ms%n", leader.name, successor.name,
        successor.epoch(), takeover.toMillis());
    assertThat(takeover).as("leader killed -> standby leading").isLessThanOrEqualTo(Duration.ofSeconds(10));
    assertThat(successor.epoch()).isGreaterThan(epoch);

    JsonObject done = Await.until("the order finished by the successor", TIMEOUT,
        () -> launchEntry(successor), e -> e.isPresent() && e.get().getJsonObject("action").getString("status")
            .equals("done")).orElseThrow();
    assertThat(done.getString("id")).isEqualTo(ordered.getString("id"));
    assertThat(done.getJsonObject("action").getString("clientToken"))
        .isEqualTo(ordered.getJsonObject("action").getString("clientToken"));
    assertThat(done.getJsonObject("action").getLong("finishedByEpoch")).isEqualTo(successor.epoch());
    assertExactlyOneLaunchOf(done);
  }

  @Test
  void aMinorityNeverActsAndTheMajorityFinishesTheLaunchOnceHealed() {
    CoordinatorProcess leader = awaitRetryingLaunch();
    JsonObject ordered = launchEntry(leader).orElseThrow();
    CoordinatorProcess other = coordinators.stream().filter(c -> c != leader).findFirst().orElseThrow();
    CoordinatorProcess lone = coordinators.stream().filter(c -> c != leader && c != other).findFirst().orElseThrow();

    leader.freeze();
    other.freeze();
    Await.until("the lone coordinator to see it has no quorum", TIMEOUT,
        () -> lone.api.ifAnswered(CoordinatorClient::leader).map(LeadershipState::quorum).orElse(true), quorum -> !quorum);
    admin.clearFaults();
    long runInstancesBefore = admin.calls("RunInstances");
    // The minority keeps deciding nothing for as long as a leader would need to act several times over.
    for (int i = 0; i < 10; i++) {
      assertThat(lone.leads()).isFalse();
      Await.until("a tick", Duration.ofSeconds(5), () -> lone.api.ifAnswered(CoordinatorClient::groups).isPresent());
    }
    assertThat(admin.calls("RunInstances")).as("RunInstances calls by the minority").isEqualTo(runInstancesBefore);
    assertThat(aliveInstances()).isEmpty();

    leader.thaw();
    other.thaw();
    JsonObject done = Await.until("the order finished once healed", TIMEOUT,
        () -> coordinators.stream().map(this::launchEntry).flatMap(Optional::stream)
            .filter(e -> e.getJsonObject("action").getString("status").equals("done")).findFirst(),
        Optional::isPresent).orElseThrow();
    assertThat(done.getString("id")).isEqualTo(ordered.getString("id"));
    assertExactlyOneLaunchOf(done);
  }

  /** Waits for a leader whose launch up to min is being retried (EC2 refuses it for capacity). */
  private CoordinatorProcess awaitRetryingLaunch() {
    CoordinatorProcess leader = Await.until("a leader", TIMEOUT,
        () -> coordinators.stream().filter(CoordinatorProcess::leads).findFirst(), Optional::isPresent).orElseThrow();
    Await.until("the launch up to min to be retried", TIMEOUT, () -> launchEntry(leader),
        e -> e.isPresent() && e.get().getJsonObject("action").getString("status").equals("retrying"));
    return leader;
  }

  private Optional<JsonObject> launchEntry(CoordinatorProcess coordinator) {
    return coordinator.api.ifAnswered(c -> c.decisions("batch", "grow", 100)).stream().flatMap(List::stream)
        .filter(e -> e.getJsonObject("action") != null).findFirst();
  }

  private void assertExactlyOneLaunchOf(JsonObject done) {
    List<Instance> alive = aliveInstances();
    assertThat(alive).hasSize(2);
    assertThat(alive).extracting(Instance::clientToken)
        .containsOnly(done.getJsonObject("action").getString("clientToken"));
    assertThat(alive).extracting(Instance::instanceId)
        .containsExactlyInAnyOrderElementsOf(done.getJsonObject("action").getJsonArray("instances").stream()
            .map(String.class::cast).toList());
  }

  private List<Instance> aliveInstances() {
    return ec2.describeInstances(b -> b.filters(Filter.builder().name("tag:fleetvote:group").values("batch").build(),
            Filter.builder().name("instance-state-name").values("pending", "running").build()))
        .reservations().stream().flatMap(r -> r.instances().stream()).toList();
  }
}
