package io.fleetvote.sandbox;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.ec2.Ec2AsyncClient;
import software.amazon.awssdk.services.ec2.model.Ec2Exception;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.RunInstancesResponse;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** RunInstances with a ClientToken launches once, however often and however concurrently it is repeated. */
class IdempotencyIT extends SandboxIT {

  static Ec2AsyncClient async;

  @BeforeAll
  static void asyncClient() {
    async = Ec2AsyncClient.builder().endpointOverride(sandbox.endpoint()).region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("it", "it"))).build();
  }

  @AfterAll
  static void closeAsyncClient() {
    if (async != null) {
      async.close();
    }
  }

  @Test
  void theSameTokenTwiceReturnsTheSameReservationAndStartsNothingNew() {
    RunInstancesResponse first = ec2.runInstances(b -> b.imageId(SLEEPER).minCount(2).maxCount(2)
        .clientToken("fv-e1-launch-1").tagSpecifications(It.instanceTags("fleetvote:group", "web")));
    int instances = admin.instances().size();
    long calls = admin.calls("RunInstances");

    RunInstancesResponse second = ec2.runInstances(b -> b.imageId(SLEEPER).minCount(2).maxCount(2)
        .clientToken("fv-e1-launch-1").tagSpecifications(It.instanceTags("fleetvote:group", "web")));

    assertThat(second.reservationId()).isEqualTo(first.reservationId());
    assertThat(second.instances()).extracting(Instance::instanceId)
        .containsExactlyElementsOf(first.instances().stream().map(Instance::instanceId).toList());
    assertThat(admin.calls("RunInstances")).isEqualTo(calls + 1);
    assertThat(admin.instances()).hasSize(instances);
  }

  @Test
  void theSameTokenWithOtherParametersIsIdempotentParameterMismatch() {
    ec2.runInstances(b -> b.imageId(SLEEPER).minCount(1).maxCount(1).clientToken("fv-e1-launch-2"));
    int instances = admin.instances().size();
    assertThatThrownBy(() -> ec2.runInstances(b -> b.imageId(SLEEPER).minCount(1).maxCount(2)
        .clientToken("fv-e1-launch-2"))).isInstanceOfSatisfying(Ec2Exception.class, e -> {
          assertThat(e.awsErrorDetails().errorCode()).isEqualTo("IdempotentParameterMismatch");
          assertThat(e.statusCode()).isEqualTo(400);
        });
    assertThat(admin.instances()).hasSize(instances);
  }

  @Test
  void concurrentRepeatsThroughTheAsyncClientLaunchExactlyOnce() {
    List<CompletableFuture<RunInstancesResponse>> calls = IntStream.range(0, 12)
        .mapToObj(i -> async.runInstances(b -> b.imageId(SLEEPER).minCount(1).maxCount(1).clientToken("fv-e2-launch-7")))
        .toList();
    List<String> reservations = calls.stream().map(CompletableFuture::join).map(RunInstancesResponse::reservationId)
        .distinct().toList();
    assertThat(reservations).hasSize(1);
    List<Instance> launched = async.describeInstances(b -> b.filters(
            Filter.builder().name("client-token").values("fv-e2-launch-7").build())).join()
        .reservations().stream().flatMap(r -> r.instances().stream()).toList();
    assertThat(launched).hasSize(1);
  }

  @Test
  void aTokenWithoutAnyInstanceLeftFromACapacityErrorLaunchesOnItsRetry() {
    admin.refuseCapacity(4);
    assertThatThrownBy(() -> ec2.runInstances(b -> b.imageId(SLEEPER).minCount(1).maxCount(1)
        .clientToken("fv-e3-launch-1"))).isInstanceOf(Ec2Exception.class);
    RunInstancesResponse retried = ec2.runInstances(b -> b.imageId(SLEEPER).minCount(1).maxCount(1)
        .clientToken("fv-e3-launch-1"));
    assertThat(retried.instances()).hasSize(1);
  }
}
