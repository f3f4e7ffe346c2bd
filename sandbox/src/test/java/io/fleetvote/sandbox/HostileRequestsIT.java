package io.fleetvote.sandbox;

import io.fleetvote.testkit.Http;
import io.fleetvote.testkit.HttpReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.xml.sax.InputSource;
import software.amazon.awssdk.services.ec2.model.Ec2Exception;
import software.amazon.awssdk.services.ec2.model.Tag;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.StringReader;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Base64;
import java.util.Random;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Malformed and hostile requests each get EC2's error for them, in EC2's error document, and the sandbox keeps
 * serving; nothing reaches its log as a stack trace.
 */
class HostileRequestsIT extends SandboxIT {

  private static final String UNKNOWN = "i-0123456789abcdef0";

  /** Runs before the sandbox is stopped (JUnit runs a subclass's {@code @AfterAll} before its parent's). */
  @AfterAll
  static void theSandboxStillServesAndLoggedNoStackTrace() throws Exception {
    assertThat(ec2.describeInstances().reservations()).as("the sandbox still serves").isNotNull();
    assertThat(Files.readString(stateDir.resolve("sandbox.log"))).as("sandbox log").doesNotContain("\tat ");
  }

  @Test
  void requestsWithoutAValidActionAreRefused() {
    assertError(post(""), 400, "MissingAction");
    assertError(post("Version=2016-11-15"), 400, "MissingAction");
    assertError(post("Action=Frobnicate&Version=2016-11-15"), 400, "InvalidAction");
    assertError(post("Action=%3Cscript%3E"), 400, "InvalidAction");
    assertError(post("Action=DescribeSnapshots"), 400, "UnsupportedOperation");
    assertError(post("Action=DescribeInstances&Version=2011-01-01"), 400, "NoSuchVersion");
    assertError(get("/nowhere"), 404, "InvalidAction");
  }

  @Test
  void badRunInstancesParametersAreNamed() {
    int instancesBefore = admin.instances().size();
    String run = "Action=RunInstances&ImageId=" + SLEEPER;
    assertError(post(run + "&MinCount=0&MaxCount=1"), 400, "InvalidParameterValue");
    assertError(post(run + "&MinCount=abc&MaxCount=1"), 400, "InvalidParameterValue");
    assertError(post(run + "&MinCount=3&MaxCount=2"), 400, "InvalidParameterValue");
    assertError(post(run + "&MinCount=1&MaxCount=99999999999"), 400, "InvalidParameterValue");
    assertError(post(run + "&MinCount=1"), 400, "MissingParameter");
    assertError(post("Action=RunInstances&MinCount=1&MaxCount=1"), 400, "MissingParameter");
    assertError(post("Action=RunInstances&ImageId=ami-nope&MinCount=1&MaxCount=1"), 400, "InvalidAMIID.Malformed");
    assertError(post("Action=RunInstances&ImageId=ami-0123456789abcdef0&MinCount=1&MaxCount=1"), 400,
        "InvalidAMIID.NotFound");
    assertError(post(run + "&MinCount=1&MaxCount=1&UserData=not%20base64!!"), 400, "InvalidParameterValue");
    assertError(post(run + "&MinCount=1&MaxCount=1&InstanceType=huge"), 400, "InvalidParameterValue");
    assertError(post(run + "&MinCount=1&MaxCount=1&ClientToken=" + "x".repeat(65)), 400, "InvalidParameterValue");
    assertError(post(run + "&MinCount=1&MaxCount=1&Placement.AvailabilityZone=mars-1a"), 400, "InvalidParameterValue");
    assertError(post(run + "&MinCount=1&MaxCount=1&Frobnicate=1"), 400, "UnknownParameter");
    assertError(post(run + "&MinCount=1&MaxCount=1&TagSpecification.1.ResourceType=instance"
        + "&TagSpecification.1.Tag.1.Key=aws%3Aname&TagSpecification.1.Tag.1.Value=x"), 400, "InvalidParameterValue");
    assertError(post(run + "&MinCount=1&MaxCount=1&TagSpecification.1.ResourceType=instance"
        + "&TagSpecification.1.Tag.1.Key=k&TagSpecification.1.Tag.1.Value=%01"), 400, "InvalidParameterValue");
    assertError(post(run + "&MinCount=1&MaxCount=1&DryRun=true"), 412, "DryRunOperation");
    assertThat(admin.instances()).as("none of these launched anything").hasSize(instancesBefore);
  }

