package io.fleetvote.bench;

import io.fleetvote.common.Addresses;
import io.fleetvote.common.cli.CommandLine;
import io.fleetvote.common.msg.Vote;
import io.fleetvote.common.msg.VoteKind;
import io.fleetvote.common.net.FreePorts;
import io.fleetvote.testkit.Ec2Clients;
import io.fleetvote.testkit.ManagedProcess;
import io.fleetvote.testkit.SandboxProcess;
import software.amazon.awssdk.services.ec2.Ec2Client;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Majority reached -> RunInstances issued, with a real coordinator process and a real sandbox. The group holds two
 * idle instances (no agents); this benchmark votes for them through the coordinator's agent gateway, as their agents
 * would (one attested connection each). Each trial: both vote none, then both grow; the clock starts when the second
 * grow vote (the one that makes the majority, published once the first is counted) is published and stops when the sandbox receives the RunInstances it causes. The new instance is then terminated
 * and the group settles back before the next trial.
 */
public final class MajorityToLaunchBench {

  private static final String GROUP = "bench";

  private MajorityToLaunchBench() {
  }

  public static void main(String[] args) throws Exception {
    CommandLine cli = BenchSupport.withSmoke(new CommandLine("bench majority-to-launch",
        "Times majority of grow votes -> RunInstances at the sandbox, through a real coordinator.")
        .option("trials", "N", "how many grows to time", "30")
        .option("warmup", "N", "grows before the timed ones (JIT, first SDK call), not counted", "3"));
    int[] counts = cli.parseOrExit(args, p -> new int[] {BenchSupport.count(p, "trials", 1, 1000, 1),
        BenchSupport.count(p, "warmup", 0, 100, 0)});
    Path dir = Files.createTempDirectory("fleetvote-bench-majority-");
    Path images = BenchSupport.idleImages(dir);
    Path groups = BenchSupport.idleGroup(dir, GROUP, 2, 3);
    int clusterPort = FreePorts.pick();
    int apiPort = FreePorts.pick();
    String cluster = "bench-majority-" + System.nanoTime();
    try (SandboxProcess sandbox = SandboxProcess.start(dir.resolve("sandbox"), "--images", images.toString());
         Ec2Client ec2 = Ec2Clients.sync(sandbox.endpoint());
         ManagedProcess coordinator = BenchSupport.coordinator(dir, sandbox, groups, cluster, clusterPort, apiPort,
             1000, 1000)) {
      awaitCondition("the group at 2", () -> groupSettled(apiPort));
      try (SimulatedAgents agents = SimulatedAgents.connect(sandbox.admin(), members(apiPort), Duration.ofSeconds(60))) {
        run(counts[0], counts[1], sandbox, ec2, apiPort, agents);
      }
    }
  }

  private static void run(int trials, int warmup, SandboxProcess sandbox, Ec2Client ec2, int apiPort,
                          SimulatedAgents voter) {
    List<String> voters = members(apiPort);
    Map<String, VoteKind> votes = new ConcurrentHashMap<>();
    voters.forEach(id -> votes.put(id, VoteKind.NONE));
    long startedAt = System.currentTimeMillis();
    voter.vertx().setPeriodic(0, 500, t -> votes.forEach((id, kind) -> publish(voter, id, kind, startedAt)));
    List<Long> micros = new ArrayList<>();
    System.out.printf(Locale.ROOT, "%-6s %16s  %s%n", "trial", "majority->RunInstances", "launched");
    for (int trial = 1 - warmup; trial <= trials; trial++) {
      awaitCondition("the group at 2 with none voting grow", () -> groupSettled(apiPort));
      Set<String> before = Set.copyOf(sandbox.admin().instances().stream().map(i -> i.getString("instanceId")).toList());
      votes.put(voters.get(0), VoteKind.GROW);
      publish(voter, voters.get(0), VoteKind.GROW, startedAt);
      // Two agents, two connections: the second vote is the majority only once the first is counted.
      awaitCondition("the first grow vote counted", () -> BenchSupport.group(apiPort, GROUP)
          .map(g -> g.getJsonObject("votes").getInteger("grow") == 1).orElse(false));
      votes.put(voters.get(1), VoteKind.GROW);
      Instant majority = Instant.now();
      publish(voter, voters.get(1), VoteKind.GROW, startedAt);
      String launched = awaitValue("the RunInstances the majority causes", () -> sandbox.admin().instances().stream()
          .map(i -> i.getString("instanceId")).filter(id -> !before.contains(id)).findFirst());
      Instant received = Instant.parse(sandbox.admin().instance(launched).getString("launchTime"));
      long took = Duration.between(majority, received).toNanos() / 1000;
      if (trial > 0) {
        micros.add(took);
      }
      System.out.printf(Locale.ROOT, "%-6s %13.1f ms  %s%n", trial > 0 ? trial : "warmup", took / 1000.0, launched);
      votes.put(voters.get(0), VoteKind.NONE);
      votes.put(voters.get(1), VoteKind.NONE);
      voters.forEach(id -> publish(voter, id, VoteKind.NONE, startedAt));
      ec2.terminateInstances(b -> b.instanceIds(launched));
    }
    long[] sorted = micros.stream().mapToLong(Long::longValue).sorted().toArray();
    System.out.printf(Locale.ROOT, "%nmajority -> RunInstances over %d trials: p50 %.1f ms, p99 %.1f ms, min %.1f, "
            + "max %.1f; target p99 <= 100 ms (%d cores)%n", sorted.length, sorted[sorted.length / 2] / 1000.0,
        sorted[Math.max(0, (int) Math.ceil(0.99 * sorted.length) - 1)] / 1000.0, sorted[0] / 1000.0,
        sorted[sorted.length - 1] / 1000.0, Runtime.getRuntime().availableProcessors());
  }

  private static void publish(SimulatedAgents voter, String instanceId, VoteKind kind, long startedAt) {
    voter.publish(instanceId, Addresses.VOTES, new Vote(instanceId, "bench", GROUP, kind, kind == VoteKind.GROW ? 90 : 40,
        true, false, startedAt, System.currentTimeMillis(), 3000).toJson());
  }

  private static boolean groupSettled(int apiPort) {
    return BenchSupport.group(apiPort, GROUP).map(g -> g.getInteger("size") == 2 && g.getInteger("launchesInFlight") == 0)
        .orElse(false);
  }

  private static List<String> members(int apiPort) {
    return BenchSupport.group(apiPort, GROUP).orElseThrow().getJsonArray("instances").stream().map(String.class::cast)
        .toList();
  }

  private static void awaitCondition(String what, BooleanSupplier condition) {
    BenchSupport.await(what, Duration.ofSeconds(60), condition);
  }

  private static <T> T awaitValue(String what, Supplier<Optional<T>> probe) {
    return BenchSupport.await(what, Duration.ofSeconds(60), probe);
  }
}
