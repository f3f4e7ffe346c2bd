package io.fleetvote.sandbox;

import io.fleetvote.common.imds.IdentityDocument;
import io.fleetvote.common.imds.IdentityVerifier;
import io.fleetvote.common.imds.InstanceMetadataClient;
import io.fleetvote.common.msg.MessageException;
import io.fleetvote.sandbox.identity.IdentitySigner;
import io.fleetvote.testkit.Await;
import io.fleetvote.testkit.HttpReply;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.regions.internal.util.EC2MetadataUtils;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.Image;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.InstanceStateName;
import software.amazon.awssdk.services.ec2.model.Reservation;
import software.amazon.awssdk.services.ec2.model.RunInstancesResponse;

import java.net.URI;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Launch, describe, stop, start and terminate instances of the real app image through the AWS SDK. */
class InstanceLifecycleIT extends SandboxIT {


  @Test
  void launchedAppInstancesRunTheDemoAppAndTheAgentAndAreFoundByTag() {
    String userData = "{\"fleetvote\":{\"deployment\":\"it\",\"group\":\"web\"}}";
    RunInstancesResponse run = ec2.runInstances(b -> b.imageId(APP).minCount(2).maxCount(2).instanceType("t3.small")
        .userData(It.base64(userData)).tagSpecifications(It.instanceTags("fleetvote:group", "web", "tier", "front")));
    ec2.runInstances(b -> b.imageId(SLEEPER).minCount(1).maxCount(1)
        .tagSpecifications(It.instanceTags("fleetvote:group", "batch")));
    List<String> ids = run.instances().stream().map(Instance::instanceId).toList();
    assertThat(run.instances()).hasSize(2)
        .allSatisfy(i -> assertThat(i.state().name()).isEqualTo(InstanceStateName.PENDING))
        .allSatisfy(i -> assertThat(i.instanceType().toString()).isEqualTo("t3.small"));

    It.waiter(ec2).waitUntilInstanceRunning(b -> b.instanceIds(ids));

    List<Instance> web = instances(ec2.describeInstances(b -> b.filters(
        Filter.builder().name("tag:fleetvote:group").values("web").build(),
        Filter.builder().name("instance-state-name").values("running", "pending").build())).reservations());
    assertThat(web).extracting(Instance::instanceId).containsExactlyInAnyOrderElementsOf(ids);
    assertThat(web).allSatisfy(i -> {
      assertThat(i.privateIpAddress()).isEqualTo("127.0.0.1");
      assertThat(i.imageId()).isEqualTo(APP);
      assertThat(i.tags()).extracting("key").contains("fleetvote:group", "tier");
    });
    assertThat(instances(ec2.describeInstances(b -> b.filters(
        Filter.builder().name("tag:tier").values("fr*").build())).reservations())).hasSize(2);

    for (String id : ids) {
      It.processes(admin, id).forEach(p -> assertThat(It.alive(p)).as("process %s", p).isTrue());
      int appPort = admin.port(id, "app");
      Await.until("the demo app of " + id + " to listen", Duration.ofSeconds(30), () -> !It.refuses(appPort));
      HttpReply page = It.get(appPort, "/?work=1");
      assertThat(page.status()).isEqualTo(200);
      assertThat(page.body()).contains(id);
      int agentPort = admin.port(id, "agent");
      Await.until("the agent of " + id + " to listen", Duration.ofSeconds(30), () -> !It.refuses(agentPort));
      JsonObject health = new JsonObject(It.get(agentPort, "/health").body());
      assertThat(health.getString("instanceId")).as("identity the agent read from instance metadata").isEqualTo(id);
      assertThat(health.getString("group")).isEqualTo("web");
      assertThat(health.getString("deployment")).isEqualTo("it");
    }
  }

