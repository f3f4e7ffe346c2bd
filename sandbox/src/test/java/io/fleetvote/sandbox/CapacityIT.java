package io.fleetvote.sandbox;

import io.fleetvote.common.process.ProcessProbe;
import io.fleetvote.sandbox.capacity.InstanceTypes;
import io.fleetvote.testkit.Await;
import io.fleetvote.testkit.Ec2Clients;
import io.fleetvote.testkit.Http;
import io.fleetvote.testkit.HttpReply;
import io.fleetvote.testkit.SandboxProcess;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Ec2Exception;
import software.amazon.awssdk.services.ec2.model.Instance;

import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

/**
 * An instance type's capacity is real: a saturated t3.micro reads 90-100 % of its quarter core however fast the
 * host is, its app runs in its own cgroup under the quota, which goes with the instance and takes what escaped its
 * process tree along, and launches the host cannot honour are refused.
 */
class CapacityIT extends SandboxIT {

  private static final int WORK_MS = 20;

  @Test
  void aSaturatedMicroInstanceReadsNinetyToAHundredPercentOfItsQuarterCore() throws Exception {
    JsonObject capacity = enforcedCapacity();
    String id = ec2.runInstances(b -> b.imageId(APP).minCount(1).maxCount(1).instanceType("t3.micro"))
        .instances().get(0).instanceId();
    It.waiter(ec2).waitUntilInstanceRunning(b -> b.instanceIds(id));
    JsonObject view = admin.instance(id);
    int appPort = view.getJsonObject("ports").getInteger("app");
    int agentPort = view.getJsonObject("ports").getInteger("agent");
    Await.until("the demo app and the agent to answer", Duration.ofSeconds(60),
        () -> !It.refuses(appPort) && !It.refuses(agentPort));

    Path quotaGroup = Path.of(view.getJsonArray("cgroups").getString(0));
    assertThat(quotaGroup.getFileName().toString()).isEqualTo(id);
    assertThat(quotaGroup.toString()).as("the instance's group holds the demo app")
        .endsWith(cpuGroupOf(pid(view, "demo-app"), capacity));
    assertThat(cpuGroupOf(pid(view, "agent"), capacity)).as("the agent runs beside the quota").doesNotEndWith(id);
    if (capacity.getString("layout").equals("v1")) {
      assertThat(Files.readString(quotaGroup.resolve("cpu.cfs_quota_us")).trim()).isEqualTo("5000");
      assertThat(Files.readString(quotaGroup.resolve("cpu.cfs_period_us")).trim()).isEqualTo("20000");
    } else {
      assertThat(Files.readString(quotaGroup.resolve("cpu.max")).trim()).isEqualTo("5000 20000");
    }

    double perSecond = 2 * view.getDouble("vcpus") * 1000 / WORK_MS;
    List<Double> loads = new ArrayList<>();
    try (Load load = Load.start(appPort, perSecond)) {
      Await.until("the agent to read the instance as saturated", Duration.ofSeconds(40), () -> load(agentPort) >= 90);
      for (int i = 0; i < 4; i++) {
        Thread.sleep(1000);
        loads.add(load(agentPort));
      }
      System.out.printf("t3.micro at %.0f requests/s of %d ms: agent read %s %%, %d answered%n", perSecond, WORK_MS,
          loads, load.answered.get());
    }
    assertThat(loads).allSatisfy(load -> assertThat(load).isBetween(90.0, 100.0));

    ec2.terminateInstances(b -> b.instanceIds(id));
    It.waiter(ec2).waitUntilInstanceTerminated(b -> b.instanceIds(id));
    assertThat(admin.instance(id).getJsonArray("cgroups").stream().map(g -> Path.of((String) g)))
        .as("the instance's cgroups after it terminated").hasSize(capacity.getJsonArray("bases").size())
        .allSatisfy(group -> assertThat(group).doesNotExist());
  }