  @Test
  void oversizedUserDataIsRefusedThroughTheSdk() {
    byte[] big = new byte[16_385];
    assertThatThrownBy(() -> ec2.runInstances(b -> b.imageId(SLEEPER).minCount(1).maxCount(1)
        .userData(Base64.getEncoder().encodeToString(big))))
        .isInstanceOfSatisfying(Ec2Exception.class, e -> {
          assertThat(e.awsErrorDetails().errorCode()).isEqualTo("InvalidParameterValue");
          assertThat(e.awsErrorDetails().errorMessage()).contains("16384");
        });
  }

  @Test
  void anInstanceTypeTheSandboxDoesNotOfferIsNamedWithTheTypesItDoes() {
    int instancesBefore = admin.instances().size();
    assertThatThrownBy(() -> ec2.runInstances(b -> b.imageId(SLEEPER).minCount(1).maxCount(1)
        .instanceType("m5.24xlarge")))
        .isInstanceOfSatisfying(Ec2Exception.class, e -> {
          assertThat(e.statusCode()).isEqualTo(400);
          assertThat(e.awsErrorDetails().errorCode()).isEqualTo("InvalidParameterValue");
          assertThat(e.awsErrorDetails().errorMessage()).isEqualTo("Invalid value 'm5.24xlarge' for InstanceType. "
              + "The sandbox offers t3.nano, t3.micro, t3.small, t3.medium, t3.large, t3.xlarge.");
        });
    assertThat(admin.instances()).as("nothing launched").hasSize(instancesBefore);
  }

  @Test
  void unknownAndMalformedInstanceIdsAreRefused() {
    assertThatThrownBy(() -> ec2.terminateInstances(b -> b.instanceIds(UNKNOWN)))
        .isInstanceOfSatisfying(Ec2Exception.class, e -> {
          assertThat(e.awsErrorDetails().errorCode()).isEqualTo("InvalidInstanceID.NotFound");
          assertThat(e.awsErrorDetails().errorMessage()).contains(UNKNOWN);
        });
    assertError(post("Action=TerminateInstances"), 400, "MissingParameter");
    assertError(post("Action=TerminateInstances&InstanceId.1=x-1"), 400, "InvalidInstanceID.Malformed");
    assertError(post("Action=StopInstances&InstanceId.1=" + UNKNOWN), 400, "InvalidInstanceID.NotFound");
    assertError(post("Action=DescribeInstances&InstanceId.1=" + UNKNOWN), 400, "InvalidInstanceID.NotFound");
    assertError(post("Action=CreateTags&ResourceId.1=" + UNKNOWN + "&Tag.1.Key=k&Tag.1.Value=v"), 400,
        "InvalidInstanceID.NotFound");
    assertError(post("Action=CreateTags&ResourceId.1=vol-1&Tag.1.Key=k"), 400, "InvalidVolumeID.Malformed");
    assertError(post("Action=CreateTags&ResourceId.1=snap-1&Tag.1.Key=k"), 400, "InvalidID");
    assertError(post("Action=CreateTags&ResourceId.1=vol-0123456789abcdef0&Tag.1.Key=k"), 400,
        "InvalidVolume.NotFound");
    assertError(post("Action=CreateTags&ResourceId.1=" + UNKNOWN), 400, "MissingParameter");
  }

