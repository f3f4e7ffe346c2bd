package io.fleetvote.sandbox;

import io.fleetvote.testkit.Await;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.ec2.model.Ec2Exception;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.InstanceStateChange;
import software.amazon.awssdk.services.ec2.model.InstanceStateName;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * StopInstances and StartInstances through the real AWS SDK v2 and its waiters: a stop ends the instance's processes
 * (SIGTERM first, or SIGKILL at once with Force) and keeps the instance, its address and its ports; a start boots it
 * again as its launch did. What EC2 refuses, the sandbox refuses with EC2's code.
 */
class StopStartIT extends SandboxIT {

  /** Its process ignores SIGTERM for 300 s: only a forced stop ends it within a waiter's minute. */
  private static final String HOLDOUT = ImageCatalog.imageId("test-holdout");
  private static final String UNKNOWN = "i-0123456789abcdef0";

  /** Every process record a test saw: killed by PID when it ends, whatever happened in it. */
  private final List<JsonObject> seen = new ArrayList<>();

  @AfterEach
  void killWhatTheTestStarted() {
    It.kill(seen);
  }

  @Test
  void aForcedStopKillsAProcessThatIgnoresSigtermAtOnce() {
    String id = launch(HOLDOUT);
    List<JsonObject> before = processes(id);
    long stopCalls = admin.calls("StopInstances");

    InstanceStateChange stopping = ec2.stopInstances(b -> b.instanceIds(id).force(true)).stoppingInstances().get(0);

    assertThat(stopping.instanceId()).isEqualTo(id);
    assertThat(stopping.previousState().code()).isEqualTo(16);
    assertThat(stopping.currentState().code()).isEqualTo(64);
    assertThat(stopping.currentState().name()).isEqualTo(InstanceStateName.STOPPING);
    It.waiter(ec2).waitUntilInstanceStopped(b -> b.instanceIds(id));
    before.forEach(p -> assertThat(It.alive(p)).as("process %s after a forced stop", p).isFalse());
    assertThat(describe(id).state().code()).isEqualTo(80);
    assertThat(inState("stopped")).contains(id);
    assertThat(admin.calls("StopInstances")).isEqualTo(stopCalls + 1);
    InstanceStateChange again = ec2.stopInstances(b -> b.instanceIds(id)).stoppingInstances().get(0);
    assertThat(again.previousState().name()).as("stopping a stopped instance is no error")
        .isEqualTo(InstanceStateName.STOPPED);
    assertThat(again.currentState().name()).isEqualTo(InstanceStateName.STOPPED);
  }

  @Test
  void aStartedInstanceRunsItsProcessesAgainWithTheSameIdAddressAndPorts() {
    String id = launch(SLEEPER);
    List<JsonObject> before = processes(id);
    ec2.stopInstances(b -> b.instanceIds(id).force(true));
    It.waiter(ec2).waitUntilInstanceStopped(b -> b.instanceIds(id));
    Instance stopped = describe(id);
    JsonObject local = admin.instance(id);

    InstanceStateChange starting = ec2.startInstances(b -> b.instanceIds(id)).startingInstances().get(0);

    assertThat(starting.previousState().code()).isEqualTo(80);
    assertThat(starting.currentState().code()).isZero();
    assertThat(starting.currentState().name()).isEqualTo(InstanceStateName.PENDING);
    It.waiter(ec2).waitUntilInstanceRunning(b -> b.instanceIds(id));
    List<JsonObject> after = processes(id);
    assertThat(after).singleElement().satisfies(p -> assertThat(It.alive(p)).as("process %s", p).isTrue())
        .extracting(p -> p.getLong("pid")).isNotIn(before.stream().map(p -> p.getLong("pid")).toList());
    Instance running = describe(id);
    assertThat(running.privateIpAddress()).isEqualTo(stopped.privateIpAddress());
    assertThat(running.launchTime()).as("EC2 gives a started instance a new launch time")
        .isAfter(stopped.launchTime());
    assertThat(admin.instance(id).getJsonObject("ports")).isEqualTo(local.getJsonObject("ports"));
    InstanceStateChange again = ec2.startInstances(b -> b.instanceIds(id)).startingInstances().get(0);
    assertThat(again.previousState().name()).as("starting a running instance is no error")
        .isEqualTo(InstanceStateName.RUNNING);
    assertThat(again.currentState().name()).isEqualTo(InstanceStateName.RUNNING);
    ec2.terminateInstances(b -> b.instanceIds(id));
  }

  @Test
  void aStopWaitsForSigtermUntilAForcedStopCutsItShort() throws InterruptedException {
    String id = launch(HOLDOUT);
    List<JsonObject> before = processes(id);
    ec2.stopInstances(b -> b.instanceIds(id));
    // The SIGTERM went out at once; its process ignores it, and may for 300 s.
    Thread.sleep(1_000);
    assertThat(inState("stopping")).contains(id);
    before.forEach(p -> assertThat(It.alive(p)).as("process %s, which ignores SIGTERM", p).isTrue());
    assertRefused(() -> ec2.startInstances(b -> b.instanceIds(id)), "IncorrectInstanceState");

    InstanceStateChange forced = ec2.stopInstances(b -> b.instanceIds(id).force(true)).stoppingInstances().get(0);

    assertThat(forced.previousState().name()).isEqualTo(InstanceStateName.STOPPING);
    assertThat(forced.currentState().name()).isEqualTo(InstanceStateName.STOPPING);
    It.waiter(ec2).waitUntilInstanceStopped(b -> b.instanceIds(id));
    before.forEach(p -> assertThat(It.alive(p)).as("process %s after the forced stop", p).isFalse());
  }