  @Test
  void stoppedInstancesStopTheirProcessesAndStartAgainOnTheSamePorts() {
    String id = launchApp();
    int appPort = admin.port(id, "app");
    Await.until("the demo app to listen", Duration.ofSeconds(30), () -> !It.refuses(appPort));
    List<JsonObject> before = It.processes(admin, id);

    ec2.stopInstances(b -> b.instanceIds(id));
    It.waiter(ec2).waitUntilInstanceStopped(b -> b.instanceIds(id));
    before.forEach(p -> assertThat(It.alive(p)).as("process %s after stop", p).isFalse());
    assertThat(It.refuses(appPort)).isTrue();

    ec2.startInstances(b -> b.instanceIds(id));
    It.waiter(ec2).waitUntilInstanceRunning(b -> b.instanceIds(id));
    Await.until("the demo app to listen after start", Duration.ofSeconds(30), () -> !It.refuses(appPort));
    assertThat(It.processes(admin, id)).extracting(p -> p.getLong("pid"))
        .doesNotContainAnyElementsOf(before.stream().map(p -> p.getLong("pid")).toList());
  }

  @Test
  void terminatedInstancesStopTheirProcessesAndStayDescribable() {
    String id = launchApp();
    int appPort = admin.port(id, "app");
    Await.until("the demo app to listen", Duration.ofSeconds(30), () -> !It.refuses(appPort));
    List<JsonObject> processes = It.processes(admin, id);

    var terminated = ec2.terminateInstances(b -> b.instanceIds(id)).terminatingInstances().get(0);
    assertThat(terminated.previousState().name()).isEqualTo(InstanceStateName.RUNNING);
    assertThat(terminated.currentState().name()).isEqualTo(InstanceStateName.SHUTTING_DOWN);
    It.waiter(ec2).waitUntilInstanceTerminated(b -> b.instanceIds(id));

    processes.forEach(p -> assertThat(It.alive(p)).as("process %s after terminate", p).isFalse());
    assertThat(It.refuses(appPort)).isTrue();
    Instance described = instances(ec2.describeInstances(b -> b.instanceIds(id)).reservations()).get(0);
    assertThat(described.state().name()).isEqualTo(InstanceStateName.TERMINATED);
    assertThat(described.stateReason().code()).isEqualTo("Client.UserInitiatedShutdown");
    var again = ec2.terminateInstances(b -> b.instanceIds(id)).terminatingInstances().get(0);
    assertThat(again.previousState().name()).isEqualTo(InstanceStateName.TERMINATED);
  }

  @Test
  void aProcessThatIgnoresSigtermIsKilledAfterItsStopTimeout() {
    String id = ec2.runInstances(b -> b.imageId(ImageCatalog.imageId("test-stubborn")).minCount(1).maxCount(1))
        .instances().get(0).instanceId();
    It.waiter(ec2).waitUntilInstanceRunning(b -> b.instanceIds(id));
    List<JsonObject> processes = It.processes(admin, id);
    ec2.terminateInstances(b -> b.instanceIds(id));
    It.waiter(ec2).waitUntilInstanceTerminated(b -> b.instanceIds(id));
    processes.forEach(p -> assertThat(It.alive(p)).isFalse());
  }

  @Test
  void describeImagesListsTheRegisteredImages() {
    List<Image> images = ec2.describeImages(b -> b.owners("self")).images();
    assertThat(images).extracting(Image::name).contains("fleetvote-app", "test-sleeper");
    Image app = ec2.describeImages(b -> b.imageIds(APP)).images().get(0);
    assertThat(app.name()).isEqualTo("fleetvote-app");
    assertThat(app.stateAsString()).isEqualTo("available");
    assertThat(ec2.describeImages(b -> b.filters(Filter.builder().name("name").values("test-*").build())).images())
        .extracting(Image::name)
        .containsExactlyInAnyOrder("test-sleeper", "test-stubborn", "test-holdout", "test-orphan");
  }

  @Test
  void paginationReturnsEveryInstanceExactlyOnce() {
    String token = "paging-" + System.nanoTime();
    ec2.runInstances(b -> b.imageId(SLEEPER).minCount(7).maxCount(7).clientToken(token));
    ec2.runInstances(b -> b.imageId(SLEEPER).minCount(1).maxCount(1).clientToken(token + "-b"));
    List<String> seen = ec2.describeInstancesPaginator(b -> b.maxResults(5).filters(
            Filter.builder().name("client-token").values(token + "*").build()))
        .reservations().stream().flatMap(r -> r.instances().stream()).map(Instance::instanceId).toList();
    assertThat(seen).hasSize(8).doesNotHaveDuplicates();
  }

