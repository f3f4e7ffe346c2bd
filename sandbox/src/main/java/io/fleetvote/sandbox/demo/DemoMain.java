package io.fleetvote.sandbox.demo;

import io.fleetvote.common.Tags;
import io.fleetvote.common.cli.CommandLine;
import io.fleetvote.common.cluster.JvmFlags;
import io.fleetvote.common.net.FreePorts;
import io.fleetvote.sandbox.ImageCatalog;
import io.fleetvote.sandbox.SandboxOptions;
import io.fleetvote.sandbox.client.Ec2Clients;
import io.fleetvote.sandbox.client.ManagedProcess;
import io.fleetvote.sandbox.client.SandboxAdmin;
import io.fleetvote.sandbox.client.SandboxProcess;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.ResourceType;
import software.amazon.awssdk.services.ec2.model.Tag;
import software.amazon.awssdk.services.ec2.model.TagSpecification;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code ./fleetvote demo}: the sandbox cloud, a coordinator, and a group of app instances launched through the AWS
 * SDK whose agents join the coordinator's cluster; one status line per second (what EC2 says, the demo app's answer
 * and latency, the agent's health, the coordinator's live registry) until Ctrl-C or {@code --duration}. On the way
 * out it terminates the instances and stops the coordinator and the sandbox.
 */
public final class DemoMain {

  private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss");
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();

  private DemoMain() {
  }

  record Settings(int instances, long durationSeconds, Path stateDir) {
  }

  public static void main(String[] args) throws InterruptedException {
    CommandLine cli = new CommandLine("demo", """
        Runs the sandbox cloud on 127.0.0.1 and launches a group of app instances (the demo web app and the
        Fleetvote agent each) through the AWS SDK's EC2 client, then prints one status line per second.""")
        .option("instances", "N", "how many app instances to launch", "2")
        .option("duration", "SECONDS", "stop after this long; 0 runs until Ctrl-C", "0")
        .option("state-dir", "DIR", "the sandbox's state directory", "<fleetvote home>/.demo/sandbox");
    Settings settings = cli.parseOrExit(args, p -> new Settings(p.intValue("instances", 1, 20),
        p.longValue("duration", 0, 86_400),
        p.given("state-dir") ? Path.of(p.string("state-dir")) : SandboxOptions.defaultHome().resolve(".demo/sandbox")));

    System.out.println("starting the sandbox (state in " + settings.stateDir() + ") ...");
    SandboxProcess sandbox = SandboxProcess.start(settings.stateDir());
    int clusterPort = FreePorts.pick();
    int coordinatorPort = FreePorts.pick();
    Path home = SandboxOptions.defaultHome();
    System.out.println("starting a coordinator (cluster 127.0.0.1:" + clusterPort + ", API http://127.0.0.1:"
        + coordinatorPort + "/api/instances) ...");
    ManagedProcess coordinator = ManagedProcess.start("coordinator", ManagedProcess.java(home,
            "coordinator/target/fleetvote-coordinator.jar", "io.fleetvote.coordinator.CoordinatorMain",
            JvmFlags.HAZELCAST, List.of("--deployment", "demo", "--cluster-name", "fleetvote-demo",
                "--cluster-port", Integer.toString(clusterPort), "--members", "127.0.0.1:" + clusterPort,
                "--http-port", Integer.toString(coordinatorPort))),
        settings.stateDir().resolveSibling("coordinator.log"),
        URI.create("http://127.0.0.1:" + coordinatorPort + "/health"), Duration.ofSeconds(60));
    SandboxAdmin admin = sandbox.admin();
    JsonObject leftovers = admin.terminateAll();
    if (!leftovers.getJsonArray("terminated").isEmpty()) {
      System.out.println("terminated instances left over from an earlier run: " + leftovers.getJsonArray("terminated"));
    }
    Ec2Client ec2 = Ec2Clients.sync(sandbox.endpoint());
    AtomicBoolean stopping = new AtomicBoolean();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      stopping.set(true);
      try {
        stopped.await(60, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "demo-shutdown"));
    try {
      System.out.println("sandbox EC2 endpoint: " + sandbox.endpoint() + "   admin: " + sandbox.endpoint()
          + "/_sandbox/instances");
      String userData = new JsonObject().put("fleetvote", new JsonObject().put("deployment", "demo").put("group", "web")
          .put("cluster", new JsonObject().put("clusterName", "fleetvote-demo")
              .put("members", new JsonArray().add("127.0.0.1:" + clusterPort)))).encode();
      List<String> ids = ec2.runInstances(b -> b.imageId(ImageCatalog.imageId("fleetvote-app"))
              .minCount(settings.instances()).maxCount(settings.instances())
              .clientToken("demo-" + System.currentTimeMillis())
              .userData(Base64.getEncoder().encodeToString(userData.getBytes(StandardCharsets.UTF_8)))
              .tagSpecifications(TagSpecification.builder().resourceType(ResourceType.INSTANCE).tags(
                  tag(Tags.DEPLOYMENT, "demo"), tag(Tags.GROUP, "web"), tag(Tags.ROLE, "app")).build()))
          .instances().stream().map(Instance::instanceId).toList();
      System.out.println("RunInstances: launched " + ids + " (group web); Ctrl-C to stop");
      long end = settings.durationSeconds() == 0 ? Long.MAX_VALUE
          : System.nanoTime() + TimeUnit.SECONDS.toNanos(settings.durationSeconds());
      while (!stopping.get() && System.nanoTime() < end) {
        long tick = System.nanoTime();
        System.out.println(statusLine(ec2, admin, coordinatorPort, ids));
        long rest = TimeUnit.SECONDS.toNanos(1) - (System.nanoTime() - tick);
        if (rest > 0) {
          TimeUnit.NANOSECONDS.sleep(rest);
        }
      }
      System.out.println("terminating " + ids + " ...");
      ec2.terminateInstances(b -> b.instanceIds(ids));
      admin.terminateAll();
      System.out.println(statusLine(ec2, admin, coordinatorPort, ids));
    } finally {
      ec2.close();
      coordinator.close();
      sandbox.close();
      System.out.println("coordinator and sandbox stopped");
      stopped.countDown();
    }
  }

