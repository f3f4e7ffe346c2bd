package io.fleetvote.bench;

import io.fleetvote.common.cli.CommandLine;
import io.fleetvote.common.msg.Vote;
import io.fleetvote.common.net.FreePorts;
import io.fleetvote.common.tls.ClusterKey;
import io.fleetvote.testkit.Await;
import io.fleetvote.testkit.ManagedProcess;
import io.fleetvote.testkit.SandboxProcess;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * {@code ./fleetvote bench link-failover}: the coordinator that holds the agents goes; how long until they are on the
 * other one, and how long the group's vote count stays short there. Two coordinator processes (one cluster, each with
 * its agent gateway) and N simulated agents (the agent's own {@code CoordinatorLink}, attested as N idle sandbox
 * instances; a heartbeat and a vote a second, a vote's lease the agent's: three seconds and the link's lease). Each
 * trial takes the coordinator that holds the most agents away, by SIGKILL (its connections reset at once) or by SIGSTOP (a stalled
 * VM: its sockets stay open, only the link's lease can tell), and polls every 20 ms: each agent's coordinator, and the
 * survivor's count of the group's live votes. Then the coordinator is started again (a frozen one is killed first)
 * and counts every vote before the next trial, which takes the other one away. Prints one row per trial, then
 * medians and maxima against the targets: each agent on the other coordinator within one heartbeat lease, and the
 * vote count never short for longer than one lease.
 */
public final class LinkFailoverBench {

  private static final String GROUP = "web";
  /** The agent gateway's heartbeat lease (its default, {@code GatewayOptions.DEFAULT_LEASE_MILLIS}). */
  private static final long LEASE_MILLIS = 3000;
  private static final Duration POLL = Duration.ofMillis(20);
  /** How long the count must stay full, once every agent moved, for the trial to end: past a vote's lease. */
  private static final Duration SETTLED = Duration.ofSeconds(4);
  private static final Duration TRIAL_TIMEOUT = Duration.ofSeconds(60);

  private LinkFailoverBench() {
  }

  private record Settings(int agents, int kills, int freezes) {
  }

  /** One trial: how the agents moved and how the survivor's count went. */
  private record Trial(String kind, String from, int moved, long moveMedian, long moveMax, long shortMillis,
                       int lowest) {
  }

  public static void main(String[] args) {
    CommandLine cli = BenchSupport.withSmoke(new CommandLine("bench link-failover",
        "The coordinator holding N simulated agents is killed (SIGKILL) or frozen (SIGSTOP): time for each agent to "
            + "be on the other coordinator, and how long the group's vote count is short there.")
        .option("agents", "N", "simulated agents (each a real idle sandbox instance)", "50")
        .option("kills", "N", "trials by SIGKILL", "10")
        .option("freezes", "N", "trials by SIGSTOP", "5"));
    Settings settings = cli.parseOrExit(args, p -> new Settings(BenchSupport.count(p, "agents", 1, 500, 5),
        // The smoke: one freeze, the harder case (only the lease's silence tells); LinkFailoverIT has both.
        BenchSupport.count(p, "kills", 0, 100, 0), BenchSupport.count(p, "freezes", 0, 100, 1)));
    BenchSupport.runAndExit(() -> run(settings));
  }

  private static void run(Settings settings) throws Exception {
    int agents = settings.agents();
    Path dir = Files.createTempDirectory("fleetvote-bench-link-failover-");
    Path images = BenchSupport.idleImages(dir);
    Path groups = BenchSupport.idleGroup(dir, GROUP, agents, agents);
    Path key = dir.resolve("cluster-key.p12");
    ClusterKey.make(key);
    String cluster = "bench-link-failover-" + System.nanoTime();
    List<Integer> clusterPorts = List.of(FreePorts.pick(), FreePorts.pick());
    List<Integer> apiPorts = List.of(FreePorts.pick(), FreePorts.pick());
    List<Integer> gatewayPorts = List.of(FreePorts.pick(), FreePorts.pick());
    System.out.printf("%d agents on 2 coordinators (APIs %s): launching %d idle instances ...%n", agents, apiPorts,
        agents);
    try (SandboxProcess sandbox = SandboxProcess.start(dir.resolve("sandbox"), "--images", images.toString(),
        "--max-instances", Integer.toString(agents + 10), "--max-vcpus", Integer.toString(agents + 10))) {
      ManagedProcess[] coordinators = new ManagedProcess[2];
      try {
        for (int i = 0; i < 2; i++) {
          coordinators[i] = start(dir, i, sandbox, groups, cluster, clusterPorts, apiPorts, gatewayPorts, key);
        }
        List<String> ids = Await.until("group web's " + agents + " instances", Duration.ofMinutes(10),
            Duration.ofMillis(500), () -> BenchSupport.group(apiPorts.get(0), GROUP).map(g -> g.getJsonArray(
                "instances").stream().map(String.class::cast).toList()), g -> g.isPresent() && g.get().size() == agents)
            .orElseThrow();
        try (SimulatedAgents links = SimulatedAgents.connect(sandbox.admin(), ids, Duration.ofMinutes(10))) {
          links.speak(ids, "bench", GROUP);
          for (int api : apiPorts) {
            awaitFullCount(api, agents);
          }
          awaitKnown(links, gatewayPorts);
          System.out.printf("%n%-6s %-7s %-12s %6s %12s %10s %14s %8s%n", "trial", "how", "from", "moved",
              "move p50 ms", "move max", "count short ms", "lowest");
          List<Trial> trials = new ArrayList<>();
          for (int t = 0; t < settings.kills() + settings.freezes(); t++) {
            boolean kill = t < settings.kills();
            Trial trial = trial(links, ids, coordinators, apiPorts, kill);
            trials.add(trial);
            System.out.printf(Locale.ROOT, "%-6d %-7s %-12s %6d %12d %10d %14d %8d%n", t + 1, trial.kind(),
                trial.from(), trial.moved(), trial.moveMedian(), trial.moveMax(), trial.shortMillis(), trial.lowest());
            int victim = index(apiPorts, trial.from());
            coordinators[victim].kill();
            if (t + 1 < settings.kills() + settings.freezes()) {
              // Back for the next trial (after the last, nothing needs it).
              coordinators[victim] = start(dir, victim, sandbox, groups, cluster, clusterPorts, apiPorts,
                  gatewayPorts, key);
              awaitFullCount(apiPorts.get(victim), agents);
              awaitKnown(links, gatewayPorts);
            }
          }
          report(trials, agents);
        }
      } finally {
        for (ManagedProcess coordinator : coordinators) {
          if (coordinator != null) {
            coordinator.close();
          }
        }
        try {
          sandbox.admin().terminateAll();
        } catch (RuntimeException e) {
          System.out.println("terminate-all: " + e.getMessage() + "; the sandbox's close stops the instances");
        }
      }
    }
  }

  private static ManagedProcess start(Path dir, int i, SandboxProcess sandbox, Path groups, String cluster,
                                      List<Integer> clusterPorts, List<Integer> apiPorts, List<Integer> gatewayPorts,
                                      Path key) {
    return BenchSupport.coordinator(dir, "c" + i, sandbox, groups, cluster, clusterPorts.get(i), clusterPorts,
        apiPorts.get(i), List.of("--coordinators", "2", "--cluster-key", key.toString(), "--tick-ms", "1000",
            "--fleet-refresh-ms", "5000", "--agent-host", "127.0.0.1", "--agent-port",
            Integer.toString(gatewayPorts.get(i)), "--identity-certificate", sandbox.identityCertificate().toString()));
  }

  private static void awaitFullCount(int apiPort, int agents) {
    Await.until("the coordinator of API port " + apiPort + " counting all " + agents + " votes", Duration.ofMinutes(3),
        Duration.ofMillis(200), () -> BenchSupport.votesCounted(apiPort, GROUP),
        counted -> counted.isPresent() && counted.get() == agents);
  }

  /**
   * Until every agent knows both gateways: a trial measures the move to a coordinator the agents know of, not how
   * soon they hear of one that has just come (a coordinator's directory push, in its welcome or after).
   */
  private static void awaitKnown(SimulatedAgents links, List<Integer> gatewayPorts) {
    List<String> gateways = gatewayPorts.stream().map(p -> "127.0.0.1:" + p).toList();
    Await.until("every agent knowing both gateways " + gateways, Duration.ofMinutes(1), Duration.ofMillis(100),
        links::known, known -> known.values().stream().allMatch(k -> k.containsAll(gateways)));
  }

  /** Takes away the coordinator that holds the most agents, and watches them move and the survivor count. */
  private static Trial trial(SimulatedAgents links, List<String> ids, ManagedProcess[] coordinators,
                             List<Integer> apiPorts, boolean kill) {
    Map<String, String> before = links.coordinators();
    Map<String, Integer> held = new HashMap<>();
    before.values().forEach(c -> held.merge(c, 1, Integer::sum));
    String from = held.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
    int victim = index(apiPorts, from);
    int survivorApi = apiPorts.get(1 - victim);
    String survivor = "127.0.0.1:" + survivorApi;
    List<String> moving = ids.stream().filter(id -> from.equals(before.get(id))).toList();
    Map<String, Long> movedAt = new HashMap<>();

    long began = System.nanoTime();
    if (kill) {
      coordinators[victim].kill();
    } else {
      signal(coordinators[victim].pid(), "STOP");
    }
    long shortSince = -1;
    long shortMillis = 0;
    int lowest = ids.size();
    long fullSince = -1;
    while (true) {
      long now = System.nanoTime();
      long elapsed = (now - began) / 1_000_000;
      if (elapsed > TRIAL_TIMEOUT.toMillis()) {
        throw new IllegalStateException((kill ? "killed" : "frozen") + " coordinator " + from + ": after "
            + TRIAL_TIMEOUT.toSeconds() + " s " + movedAt.size() + " of " + moving.size() + " agents on " + survivor
            + ", its count " + BenchSupport.votesCounted(survivorApi, GROUP).orElse(-1));
      }
      Map<String, String> on = links.coordinators();
      for (String id : moving) {
        if (!movedAt.containsKey(id) && survivor.equals(on.get(id))) {
          movedAt.put(id, elapsed);
        }
      }
      Optional<Integer> counted = BenchSupport.votesCounted(survivorApi, GROUP);
      if (counted.isPresent()) {
        int count = counted.get();
        lowest = Math.min(lowest, count);
        if (count < ids.size()) {
          shortSince = shortSince < 0 ? now : shortSince;
          fullSince = -1;
        } else {
          if (shortSince >= 0) {
            shortMillis = Math.max(shortMillis, (now - shortSince) / 1_000_000);
            shortSince = -1;
          }
          fullSince = fullSince < 0 ? now : fullSince;
        }
      }
      if (movedAt.size() == moving.size() && fullSince >= 0 && now - fullSince >= SETTLED.toNanos()) {
        break;
      }
      sleep(POLL);
    }
    long[] moves = movedAt.values().stream().mapToLong(Long::longValue).sorted().toArray();
    return new Trial(kill ? "SIGKILL" : "SIGSTOP", from, moves.length, median(moves), moves[moves.length - 1],
        shortMillis, lowest);
  }

  private static void report(List<Trial> trials, int agents) {
    for (String kind : List.of("SIGKILL", "SIGSTOP")) {
      List<Trial> of = trials.stream().filter(t -> t.kind().equals(kind)).toList();
      if (of.isEmpty()) {
        continue;
      }
      long[] moveMax = of.stream().mapToLong(Trial::moveMax).sorted().toArray();
      long[] gaps = of.stream().mapToLong(Trial::shortMillis).sorted().toArray();
      System.out.printf(Locale.ROOT, "%n%s (%d trials, %d agents):%n", kind, of.size(), agents);
      long slowest = moveMax[moveMax.length - 1];
      if (kind.equals("SIGKILL")) {
        System.out.printf(Locale.ROOT, "  slowest agent on the other coordinator: median %d ms, max %d; target <= one "
            + "lease (%d ms): %s%n", median(moveMax), slowest, LEASE_MILLIS, slowest <= LEASE_MILLIS ? "meets" : "MISSES");
      } else {
        // A frozen coordinator keeps its sockets open: only the lease's silence tells, so the move comes after it.
        System.out.printf(Locale.ROOT, "  slowest agent on the other coordinator: median %d ms, max %d: the lease "
            + "(%d ms) of silence that tells a frozen coordinator, then at most %d ms to move%n", median(moveMax),
            slowest, LEASE_MILLIS, Math.max(0, slowest - LEASE_MILLIS));
      }
      System.out.printf(Locale.ROOT, "  group's vote count short on the survivor: median %d ms, max %d (lowest count "
          + "%d of %d); target <= one lease (%d ms): %s%n", median(gaps), gaps[gaps.length - 1],
          of.stream().mapToInt(Trial::lowest).min().orElse(agents), agents, LEASE_MILLIS,
          gaps[gaps.length - 1] <= LEASE_MILLIS ? "meets" : "MISSES");
    }
    System.out.printf("(%d cores; the link's lease %d ms, a vote's %d ms; polled every %d ms)%n",
        Runtime.getRuntime().availableProcessors(), LEASE_MILLIS, Vote.leaseMillis(1000, LEASE_MILLIS), POLL.toMillis());
  }

  private static int index(List<Integer> apiPorts, String coordinator) {
    for (int i = 0; i < apiPorts.size(); i++) {
      if (coordinator.equals("127.0.0.1:" + apiPorts.get(i))) {
        return i;
      }
    }
    throw new IllegalStateException("no coordinator of this benchmark is " + coordinator);
  }

  private static long median(long[] sorted) {
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  private static void signal(long pid, String signal) {
    try {
      if (new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start().waitFor() != 0) {
        throw new IllegalStateException("kill -" + signal + " " + pid + " failed");
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot signal " + pid + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static void sleep(Duration pause) {
    try {
      Thread.sleep(pause.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
