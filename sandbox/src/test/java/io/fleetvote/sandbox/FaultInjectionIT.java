package io.fleetvote.sandbox;

import io.fleetvote.testkit.Await;
import io.fleetvote.testkit.Ec2Clients;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Ec2Exception;
import software.amazon.awssdk.services.ec2.model.InstanceStateName;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Every fault the admin API injects reaches the AWS SDK as EC2 would send it. */
class FaultInjectionIT extends SandboxIT {

  static Ec2Client noRetries;

  @BeforeAll
  static void clientWithoutRetries() {
    noRetries = Ec2Clients.sync(sandbox.endpoint(), o -> o.retryStrategy(AwsRetryStrategy.doNotRetry()));
  }

  @AfterEach
  void clearFaults() {
    admin.clearFaults();
  }

  @AfterAll
  static void closeClientWithoutRetries() {
    if (noRetries != null) {
      noRetries.close();
    }
  }

  @Test
  void throttledCallsAreRetriedByTheSdkAndSucceed() {
    long before = throttledSoFar();
    admin.throttle(2);
    assertThat(ec2.describeInstances().reservations()).isNotNull();
    assertThat(throttledSoFar() - before).isEqualTo(2);
    assertThat(admin.faults().getJsonObject("throttle").getInteger("remaining")).isZero();
  }

  @Test
  void throttlingThatOutlastsTheRetriesReachesTheCallerAsRequestLimitExceeded() {
    long callsBefore = admin.calls("DescribeInstances");
    admin.throttle(4);
    assertThatThrownBy(() -> ec2.describeInstances()).isInstanceOfSatisfying(Ec2Exception.class, e -> {
      assertThat(e.awsErrorDetails().errorCode()).isEqualTo("RequestLimitExceeded");
      assertThat(e.statusCode()).isEqualTo(503);
      assertThat(e.isThrottlingException()).isTrue();
    });
    assertThat(admin.calls("DescribeInstances") - callsBefore).as("attempts the SDK made").isEqualTo(4);

    admin.throttle(1);
    assertThatThrownBy(() -> noRetries.describeImages()).isInstanceOfSatisfying(Ec2Exception.class,
        e -> assertThat(e.awsErrorDetails().errorCode()).isEqualTo("RequestLimitExceeded"));
  }

  @Test
  void refusedLaunchesAreInsufficientInstanceCapacityAndLaunchNothing() {
    int instancesBefore = admin.instances().size();
    admin.refuseCapacity(1);
    assertThatThrownBy(() -> noRetries.runInstances(b -> b.imageId(SLEEPER).minCount(1).maxCount(1)))
        .isInstanceOfSatisfying(Ec2Exception.class, e -> {
          assertThat(e.awsErrorDetails().errorCode()).isEqualTo("InsufficientInstanceCapacity");
          assertThat(e.statusCode()).isEqualTo(500);
        });
    assertThat(admin.instances()).hasSize(instancesBefore);

    admin.refuseCapacity(2);
    String id = ec2.runInstances(b -> b.imageId(SLEEPER).minCount(1).maxCount(1)).instances().get(0).instanceId();
    assertThat(admin.faults().getJsonObject("capacity").getInteger("remaining")).as("the SDK retried the 500s").isZero();
    assertThat(admin.instances()).extracting(i -> i.getString("instanceId")).contains(id).hasSize(instancesBefore + 1);
  }

  @Test
  void aSlowBootKeepsTheInstancePendingForTheInjectedDelay() {
    admin.slowBoot(1500, 1);
    String id = ec2.runInstances(b -> b.imageId(SLEEPER).minCount(1).maxCount(1)).instances().get(0).instanceId();
    assertThat(ec2.describeInstances(b -> b.instanceIds(id)).reservations().get(0).instances().get(0).state().name())
        .isEqualTo(InstanceStateName.PENDING);
    It.waiter(ec2).waitUntilInstanceRunning(b -> b.instanceIds(id));
    JsonObject view = admin.instance(id);
    Duration boot = Duration.between(Instant.parse(view.getString("launchTime")), Instant.parse(view.getString("runningAt")));
    assertThat(boot).isGreaterThanOrEqualTo(Duration.ofMillis(1500));
    assertThat(admin.faults().getJsonObject("slowBoot").getLong("total")).isEqualTo(1);
  }

  @Test
  void aKilledInstanceLosesItsProcessesWhileEc2StillSaysRunning() {
    String id = ec2.runInstances(b -> b.imageId(APP).minCount(1).maxCount(1)).instances().get(0).instanceId();
    It.waiter(ec2).waitUntilInstanceRunning(b -> b.instanceIds(id));
    int appPort = admin.port(id, "app");
    Await.until("the demo app to answer", Duration.ofSeconds(30), () -> !It.refuses(appPort));
    List<JsonObject> processes = It.processes(admin, id);

    JsonObject after = admin.kill(id);

    processes.forEach(p -> assertThat(It.alive(p)).as("process %s", p).isFalse());
    assertThat(after.getJsonArray("processes").stream().map(JsonObject.class::cast))
        .allSatisfy(p -> assertThat(p.getBoolean("alive")).isFalse());
    assertThat(It.refuses(appPort)).isTrue();
    assertThat(ec2.describeInstances(b -> b.instanceIds(id)).reservations().get(0).instances().get(0).state().name())
        .isEqualTo(InstanceStateName.RUNNING);
  }

  @Test
  void killingOneProcessOfAnInstanceLeavesItsOthersRunning() {
    String id = ec2.runInstances(b -> b.imageId(APP).minCount(1).maxCount(1)).instances().get(0).instanceId();
    It.waiter(ec2).waitUntilInstanceRunning(b -> b.instanceIds(id));
    int appPort = admin.port(id, "app");
    int agentPort = admin.port(id, "agent");
    Await.until("the demo app and the agent to answer", Duration.ofSeconds(30),
        () -> !It.refuses(appPort) && !It.refuses(agentPort));
    List<JsonObject> before = It.processes(admin, id);

    JsonObject after = admin.kill(id, "demo-app");

    assertThat(before).filteredOn(p -> p.getString("name").equals("demo-app"))
        .singleElement().satisfies(p -> assertThat(It.alive(p)).isFalse());
    assertThat(before).filteredOn(p -> p.getString("name").equals("agent"))
        .singleElement().satisfies(p -> assertThat(It.alive(p)).isTrue());
    assertThat(after.getJsonArray("processes").stream().map(JsonObject.class::cast))
        .extracting(p -> p.getString("name") + "=" + p.getBoolean("alive"))
        .containsExactly("demo-app=false", "agent=true");
    assertThat(It.refuses(appPort)).isTrue();
    assertThat(It.get(agentPort, "/health").status()).isEqualTo(200);
    assertThatThrownBy(() -> admin.kill(id, "nope")).hasMessageContaining("404")
        .hasMessageContaining("has no process nope; its processes: demo-app, agent");
    ec2.terminateInstances(b -> b.instanceIds(id));
  }

  @Test
  void badFaultRequestsAreRefusedNamingTheField() {
    assertThatThrownBy(() -> admin.slowBoot(0, 1)).hasMessageContaining("400").hasMessageContaining("delayMillis");
    assertThatThrownBy(() -> admin.throttle(0)).hasMessageContaining("400").hasMessageContaining("count");
    assertThatThrownBy(() -> admin.kill("i-00000000")).hasMessageContaining("404");
  }

  private static long throttledSoFar() {
    return admin.faults().getJsonObject("throttle").getLong("total");
  }
}