  /**
   * {@code 18:02:11  group web: 2 running, registry 2 live | i-0ab running app 200 4ms agent 200 2ms | ...}: what EC2
   * says, what the coordinator's registry holds, then what each instance answers.
   */
  private static String statusLine(Ec2Client ec2, SandboxAdmin admin, int coordinatorPort, List<String> ids) {
    StringBuilder line = new StringBuilder(LocalTime.now().format(CLOCK));
    List<Instance> instances = ec2.describeInstances(b -> b.instanceIds(ids).filters(
            Filter.builder().name("tag:" + Tags.GROUP).values("web").build()))
        .reservations().stream().flatMap(r -> r.instances().stream()).toList();
    long running = instances.stream().filter(i -> i.state().nameAsString().equals("running")).count();
    line.append(String.format("  group web: %d running, registry %s |", running, registry(coordinatorPort)));
    for (Instance instance : instances) {
      String state = instance.state().nameAsString();
      line.append(' ').append(instance.instanceId()).append(' ').append(state);
      if (state.equals("running")) {
        JsonObject ports = admin.instance(instance.instanceId()).getJsonObject("ports");
        line.append(" app ").append(probe(ports.getInteger("app"), "/?work=2"))
            .append(" agent ").append(probe(ports.getInteger("agent"), "/health"));
      }
      line.append(" |");
    }
    return line.toString();
  }

  private static String registry(int port) {
    try {
      HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + port + "/api/instances")).timeout(Duration.ofMillis(800)).build(),
          HttpResponse.BodyHandlers.ofString());
      return new JsonObject(response.body()).getJsonArray("instances").size() + " live";
    } catch (IOException | RuntimeException e) {
      return "unreachable";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    }
  }

  private static String probe(int port, String path) {
    long start = System.nanoTime();
    try {
      HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
          .timeout(Duration.ofMillis(800)).build(), HttpResponse.BodyHandlers.ofString());
      long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      return response.statusCode() + " " + millis + "ms";
    } catch (IOException e) {
      return "down";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    }
  }

  private static Tag tag(String key, String value) {
    return Tag.builder().key(key).value(value).build();
  }
}
