package io.fleetvote.bench;

import io.fleetvote.common.cli.CommandLine;
import io.fleetvote.common.net.FreePorts;
import io.fleetvote.testkit.Await;
import io.fleetvote.testkit.LocalJson;
import io.fleetvote.testkit.ManagedProcess;
import io.fleetvote.testkit.SandboxProcess;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code ./fleetvote bench agent-fleet}: N simulated agents (the agent's own {@code CoordinatorLink}, one attested TLS
 * connection each, for N real but idle sandbox instances) on one coordinator process, each sending a heartbeat and a
 * vote every second, spread over the second. Measured over a window, from the coordinator process: its CPU (utime +
 * stime over the window), its RSS, its tally's tick p99 and the p99 from a vote's sending to its being counted (its
 * own metrics), and how many connections its gateway holds per agent. Prints one row per N, beside the Hazelcast
 * membership cost measured before agents left the cluster (issue 11).
 */
public final class AgentFleetBench {

  private static final String GROUP = "web";
  /** A group holds at most this many instances (the groups file's range): a larger fleet is spread over groups. */
  private static final int GROUP_MAX = 1000;
  private static final Pattern QUANTILE = Pattern.compile("^%s\\{[^}]*quantile=\"%s\"[^}]*} ([0-9.eE+-]+)$");

  private AgentFleetBench() {
  }

  public static void main(String[] args) throws Exception {
    CommandLine cli = BenchSupport.withSmoke(new CommandLine("bench agent-fleet",
        "N simulated agents (one attested TLS connection each, a heartbeat and a vote per second) on one "
            + "coordinator: its CPU, RSS, tick p99, vote -> tally p99, connections per agent.")
        .option("agents", "LIST", "comma-separated fleet sizes (over groups of at most " + GROUP_MAX + ")",
            "1000,5000")
        .option("seconds", "S", "the measuring window, once every agent is connected and voting", "30"));
    record Settings(List<Integer> sizes, int seconds, boolean smoke) {
    }
    Settings settings = cli.parseOrExit(args, p -> new Settings(p.flag("smoke") ? List.of(20)
        : Arrays.stream(p.string("agents").split(",")).map(String::trim).map(Integer::parseInt).toList(),
        p.flag("smoke") ? 3 : BenchSupport.count(p, "seconds", 5, 3600, 3), p.flag("smoke")));
    List<String> rows = new ArrayList<>();
    try {
      for (int agents : settings.sizes()) {
        rows.add(run(agents, settings.seconds()));
      }
    } catch (Exception e) {
      e.printStackTrace();
      System.exit(1);
    }
    System.out.printf(Locale.ROOT, "%n%-8s %12s %10s %10s %14s %12s %14s%n", "agents", "CPU % core", "RSS MiB",
        "tick p99", "vote->tally p99", "votes/s", "conns/agent");
    rows.forEach(System.out::println);
    System.out.printf(Locale.ROOT, "%nfor comparison, Hazelcast lite members (the agents before, ClusterBootstrap, one "
        + "JVM, idle): 5 -> 48 connection ends, 12.6 %% of a core; 20 -> 670, 26 %%; 40 -> 2,298, 65 %%; 80 did not "
        + "converge in 3 minutes. %d cores; the simulated agents run in this JVM on the same cores.%n",
        Runtime.getRuntime().availableProcessors());
    System.exit(0);
  }