  @Test
  void badStopAndStartParametersAreNamed() {
    assertError(post("Action=StopInstances"), 400, "MissingParameter");
    assertError(post("Action=StartInstances"), 400, "MissingParameter");
    assertError(post("Action=StartInstances&InstanceId.1=x-1"), 400, "InvalidInstanceID.Malformed");
    assertError(post("Action=StartInstances&InstanceId.1=" + UNKNOWN), 400, "InvalidInstanceID.NotFound");
    assertError(post("Action=StopInstances&InstanceId.1=" + UNKNOWN + "&Force=maybe"), 400, "InvalidParameterValue");
    assertError(post("Action=StopInstances&InstanceId.1=" + UNKNOWN + "&Hibernate=true"), 400,
        "InvalidInstanceID.NotFound");
    assertError(post("Action=StopInstances&InstanceId.1=" + UNKNOWN + "&DryRun=true"), 400,
        "InvalidInstanceID.NotFound");
    assertError(post("Action=StartInstances&InstanceId.1=" + UNKNOWN + "&Force=true"), 400, "UnknownParameter");
  }

  @Test
  void badVolumeParametersAreNamedAndMakeNothing() {
    String create = "Action=CreateVolume&AvailabilityZone=us-east-1a";
    assertError(post("Action=CreateVolume&Size=8"), 400, "MissingParameter");
    assertError(post(create), 400, "MissingParameter");
    assertError(post(create + "&Size=abc"), 400, "InvalidParameterValue");
    assertError(post(create + "&Size=99999999999"), 400, "InvalidParameterValue");
    assertError(post(create + "&Size=-1"), 400, "InvalidParameterValue");
    assertError(post("Action=CreateVolume&Size=8&AvailabilityZone=%3Cscript%3E"), 400, "InvalidParameterValue");
    assertError(post(create + "&Size=8&VolumeType=..%2F..%2Fetc"), 400, "InvalidParameterValue");
    assertError(post(create + "&Size=8&Iops=1e9&VolumeType=gp3"), 400, "InvalidParameterValue");
    assertError(post(create + "&Size=8&Encrypted=maybe"), 400, "InvalidParameterValue");
    assertError(post(create + "&Size=8&TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.1.Key=k"),
        400, "InvalidParameterValue");
    assertError(post(create + "&Size=8&SnapshotId=snap-0123456789abcdef0"), 400, "InvalidSnapshot.NotFound");
    assertError(post(create + "&Size=8&Bogus=1"), 400, "UnknownParameter");
    assertError(post("Action=AttachVolume&VolumeId=vol-zz&InstanceId=" + UNKNOWN + "&Device=%2Fdev%2Fsdf"), 400,
        "InvalidVolumeID.Malformed");
    assertError(post("Action=AttachVolume&VolumeId=vol-0123456789abcdef0&InstanceId=" + UNKNOWN), 400,
        "MissingParameter");
    assertError(post("Action=AttachVolume&VolumeId=vol-0123456789abcdef0&InstanceId=" + UNKNOWN
        + "&Device=%2Fdev%2Fsdf"), 400, "InvalidVolume.NotFound");
    assertError(post("Action=DetachVolume&VolumeId=vol-0123456789abcdef0&Force=yes"), 400, "InvalidParameterValue");
    assertError(post("Action=DeleteVolume"), 400, "MissingParameter");
    assertError(post("Action=DescribeVolumes&Filter.1.Name=bogus&Filter.1.Value.1=x"), 400, "InvalidParameterValue");
    assertError(post("Action=DescribeVolumes&MaxResults=3"), 400, "InvalidParameterValue");
    assertError(post("Action=DescribeVolumes&MaxResults=10&VolumeId.1=vol-0123456789abcdef0"), 400,
        "InvalidParameterCombination");
    assertError(post("Action=DescribeVolumes&VolumeId.1=vol-0123456789abcdef0"), 400, "InvalidVolume.NotFound");
    assertThat(ec2.describeVolumes().volumes()).as("no volume made by a refused call").isEmpty();

    String id = ec2.runInstances(b -> b.imageId(SLEEPER).minCount(1).maxCount(1)).instances().get(0).instanceId();
    It.waiter(ec2).waitUntilInstanceRunning(b -> b.instanceIds(id));
    String volume = ec2.createVolume(b -> b.availabilityZone("us-east-1a").size(1)).volumeId();
    It.waiter(ec2).waitUntilVolumeAvailable(b -> b.volumeIds(volume));
    for (String device : new String[] {"..%2F..%2Fetc%2Fpasswd", "%2Fdev%2Fsdf%00", "%2Fdev%2Fsda1", "sdf"}) {
      assertError(post("Action=AttachVolume&VolumeId=" + volume + "&InstanceId=" + id + "&Device=" + device), 400,
          "InvalidParameterValue");
    }
    ec2.deleteVolume(b -> b.volumeId(volume));
    ec2.terminateInstances(b -> b.instanceIds(id));
  }