  @Test
  void aStoppedInstanceTerminatesAndATerminatedOneCanBeNeitherStoppedNorStarted() {
    String id = launch(SLEEPER);
    ec2.stopInstances(b -> b.instanceIds(id).force(true));
    It.waiter(ec2).waitUntilInstanceStopped(b -> b.instanceIds(id));

    InstanceStateChange terminating = ec2.terminateInstances(b -> b.instanceIds(id)).terminatingInstances().get(0);

    assertThat(terminating.previousState().name()).isEqualTo(InstanceStateName.STOPPED);
    It.waiter(ec2).waitUntilInstanceTerminated(b -> b.instanceIds(id));
    assertRefused(() -> ec2.stopInstances(b -> b.instanceIds(id).force(true)), "IncorrectInstanceState");
    assertRefused(() -> ec2.startInstances(b -> b.instanceIds(id)), "IncorrectInstanceState");
  }

  @Test
  void unknownAndMalformedIdsAndHibernationAreRefused() {
    assertRefused(() -> ec2.stopInstances(b -> b.instanceIds(UNKNOWN).force(true)), "InvalidInstanceID.NotFound");
    assertRefused(() -> ec2.startInstances(b -> b.instanceIds(UNKNOWN)), "InvalidInstanceID.NotFound");
    assertRefused(() -> ec2.stopInstances(b -> b.instanceIds("x-1")), "InvalidInstanceID.Malformed");
    assertRefused(() -> ec2.startInstances(b -> b.instanceIds("i-nothex")), "InvalidInstanceID.Malformed");
    String id = launch(SLEEPER);

    assertRefused(() -> ec2.stopInstances(b -> b.instanceIds(id).hibernate(true)),
        "UnsupportedHibernationConfiguration");

    assertThat(describe(id).state().name()).as("a refused stop stops nothing").isEqualTo(InstanceStateName.RUNNING);
    ec2.terminateInstances(b -> b.instanceIds(id));
  }

  @Test
  void aStoppedInstanceStaysStoppedThroughASandboxCrashAndStartsAgain() {
    String id = launch(SLEEPER);
    ec2.stopInstances(b -> b.instanceIds(id).force(true));
    It.waiter(ec2).waitUntilInstanceStopped(b -> b.instanceIds(id));
    Await.until("the stop saved", Duration.ofSeconds(10), () -> "stopped".equals(savedState(id)));

    sandbox.kill();
    sandbox.restart();

    assertThat(describe(id).state().name()).isEqualTo(InstanceStateName.STOPPED);
    ec2.startInstances(b -> b.instanceIds(id));
    It.waiter(ec2).waitUntilInstanceRunning(b -> b.instanceIds(id));
    assertThat(processes(id)).singleElement().satisfies(p -> assertThat(It.alive(p)).as("process %s", p).isTrue());
    ec2.terminateInstances(b -> b.instanceIds(id));
  }

  private static String launch(String imageId) {
    String id = ec2.runInstances(b -> b.imageId(imageId).minCount(1).maxCount(1)).instances().get(0).instanceId();
    It.waiter(ec2).waitUntilInstanceRunning(b -> b.instanceIds(id));
    return id;
  }

  /** The instance's process records now, remembered for {@link #killWhatTheTestStarted}. */
  private List<JsonObject> processes(String instanceId) {
    List<JsonObject> processes = It.processes(admin, instanceId);
    seen.addAll(processes);
    return processes;
  }

  private static Instance describe(String id) {
    return ec2.describeInstances(b -> b.instanceIds(id)).reservations().get(0).instances().get(0);
  }

  /** The ids DescribeInstances finds with the {@code instance-state-name} filter. */
  private static List<String> inState(String state) {
    return ec2.describeInstances(b -> b.filters(Filter.builder().name("instance-state-name").values(state).build()))
        .reservations().stream().flatMap(r -> r.instances().stream()).map(Instance::instanceId).toList();
  }

  /** The state the sandbox last wrote for the instance to its state file (null when not there yet). */
  private static String savedState(String id) {
    try {
      JsonArray instances = new JsonObject(Files.readString(stateDir.resolve("state.json"))).getJsonArray("instances");
      return instances.stream().map(JsonObject.class::cast).filter(i -> id.equals(i.getString("id")))
          .map(i -> i.getString("state")).findFirst().orElse(null);
    } catch (IOException | RuntimeException notYet) {
      return null;
    }
  }

  private static void assertRefused(Runnable call, String code) {
    assertThatThrownBy(call::run).isInstanceOfSatisfying(Ec2Exception.class,
        e -> assertThat(e.awsErrorDetails().errorCode()).isEqualTo(code));
  }
}
