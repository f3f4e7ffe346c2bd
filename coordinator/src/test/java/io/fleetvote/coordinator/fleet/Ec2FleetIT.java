package io.fleetvote.coordinator.fleet;

import io.fleetvote.testkit.Http;
import io.vertx.core.Future;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.retries.api.BackoffStrategy;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.ResourceType;
import software.amazon.awssdk.services.ec2.model.Tag;
import software.amazon.awssdk.services.ec2.model.TagSpecification;
import software.amazon.awssdk.services.ec2.waiters.Ec2Waiter;

import java.net.URI;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

/**
 * The fleet launches, finds, stops, starts and terminates its deployment's instances in a real sandbox, each launch
 * only once, and never acts on another deployment's.
 */
class Ec2FleetIT extends FleetSandbox {

  private static final String UNKNOWN_ID = "i-0123456789abcdef0";

  @Test
  void aLaunchTagsItsInstancesAndDescribeFindsOnlyThisDeploymentsGroupedOnes() throws Exception {
    String otherDeployment = launchDirectly(Tag.builder().key("fleetvote:deployment").value("other").build(),
        Tag.builder().key("fleetvote:group").value("web").build());
    String withoutGroup = launchDirectly(Tag.builder().key("fleetvote:deployment").value(DEPLOYMENT).build());
    LaunchOrder order = new LaunchOrder("web", SLEEPER, "t3.micro", 2, "fv-web-e1-d1", "{\"hello\":\"fleet\"}", "app",
        Map.of("owner", "it"));

    List<FleetInstance> launched = await(fleet.launch(order, RetryListener.NONE));

    assertThat(launched).hasSize(2).allSatisfy(instance -> {
      assertThat(instance.group()).isEqualTo("web");
      assertThat(instance.clientToken()).isEqualTo("fv-web-e1-d1");
      assertThat(instance.alive()).isTrue();
      assertThat(instance.launchTime()).isNotNull();
    });
    Instance described = ec2.describeInstances(b -> b.instanceIds(launched.get(0).instanceId()))
        .reservations().get(0).instances().get(0);
    assertThat(described.tags()).extracting(Tag::key, Tag::value).containsExactlyInAnyOrder(
        tuple("fleetvote:deployment", DEPLOYMENT),
        tuple("fleetvote:group", "web"),
        tuple("fleetvote:role", "app"),
        tuple("owner", "it"));
    waiter().waitUntilInstanceRunning(b -> b.instanceIds(launched.get(0).instanceId()));
    assertThat(userData(launched.get(0).instanceId())).isEqualTo("{\"hello\":\"fleet\"}");

    List<String> found = ids(await(fleet.describe()));
    assertThat(found).containsAll(ids(launched)).doesNotContain(otherDeployment, withoutGroup);
  }

  @Test
  void theSameOrderTwiceLaunchesOnce() {
    LaunchOrder order = order("web", 2, "fv-web-e1-d2");
    List<FleetInstance> first = await(fleet.launch(order, RetryListener.NONE));
    int instances = admin.instances().size();

    List<FleetInstance> second = await(fleet.launch(order, RetryListener.NONE));

    assertThat(ids(second)).containsExactlyElementsOf(ids(first));
    assertThat(admin.instances()).hasSize(instances);
  }

  @Test
  void tenConcurrentLaunchesOfOneOrderMakeOneReservation() {
    LaunchOrder order = order("web", 2, "fv-web-e1-d3");
    int before = admin.instances().size();

    List<Future<List<FleetInstance>>> launches = IntStream.range(0, 10)
        .mapToObj(i -> fleet.launch(order, RetryListener.NONE)).toList();
    await(Future.all(launches));

    assertThat(launches.stream().map(launch -> ids(launch.result())).distinct()).hasSize(1);
    assertThat(admin.instances()).hasSize(before + 2);
    assertThat(ec2.describeInstances(b -> b.filters(Filter.builder().name("client-token").values("fv-web-e1-d3")
        .build())).reservations()).hasSize(1);
  }

  @Test
  void terminatedInstancesAreNoLongerAlive() {
    List<String> launched = ids(await(fleet.launch(order("web", 2, "fv-web-e1-d4"), RetryListener.NONE)));

    await(fleet.terminate(launched, RetryListener.NONE));

    assertThat(await(fleet.describe())).filteredOn(instance -> launched.contains(instance.instanceId()))
        .noneMatch(FleetInstance::alive);
  }

  @Test
  void aMixWithAnUnknownIdStillTerminatesTheKnownOnes() {
    String known = ids(await(fleet.launch(order("web", 1, "fv-web-e1-d5"), RetryListener.NONE))).get(0);

    await(fleet.terminate(List.of(UNKNOWN_ID, known), RetryListener.NONE));

    assertThat(admin.instance(known).getString("state")).isIn("shutting-down", "terminated");
  }

  @Test
  void onlyUnknownIdsIsNotAnErrorAndTerminatesNothing() {
    long terminateCalls = admin.calls("TerminateInstances");

    await(fleet.terminate(List.of(UNKNOWN_ID, "i-00000000"), RetryListener.NONE));

    assertThat(admin.calls("TerminateInstances")).isEqualTo(terminateCalls);
  }