  private static String run(int agents, int seconds) throws IOException, InterruptedException {
    Path dir = Files.createTempDirectory("fleetvote-bench-agents-");
    Path images = BenchSupport.idleImages(dir);
    // web (or web-1 .. web-K, each of at most GROUP_MAX)
    int count = (agents + GROUP_MAX - 1) / GROUP_MAX;
    Map<String, Integer> sizes = new LinkedHashMap<>();
    for (int g = 0; g < count; g++) {
      sizes.put(count == 1 ? GROUP : GROUP + "-" + (g + 1), agents * (g + 1) / count - agents * g / count);
    }
    Path groups = BenchSupport.idleGroups(dir, sizes);
    int apiPort = FreePorts.pick();
    System.out.printf("%d agents: launching %d idle instances in the sandbox (groups %s) ...%n", agents, agents,
        sizes);
    try (SandboxProcess sandbox = SandboxProcess.start(dir.resolve("sandbox"), "--images", images.toString(),
             "--max-instances", Integer.toString(agents + 10), "--max-vcpus", Integer.toString(agents + 10));
         ManagedProcess coordinator = BenchSupport.coordinator(dir, sandbox, groups, "bench-agents-" + System.nanoTime(),
             FreePorts.pick(), apiPort, 1000, 5000)) {
      Map<String, List<String>> byGroup = Await.until("the coordinator counting " + agents + " instances",
          Duration.ofMinutes(20), Duration.ofMillis(500), () -> instances(apiPort, sizes.keySet()),
          g -> sizes.entrySet().stream().allMatch(e -> g.getOrDefault(e.getKey(), List.of()).size() == e.getValue()));
      List<String> ids = byGroup.values().stream().flatMap(List::stream).toList();
      System.out.printf("%d instances running; connecting %d simulated agents ...%n", agents, agents);
      long connecting = System.nanoTime();
      try (SimulatedAgents links = SimulatedAgents.connect(sandbox.admin(), ids, Duration.ofMinutes(20))) {
        System.out.printf("%d agents attested and connected in %d ms; voting ...%n", agents,
            Duration.ofNanos(System.nanoTime() - connecting).toMillis());
        links.speak(byGroup, "bench");
        Await.until("every agent's vote counted", Duration.ofMinutes(2), Duration.ofMillis(500),
            () -> sizes.keySet().stream().mapToInt(g -> BenchSupport.votesCounted(apiPort, g).orElse(0)).sum(),
            counted -> counted == agents);
        long pid = coordinator.pid();
        long ticksBefore = cpuTicks(pid);
        long before = System.nanoTime();
        Thread.sleep(seconds * 1000L);
        double wall = (System.nanoTime() - before) / 1e9;
        double cpu = (cpuTicks(pid) - ticksBefore) / 100.0 / wall * 100;
        String metrics = LocalJson.text(apiPort, "/metrics").orElse("");
        double tick = quantile(metrics, "fleetvote_coordinator_tick_seconds", "0.99") * 1000;
        double vote = quantile(metrics, "fleetvote_coordinator_vote_delay_seconds", "0.99") * 1000;
        double connections = gauge(metrics, "fleetvote_gateway_connections");
        return String.format(Locale.ROOT, "%-8d %12.1f %10.0f %10.1f %11.1f ms %12d %14.2f", agents, cpu,
            rssMib(pid), tick, vote, agents, connections / agents);
      } finally {
        coordinator.stop();
        try {
          sandbox.admin().terminateAll();
        } catch (RuntimeException e) {
          // The sandbox's close kills what is left; a failure here must not hide the run's own.
          System.out.println("terminate-all: " + e.getMessage() + "; the sandbox's close stops the instances");
        }
      }
    }
  }

  /** The instances the coordinator counts in each of {@code groups}. */
  private static Map<String, List<String>> instances(int apiPort, Collection<String> groups) {
    Map<String, List<String>> byGroup = new LinkedHashMap<>();
    for (String group : groups) {
      BenchSupport.group(apiPort, group).ifPresent(g -> byGroup.put(group, g.getJsonArray("instances").stream()
          .map(String.class::cast).toList()));
    }
    return byGroup;
  }

  private static long cpuTicks(long pid) throws IOException {
    String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
  }

  private static double rssMib(long pid) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("\\D", "")) / 1024.0;
      }
    }
    return Double.NaN;
  }

  private static double quantile(String metrics, String name, String quantile) {
    Pattern line = Pattern.compile(String.format(QUANTILE.pattern(), Pattern.quote(name), Pattern.quote(quantile)));
    return metrics.lines().map(line::matcher).filter(Matcher::matches).mapToDouble(m -> Double.parseDouble(m.group(1)))
        .max().orElse(Double.NaN);
  }

  private static double gauge(String metrics, String name) {
    Pattern line = Pattern.compile("^" + Pattern.quote(name) + "(\\{[^}]*})? ([0-9.eE+-]+)$");
    return metrics.lines().map(line::matcher).filter(Matcher::matches).mapToDouble(m -> Double.parseDouble(m.group(2)))
        .sum();
  }
}