  @Test
  void aProcessThatLeftItsInstancesProcessTreeDiesWithTheInstance() throws IOException {
    JsonObject capacity = enforcedCapacity();
    String id = ec2.runInstances(b -> b.imageId(ImageCatalog.imageId("test-orphan")).minCount(1).maxCount(1))
        .instances().get(0).instanceId();
    It.waiter(ec2).waitUntilInstanceRunning(b -> b.instanceIds(id));
    JsonObject view = admin.instance(id);
    Path group = Path.of(view.getJsonArray("cgroups").getString(0));
    long parent = pid(view, "parent");
    // Until the double fork is done: the subshell in between is still in the parent's tree while it runs.
    ProcessHandle orphan = Await.until("the parent and its orphan, out of its tree, in the instance's group",
        Duration.ofSeconds(10), () -> orphanOf(group, parent), Optional::isPresent).orElseThrow();
    long orphanStarted = ProcessProbe.startMillis(orphan).orElseThrow();
    assertThat(ProcessHandle.of(parent).orElseThrow().descendants()).as("the orphan left the process tree")
        .doesNotContain(orphan);

    ec2.terminateInstances(b -> b.instanceIds(id));
    It.waiter(ec2).waitUntilInstanceTerminated(b -> b.instanceIds(id));

    assertThat(ProcessProbe.alive(orphan.pid(), orphanStarted)).as("the orphan %s", orphan.pid()).isFalse();
    assertThat(view.getJsonArray("cgroups").stream().map(g -> Path.of((String) g)))
        .hasSize(capacity.getJsonArray("bases").size()).allSatisfy(g -> assertThat(g).doesNotExist());
  }

  /**
   * The one process of {@code group} besides {@code parent}, once there is exactly one, it is the orphaned sleep and
   * it left parent's tree.
   */
  private static Optional<ProcessHandle> orphanOf(Path group, long parent) {
    List<Long> pids = processesIn(group);
    Optional<ProcessHandle> parentHandle = ProcessHandle.of(parent);
    if (pids.size() != 2 || parentHandle.isEmpty()) {
      return Optional.empty();
    }
    // The orphan is the sleep; the subshell that forked it, still listed for a moment as it exits, is not.
    return pids.stream().filter(pid -> pid != parent).findFirst().flatMap(ProcessHandle::of)
        .filter(other -> other.info().command().orElse("").endsWith("sleep")
            && ProcessProbe.startMillis(other).isPresent())
        .filter(other -> parentHandle.get().descendants().noneMatch(other::equals));
  }

  /** On a host of one core (the sandbox's JVM told so), a t3.large's two vCPUs could not be honoured. */
  @Test
  void aTypeLargerThanTheHostIsRefusedForCapacity(@TempDir Path smallHost) {
    try (SandboxProcess oneCore = SandboxProcess.start(smallHost, List.of("-XX:ActiveProcessorCount=1"),
        "--images", It.testImages().toString(), "--max-vcpus", "1");
         Ec2Client small = Ec2Clients.sync(oneCore.endpoint())) {
      assertThat(oneCore.admin().capacity().getInteger("hostCores")).isEqualTo(1);
      assertThatThrownBy(() -> small.runInstances(b -> b.imageId(SLEEPER).minCount(1).maxCount(1)
          .instanceType("t3.large")))
          .isInstanceOfSatisfying(Ec2Exception.class, e -> {
            assertThat(e.statusCode()).isEqualTo(500);
            assertThat(e.awsErrorDetails().errorCode()).isEqualTo("InsufficientInstanceCapacity");
            assertThat(e.awsErrorDetails().errorMessage())
                .isEqualTo("The sandbox's host has 1 cores; one t3.large asks for 2 vCPUs.");
          });
      assertThat(small.describeInstances().reservations()).as("the sandbox still serves").isEmpty();
    }
  }