  @Test
  void anotherDeploymentsInstanceIsNeverTerminated() {
    String mine = ids(await(fleet.launch(order("web", 1, "fv-web-e1-d6"), RetryListener.NONE))).get(0);
    String foreign = launchDirectly(Tag.builder().key("fleetvote:deployment").value("other").build(),
        Tag.builder().key("fleetvote:group").value("web").build());

    assertThatThrownBy(() -> await(fleet.terminate(List.of(mine, foreign), RetryListener.NONE)))
        .hasMessageContaining(foreign).hasMessageContaining("not tagged fleetvote:deployment=" + DEPLOYMENT);

    assertThat(admin.instance(mine).getString("state")).isIn("pending", "running");
    assertThat(admin.instance(foreign).getString("state")).isIn("pending", "running");
  }

  @Test
  void aForcedStopLeavesTheInstanceStoppedAndNotAliveAndAStartBringsItBack() {
    String id = ids(await(fleet.launch(order("web", 1, "fv-web-e1-d7"), RetryListener.NONE))).get(0);
    waiter().waitUntilInstanceRunning(b -> b.instanceIds(id));

    await(fleet.stop(List.of(id, UNKNOWN_ID), true, RetryListener.NONE));

    waiter().waitUntilInstanceStopped(b -> b.instanceIds(id));
    assertThat(await(fleet.describe())).filteredOn(instance -> instance.instanceId().equals(id)).singleElement()
        .satisfies(instance -> {
          assertThat(instance.state()).isEqualTo("stopped");
          assertThat(instance.alive()).as("a stopped instance is no capacity").isFalse();
        });
    await(fleet.stop(List.of(id), true, RetryListener.NONE));

    await(fleet.start(List.of(id), RetryListener.NONE));

    waiter().waitUntilInstanceRunning(b -> b.instanceIds(id));
    assertThat(await(fleet.describe())).filteredOn(instance -> instance.instanceId().equals(id))
        .singleElement().satisfies(instance -> assertThat(instance.alive()).isTrue());
  }

  @Test
  void aTerminatedInstanceIsNotStoppedAndCannotBeStarted() {
    String id = ids(await(fleet.launch(order("web", 1, "fv-web-e1-d8"), RetryListener.NONE))).get(0);
    await(fleet.terminate(List.of(id), RetryListener.NONE));
    waiter().waitUntilInstanceTerminated(b -> b.instanceIds(id));
    long stopCalls = admin.calls("StopInstances");

    await(fleet.stop(List.of(id), true, RetryListener.NONE));

    assertThat(admin.calls("StopInstances")).as("nothing left to stop").isEqualTo(stopCalls);
    Retries retries = new Retries();
    assertThatThrownBy(() -> await(fleet.start(List.of(id), retries)))
        .isInstanceOfSatisfying(FleetException.class, e -> assertThat(e.errorCode())
            .isEqualTo("IncorrectInstanceState"));
    assertThat(retries.heard).as("no retry fixes it").isEmpty();
  }

  @Test
  void anotherDeploymentsInstanceIsNeverStoppedNorStarted() {
    String mine = ids(await(fleet.launch(order("web", 1, "fv-web-e1-d9"), RetryListener.NONE))).get(0);
    String foreign = launchDirectly(Tag.builder().key("fleetvote:deployment").value("other").build(),
        Tag.builder().key("fleetvote:group").value("web").build());
    long stopCalls = admin.calls("StopInstances");
    long startCalls = admin.calls("StartInstances");

    assertThatThrownBy(() -> await(fleet.stop(List.of(mine, foreign), true, RetryListener.NONE)))
        .hasMessageContaining(foreign).hasMessageContaining("not tagged fleetvote:deployment=" + DEPLOYMENT);
    assertThatThrownBy(() -> await(fleet.start(List.of(foreign), RetryListener.NONE)))
        .hasMessageContaining("refusing to start [" + foreign + "]");

    assertThat(admin.calls("StopInstances")).isEqualTo(stopCalls);
    assertThat(admin.calls("StartInstances")).isEqualTo(startCalls);
    assertThat(admin.instance(mine).getString("state")).isIn("pending", "running");
  }

  /** An instance launched around the fleet, with these tags; returns its id. */
  private static String launchDirectly(Tag... tags) {
    return ec2.runInstances(b -> b.imageId(SLEEPER).minCount(1).maxCount(1).tagSpecifications(
        TagSpecification.builder().resourceType(ResourceType.INSTANCE).tags(tags).build()))
        .instances().get(0).instanceId();
  }

  /** Polls DescribeInstances every 100 ms for up to a minute (the SDK waiter's default is every 15 s). */
  private static Ec2Waiter waiter() {
    return Ec2Waiter.builder().client(ec2).overrideConfiguration(b -> b.maxAttempts(600)
        .backoffStrategyV2(BackoffStrategy.fixedDelayWithoutJitter(Duration.ofMillis(100)))).build();
  }

  /** The user-data the instance reads from its metadata endpoint (IMDSv2: a token first). */
  private static String userData(String instanceId) {
    URI imds = URI.create(admin.instance(instanceId).getString("metadataEndpoint"));
    String token = Http.send(Http.request(imds.resolve("/latest/api/token"))
        .header("X-aws-ec2-metadata-token-ttl-seconds", "60").PUT(HttpRequest.BodyPublishers.noBody())).body();
    return Http.send(Http.request(imds.resolve("/latest/user-data")).header("X-aws-ec2-metadata-token", token)).body();
  }
}