  @Test
  void instanceMetadataAnswersTheAwsSdksOwnClient() {
    String userData = "#!/bin/sh\necho hello";
    String id = ec2.runInstances(b -> b.imageId(SLEEPER).minCount(1).maxCount(1).userData(It.base64(userData))
        .tagSpecifications(It.instanceTags("fleetvote:role", "app"))).instances().get(0).instanceId();
    It.waiter(ec2).waitUntilInstanceRunning(b -> b.instanceIds(id));
    String endpoint = admin.instance(id).getString("metadataEndpoint");
    String previous = System.getProperty("aws.ec2MetadataServiceEndpoint");
    System.setProperty("aws.ec2MetadataServiceEndpoint", endpoint);
    try {
      assertThat(EC2MetadataUtils.getInstanceId()).isEqualTo(id);
      assertThat(EC2MetadataUtils.getAmiId()).isEqualTo(SLEEPER);
      assertThat(EC2MetadataUtils.getPrivateIpAddress()).isEqualTo("127.0.0.1");
      assertThat(EC2MetadataUtils.getAvailabilityZone()).isEqualTo("us-east-1a");
      assertThat(EC2MetadataUtils.getEC2InstanceRegion()).isEqualTo("us-east-1");
      assertThat(EC2MetadataUtils.getUserData()).isEqualTo(userData);
      assertThat(EC2MetadataUtils.getData("/latest/meta-data/tags/instance/fleetvote:role")).isEqualTo("app");
    } finally {
      if (previous == null) {
        System.clearProperty("aws.ec2MetadataServiceEndpoint");
      } else {
        System.setProperty("aws.ec2MetadataServiceEndpoint", previous);
      }
    }
  }

  @Test
  void anInstancesIdentityDocumentIsSignedByTheSandboxAndAForgedOneIsNot() {
    String id = ec2.runInstances(b -> b.imageId(SLEEPER).minCount(1).maxCount(1)).instances().get(0).instanceId();
    It.waiter(ec2).waitUntilInstanceRunning(b -> b.instanceIds(id));
    IdentityVerifier verifier = IdentityVerifier.fromPem(admin.identityCertificate());
    Vertx vertx = Vertx.vertx();
    InstanceMetadataClient metadata = new InstanceMetadataClient(vertx,
        URI.create(admin.instance(id).getString("metadataEndpoint")));
    try {
      InstanceMetadataClient.SignedIdentity signed = metadata.signedIdentity().await();
      IdentityDocument identity = verifier.verify(signed.document(), signed.signature());
      assertThat(identity.instanceId()).isEqualTo(id);
      assertThat(identity.accountId()).isEqualTo(ImageCatalog.OWNER_ID);
      assertThat(identity.imageId()).isEqualTo(SLEEPER);
      String forged = signed.document().replace(id, "i-0123456789abcdef0");
      assertThatThrownBy(() -> verifier.verify(forged, signed.signature())).isInstanceOf(MessageException.class)
          .hasMessageContaining("signature");
    } finally {
      metadata.close();
      vertx.close().await();
    }
    // What coordinators are given: the certificate the sandbox keeps in its state directory.
    assertThat(stateDir.resolve(IdentitySigner.CERTIFICATE)).content().isEqualTo(admin.identityCertificate());
  }

  private static String launchApp() {
    String id = ec2.runInstances(b -> b.imageId(APP).minCount(1).maxCount(1)).instances().get(0).instanceId();
    It.waiter(ec2).waitUntilInstanceRunning(b -> b.instanceIds(id));
    return id;
  }

  private static List<Instance> instances(List<Reservation> reservations) {
    return reservations.stream().flatMap(r -> r.instances().stream()).toList();
  }
}