  @Test
  void badDescribeParametersAreRefused() {
    assertError(post("Action=DescribeInstances&Filter.1.Name=bogus&Filter.1.Value.1=x"), 400, "InvalidParameterValue");
    assertError(post("Action=DescribeInstances&Filter.1.Name=instance-id"), 400, "InvalidParameterValue");
    assertError(post("Action=DescribeInstances&MaxResults=3"), 400, "InvalidParameterValue");
    assertError(post("Action=DescribeInstances&MaxResults=10&InstanceId.1=" + UNKNOWN), 400,
        "InvalidParameterCombination");
    assertError(post("Action=DescribeInstances&MaxResults=10&NextToken=garbage"), 400, "InvalidPaginationToken");
    assertError(post("Action=DescribeInstances&InstanceId.99999=" + UNKNOWN), 400, "InvalidParameterValue");
    assertError(post("Action=DescribeImages&ImageId.1=ami-0123456789abcdef0"), 400, "InvalidAMIID.NotFound");
  }

  @Test
  void garbageAndOversizedBodiesAreRefused() {
    assertError(post("Action=DescribeInstances&Action=RunInstances"), 400, "MalformedQueryString");
    assertError(post("Action=%zz"), 400, "MalformedQueryString");
    byte[] garbage = new byte[10_000];
    new Random(42).nextBytes(garbage);
    HttpReply noise = send(HttpRequest.newBuilder(sandbox.endpoint())
        .header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofByteArray(garbage)));
    assertThat(noise.status()).isEqualTo(400);
    assertThat(errorCode(noise)).isIn("MissingAction", "MalformedQueryString", "InvalidAction");
    assertError(post("Action=DescribeInstances&Junk=" + "x".repeat(400_000)), 413, "RequestEntityTooLarge");
    HttpReply json = send(HttpRequest.newBuilder(sandbox.endpoint())
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"Action\": 1}")));
    assertError(json, 400, "MissingAction");
  }

  @Test
  void hostileTagTextRoundTripsEscaped() {
    String id = ec2.runInstances(b -> b.imageId(SLEEPER).minCount(1).maxCount(1)).instances().get(0).instanceId();
    String hostile = "</value><injected>&amp;\"'";
    ec2.createTags(b -> b.resources(id).tags(Tag.builder().key("note").value(hostile).build()));
    var tags = ec2.describeInstances(b -> b.instanceIds(id)).reservations().get(0).instances().get(0).tags();
    assertThat(tags).contains(Tag.builder().key("note").value(hostile).build());
    ec2.terminateInstances(b -> b.instanceIds(id));
  }

  @Test
  void instanceMetadataRefusesRequestsWithoutAValidToken() {
    String id = ec2.runInstances(b -> b.imageId(SLEEPER).minCount(1).maxCount(1)).instances().get(0).instanceId();
    It.waiter(ec2).waitUntilInstanceRunning(b -> b.instanceIds(id));
    URI imds = URI.create(admin.instance(id).getString("metadataEndpoint"));
    URI token = imds.resolve("/latest/api/token");
    URI instanceId = imds.resolve("/latest/meta-data/instance-id");
    assertThat(send(HttpRequest.newBuilder(token).PUT(HttpRequest.BodyPublishers.noBody())).status()).isEqualTo(400);
    assertThat(send(HttpRequest.newBuilder(token).header("X-aws-ec2-metadata-token-ttl-seconds", "99999")
        .PUT(HttpRequest.BodyPublishers.noBody())).status()).isEqualTo(400);
    assertThat(send(HttpRequest.newBuilder(token).header("X-aws-ec2-metadata-token-ttl-seconds", "60")
        .header("X-Forwarded-For", "10.0.0.1").PUT(HttpRequest.BodyPublishers.noBody())).status()).isEqualTo(403);
    assertThat(send(HttpRequest.newBuilder(instanceId).GET()).status()).isEqualTo(401);
    assertThat(send(HttpRequest.newBuilder(instanceId).header("X-aws-ec2-metadata-token", "forged").GET())
        .status()).isEqualTo(401);
    HttpReply issued = send(HttpRequest.newBuilder(token).header("X-aws-ec2-metadata-token-ttl-seconds", "60")
        .PUT(HttpRequest.BodyPublishers.noBody()));
    assertThat(issued.status()).isEqualTo(200);
    assertThat(issued.header("X-aws-ec2-metadata-token-ttl-seconds")).hasValue("60");
    Consumer<HttpRequest.Builder> withToken = b -> b.header("X-aws-ec2-metadata-token", issued.body());
    HttpRequest.Builder read = HttpRequest.newBuilder(instanceId).GET();
    withToken.accept(read);
    assertThat(send(read).body()).isEqualTo(id);
    HttpRequest.Builder missing = HttpRequest.newBuilder(imds.resolve("/latest/meta-data/nothing-here")).GET();
    withToken.accept(missing);
    assertThat(send(missing).status()).isEqualTo(404);
    HttpRequest.Builder post = HttpRequest.newBuilder(instanceId).POST(HttpRequest.BodyPublishers.noBody());
    withToken.accept(post);
    assertThat(send(post).status()).isEqualTo(405);
    ec2.terminateInstances(b -> b.instanceIds(id));
  }

  private static HttpReply post(String form) {
    return send(HttpRequest.newBuilder(sandbox.endpoint())
        .header("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
        .POST(HttpRequest.BodyPublishers.ofString(form)));
  }

  private static HttpReply get(String path) {
    return send(HttpRequest.newBuilder(sandbox.endpoint().resolve(path)).GET());
  }

  private static HttpReply send(HttpRequest.Builder request) {
    return Http.send(request.timeout(Duration.ofSeconds(10)));
  }

  /** Checks EC2's error document: the status, exactly one Error with this Code, a message and a request id. */
  private static void assertError(HttpReply response, int status, String code) {
    assertThat(response.status()).as("status of %s", response.body()).isEqualTo(status);
    assertThat(errorCode(response)).isEqualTo(code);
  }

  private static String errorCode(HttpReply response) {
    try {
      Document xml = DocumentBuilderFactory.newInstance().newDocumentBuilder()
          .parse(new InputSource(new StringReader(response.body())));
      assertThat(xml.getDocumentElement().getNodeName()).isEqualTo("Response");
      assertThat(xml.getElementsByTagName("Error").getLength()).isEqualTo(1);
      assertThat(xml.getElementsByTagName("Message").item(0).getTextContent()).isNotBlank();
      assertThat(xml.getElementsByTagName("RequestID").item(0).getTextContent()).isNotBlank();
      return xml.getElementsByTagName("Code").item(0).getTextContent();
    } catch (Exception e) {
      throw new AssertionError("not EC2's error document: " + response.body(), e);
    }
  }
}
