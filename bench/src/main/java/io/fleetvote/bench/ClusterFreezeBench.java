package io.fleetvote.bench;

import com.hazelcast.map.IMap;
import io.fleetvote.common.FleetvoteHome;
import io.fleetvote.common.cli.CommandLine;
import io.fleetvote.common.cluster.ClusterBootstrap;
import io.fleetvote.common.cluster.ClusterOptions;
import io.fleetvote.common.cluster.JvmFlags;
import io.fleetvote.common.net.FreePorts;
import io.fleetvote.testkit.Await;
import io.fleetvote.testkit.ManagedProcess;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code ./fleetvote bench cluster-freeze}: three members of one cluster, built as every coordinator builds its own
 * ({@link ClusterBootstrap}), and busy loops beside them (a slower, busier machine than this one). Each trial freezes
 * the oldest member, Hazelcast's master (SIGSTOP: its sockets stay open, as in a long pause), and looks, once the
 * heartbeat timeout and 12 s more have passed, at the member count each survivor sees: together (2 and 2) or split.
 * A split is what leaves the coordinators without a quorum for as long as the frozen one stays frozen: Hazelcast did
 * not merge two survivors while a frozen member held its connections. Prints one row per trial and the splits per
 * heartbeat timeout compared ({@link ClusterOptions#DEFAULT_MAX_NO_HEARTBEAT_SECONDS} is chosen from it).
 */
public final class ClusterFreezeBench {

  private static final Duration SETTLE_AFTER_TIMEOUT = Duration.ofSeconds(12);

  private ClusterFreezeBench() {
  }

  private record Settings(List<Integer> timeouts, int trials, int busy) {
  }

  /** What a trial saw: the member count of each survivor at its end, and their CPU once the timeout had passed. */
  private record Trial(List<Integer> seen, List<Integer> cpuPercent) {
  }

  public static void main(String[] args) {
    if (args.length > 0 && "member".equals(args[0])) {
      member(Arrays.copyOfRange(args, 1, args.length));
      return;
    }
    CommandLine cli = BenchSupport.withSmoke(new CommandLine("bench cluster-freeze",
        "Three cluster members beside busy loops; the oldest (Hazelcast's master) is frozen: do the other two stay "
            + "one cluster? Trials per heartbeat timeout.")
        .option("timeouts", "LIST", "heartbeat timeouts to compare, in seconds (hazelcast.max.no.heartbeat.seconds)",
            "5," + ClusterOptions.DEFAULT_MAX_NO_HEARTBEAT_SECONDS)
        .option("trials", "N", "trials per timeout", "8")
        .option("busy", "N", "busy loops beside the members, each a thread that never sleeps", "3"));
    Settings settings = cli.parseOrExit(args, p -> new Settings(Arrays.stream(p.string("timeouts").split(","))
        .map(s -> Integer.parseInt(s.strip())).toList(), BenchSupport.count(p, "trials", 1, 100, 1),
        BenchSupport.count(p, "busy", 0, 16, 3)));
    BenchSupport.runAndExit(() -> run(settings));
  }

  private static void run(Settings settings) throws Exception {
    Path dir = Files.createTempDirectory("fleetvote-bench-cluster-freeze-");
    System.out.printf("3 members, %d busy loop(s) on %d cores; logs in %s%n%n%-9s %-6s %-9s %-26s %s%n",
        settings.busy(), Runtime.getRuntime().availableProcessors(), dir, "timeout", "trial", "outcome",
        "members each survivor sees", "survivors' CPU (% of a core) in the last 12 s");
    List<String> summary = new ArrayList<>();
    for (int timeout : settings.timeouts()) {
      int splits = 0;
      for (int t = 1; t <= settings.trials(); t++) {
        Trial trial = trial(dir.resolve("t" + timeout + "-" + t), timeout, settings.busy());
        boolean together = trial.seen().stream().allMatch(n -> n == 2);
        splits += together ? 0 : 1;
        System.out.printf(Locale.ROOT, "%-9s %-6d %-9s %-26s %s%n", timeout + " s", t, together ? "together" : "split",
            trial.seen(), trial.cpuPercent());
      }
      summary.add(String.format(Locale.ROOT, "heartbeat timeout %d s: %d split(s) in %d trial(s)", timeout, splits,
          settings.trials()));
    }
    System.out.println();
    summary.forEach(System.out::println);
    System.out.println("target: no split (a split leaves the coordinators without a quorum while the frozen one is "
        + "frozen); the default is " + ClusterOptions.DEFAULT_MAX_NO_HEARTBEAT_SECONDS + " s");
  }

  /**
   * One trial: the members seen by each survivor once the frozen master's timeout and the settling time passed, and
   * the survivors' CPU over the settling time.
   */
  private static Trial trial(Path dir, int timeout, int busy) throws Exception {
    Files.createDirectories(dir);
    List<Integer> ports = List.of(FreePorts.pick(), FreePorts.pick(), FreePorts.pick());
    String members = String.join(",", ports.stream().map(p -> "127.0.0.1:" + p).toList());
    String cluster = "bench-cluster-freeze-" + System.nanoTime();
    List<Process> processes = new ArrayList<>();
    AtomicBoolean spinning = new AtomicBoolean(true);
    List<Thread> loops = new ArrayList<>();
    // SIGTERM runs no finally block: the members (a frozen one too) are stopped by this hook then.
    Thread stopMembers = new Thread(() -> stop(processes));
    Runtime.getRuntime().addShutdownHook(stopMembers);
    try {
      for (int i = 0; i < 3; i++) {
        processes.add(new ProcessBuilder(ManagedProcess.java(FleetvoteHome.dir(), "bench/target/fleetvote-bench.jar",
            ClusterFreezeBench.class.getName(), JvmFlags.HAZELCAST, List.of("member", cluster,
                Integer.toString(ports.get(i)), members, Integer.toString(timeout))))
            .redirectErrorStream(true).redirectOutput(dir.resolve("m" + i + ".log").toFile()).start());
        if (i == 0) {
          // The first is the oldest member: Hazelcast's master.
          awaitSeen(dir, 0, 1);
        }
      }
      for (int i = 0; i < 3; i++) {
        awaitSeen(dir, i, 3);
      }
      for (int b = 0; b < busy; b++) {
        Thread loop = new Thread(() -> {
          while (spinning.get()) {
            // A core's worth of CPU until the trial ends (the flag is read on every turn).
          }
        }, "busy-" + b);
        loop.setDaemon(true);
        loop.start();
        loops.add(loop);
      }
      signal(processes.get(0).pid(), "STOP");
      Thread.sleep(TimeUnit.SECONDS.toMillis(timeout));
      long[] before = {cpuTicks(processes.get(1).pid()), cpuTicks(processes.get(2).pid())};
      Thread.sleep(SETTLE_AFTER_TIMEOUT.toMillis());
      List<Integer> cpu = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        // Clock ticks of 10 ms (USER_HZ 100), as a percentage of the settling time.
        long millis = (cpuTicks(processes.get(i + 1).pid()) - before[i]) * 10;
        cpu.add((int) (millis * 100 / SETTLE_AFTER_TIMEOUT.toMillis()));
      }
      return new Trial(List.of(lastSeen(dir, 1).orElse(-1), lastSeen(dir, 2).orElse(-1)), cpu);
    } finally {
      spinning.set(false);
      for (Thread loop : loops) {
        loop.join();
      }
      stop(processes);
      Runtime.getRuntime().removeShutdownHook(stopMembers);
    }
  }

  /** Thaws and kills each member, and waits for it to be gone. */
  private static void stop(List<Process> processes) {
    for (Process process : List.copyOf(processes)) {
      try {
        signal(process.pid(), "CONT");
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
      } catch (IOException | InterruptedException e) {
        process.destroyForcibly();
      }
    }
  }

  private static void awaitSeen(Path dir, int member, int count) {
    Await.until("member " + member + " seeing " + count + " member(s)", Duration.ofSeconds(60),
        Duration.ofMillis(100), () -> lastSeen(dir, member), seen -> seen.isPresent() && seen.get() == count);
  }

  /** The member count member {@code i} printed last ("members N" lines in its log). */
  private static Optional<Integer> lastSeen(Path dir, int i) {
    try {
      List<String> lines = Files.readAllLines(dir.resolve("m" + i + ".log"));
      for (int l = lines.size() - 1; l >= 0; l--) {
        if (lines.get(l).startsWith("members ")) {
          return Optional.of(Integer.parseInt(lines.get(l).substring("members ".length()).strip()));
        }
      }
      return Optional.empty();
    } catch (IOException | NumberFormatException e) {
      return Optional.empty();
    }
  }

  /** User and system CPU time of process {@code pid} so far, in clock ticks ({@code /proc/PID/stat}). */
  private static long cpuTicks(long pid) throws IOException {
    String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    // After the command: state is field 3, utime 14 and stime 15 of the whole line.
    return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
  }

  private static void signal(long pid, String signal) throws IOException, InterruptedException {
    new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start().waitFor();
  }

  /**
   * A member: joins {@code cluster} as every coordinator does, uses its maps, and prints the member count it sees
   * every 250 ms.
   */
  private static void member(String[] args) {
    ClusterOptions options = new ClusterOptions().setClusterName(args[0]).setPort(Integer.parseInt(args[1]))
        .setPortAutoIncrement(false).setMembers(List.of(args[2].split(",")))
        .setMaxNoHeartbeatSeconds(Integer.parseInt(args[3]));
    Vertx vertx;
    try {
      vertx = ClusterBootstrap.clustered(options, new VertxOptions()).toCompletionStage().toCompletableFuture().get();
    } catch (Exception e) {
      throw new IllegalStateException("joining " + args[0] + ": " + e.getMessage(), e);
    }
    // A coordinator's use of the cluster's maps: a few writes and reads every 100 ms, some on the frozen member's
    // partitions, which wait and are retried as a coordinator's would.
    IMap<String, Long> map = ClusterBootstrap.hazelcast(vertx).getMap("bench");
    long[] tick = {0};
    vertx.setPeriodic(100, id -> {
      tick[0]++;
      for (int k = 0; k < 4; k++) {
        map.setAsync(args[1] + "-" + k, tick[0]);
        map.getAsync("key-" + ((tick[0] + k) % 64));
      }
    });
    vertx.setPeriodic(250, id -> System.out.println("members " + ClusterBootstrap.memberCount(vertx)));
  }
}