  @Test
  void launchesBeyondMaxVcpusAreRefusedAndOneUpToItGetsWhatFits() {
    JsonObject capacity = admin.capacity();
    double max = capacity.getDouble("maxVcpus");
    double free = max - capacity.getDouble("committedVcpus");
    int beyond = (int) Math.floor(free / 0.25) + 1;
    assertThatThrownBy(() -> ec2.runInstances(b -> b.imageId(SLEEPER).minCount(beyond).maxCount(beyond)))
        .isInstanceOfSatisfying(Ec2Exception.class, e -> {
          assertThat(e.statusCode()).isEqualTo(500);
          assertThat(e.awsErrorDetails().errorCode()).isEqualTo("InsufficientInstanceCapacity");
          assertThat(e.awsErrorDetails().errorMessage()).contains("of the sandbox's " + InstanceTypes.format(max)
              + " vCPUs (--max-vcpus); this launch asks for at least " + beyond + " x t3.micro");
        });
    assertThat(ec2.describeInstances().reservations()).as("the sandbox still serves").isNotNull();

    List<String> launched = ec2.runInstances(b -> b.imageId(SLEEPER).minCount(1).maxCount(100)
        .instanceType("t3.small")).instances().stream().map(Instance::instanceId).toList();
    assertThat(launched).as("t3.small instances in %s free vCPUs", free).hasSize((int) Math.floor(free / 0.5));
    assertThat(admin.capacity().getDouble("committedVcpus")).isEqualTo(max - free + launched.size() * 0.5);
    ec2.terminateInstances(b -> b.instanceIds(launched));
    It.waiter(ec2).waitUntilInstanceTerminated(b -> b.instanceIds(launched));
  }

  /** The sandbox's capacity report; the test fails with its reason when capacity is not enforced. */
  private static JsonObject enforcedCapacity() {
    JsonObject capacity = admin.capacity();
    if (!capacity.getBoolean("enforced")) {
      fail("capacity is not enforced on this machine: " + capacity.getString("why"));
    }
    return capacity;
  }

  private static List<Long> processesIn(Path group) {
    try {
      return Files.readAllLines(group.resolve("cgroup.procs")).stream().map(Long::parseLong).toList();
    } catch (IOException e) {
      throw new AssertionError("cannot read " + group, e);
    }
  }

  /** The agent's latest load reading, -1 while it has none. */
  private static double load(int agentPort) {
    HttpReply health = It.get(agentPort, "/health");
    Double load = health == null ? null : new JsonObject(health.body()).getDouble("load");
    return load == null ? -1 : load;
  }

  private static long pid(JsonObject view, String process) {
    return view.getJsonArray("processes").stream().map(JsonObject.class::cast)
        .filter(p -> p.getString("name").equals(process)).findFirst().orElseThrow().getLong("pid");
  }

  /**
   * The path of the process's group in the hierarchy that holds the quota, read from {@code /proc/PID/cgroup}
   * ({@code ID:CONTROLLERS:PATH} lines; v2's is {@code 0::PATH}).
   */
  private static String cpuGroupOf(long pid, JsonObject capacity) throws IOException {
    boolean v1 = capacity.getString("layout").equals("v1");
    return Files.readAllLines(Path.of("/proc", Long.toString(pid), "cgroup")).stream()
        .map(line -> line.split(":", 3))
        .filter(f -> v1 ? List.of(f[1].split(",")).contains("cpu") : f[0].equals("0") && f[1].isEmpty())
        .map(f -> f[2]).findFirst().orElseThrow();
  }

  /** GETs of {@code /?work=WORK_MS} at a fixed rate (open loop), with at most 64 waiting for an answer. */
  private static final class Load implements AutoCloseable {

    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final AtomicInteger inFlight = new AtomicInteger();
    final AtomicInteger answered = new AtomicInteger();

    static Load start(int port, double perSecond) {
      Load load = new Load();
      HttpRequest request = Http.request(Http.local(port, "/?work=" + WORK_MS)).timeout(Duration.ofSeconds(30)).build();
      load.timer.scheduleAtFixedRate(() -> {
        if (load.inFlight.get() < 64) {
          load.inFlight.incrementAndGet();
          Http.client().sendAsync(request, HttpResponse.BodyHandlers.discarding()).whenComplete((response, err) -> {
            load.inFlight.decrementAndGet();
            if (err == null && response.statusCode() == 200) {
              load.answered.incrementAndGet();
            }
          });
        }
      }, 0, Math.round(1_000_000 / perSecond), TimeUnit.MICROSECONDS);
      return load;
    }

    @Override
    public void close() throws InterruptedException {
      timer.shutdownNow();
      timer.awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
