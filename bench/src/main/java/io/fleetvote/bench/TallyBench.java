package io.fleetvote.bench;

import io.fleetvote.common.msg.Vote;
import io.fleetvote.common.msg.VoteKind;
import io.fleetvote.coordinator.fleet.FleetInstance;
import io.fleetvote.coordinator.scaling.GroupConfig;
import io.fleetvote.coordinator.scaling.GroupFleet;
import io.fleetvote.coordinator.scaling.VoteTally;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The coordinator's per-vote and per-tick work at scale, in real time on one thread, as the scaling verticle does it:
 * N voters each send a vote per second (spread over the second, as JSON bytes off the bus: decoded, validated,
 * recorded), and every second the tally of each group decides. Prints the tick time percentiles and the CPU used.
 * Usage: {@code bench/tally [VOTERS ...]} (default 2000 10000), 30 s each after 5 s of warm-up; {@code --smoke}: 200
 * voters for 1 s after 1 s.
 */
public final class TallyBench {

  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
  private static final int GROUPS = 10;
  private static final int WARMUP_SECONDS = 5;
  private static final int SECONDS = 30;

  private TallyBench() {
  }

  public static void main(String[] args) throws InterruptedException {
    boolean smoke = Arrays.asList(args).contains("--smoke");
    int[] sizes = smoke ? new int[] {200} : args.length == 0 ? new int[] {2000, 10000}
        : Arrays.stream(args).mapToInt(Integer::parseInt).toArray();
    System.out.printf(Locale.ROOT, "%-8s %-6s %10s %10s %10s %10s %12s %8s%n", "voters", "groups", "tick p50",
        "tick p99", "tick max", "votes/s", "CPU % core", "ticks");
    for (int voters : sizes) {
      run(voters, smoke ? 1 : WARMUP_SECONDS, false);
      run(voters, smoke ? 1 : SECONDS, true);
    }
    System.out.printf("%ntargets (DESIGN.md): 2,000 voters p99 tick <= 20 ms; 10,000 voters p99 tick <= 50 ms and "
        + "<= 50 %% of a core; %d cores, %s %s%n", Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.vm.name"), System.getProperty("java.version"));
  }

  private static void run(int voters, int seconds, boolean print) throws InterruptedException {
    Clock clock = Clock.systemUTC();
    Map<String, VoteTally> tallies = new HashMap<>();
    Map<String, List<FleetInstance>> members = new HashMap<>();
    for (int g = 0; g < GROUPS; g++) {
      String name = "group-" + g;
      tallies.put(name, new VoteTally(new GroupConfig(new JsonObject().put("name", name)
          .put("imageId", "ami-0123456789abcdef0").put("min", 1).put("max", 1000).put("calmTimeMs", 60_000)), clock,
          5000));
      members.put(name, new ArrayList<>());
    }
    List<String> ids = new ArrayList<>();
    Map<String, String> groupOf = new HashMap<>();
    for (int v = 0; v < voters; v++) {
      String id = String.format("i-%017x", v + 1);
      String group = "group-" + (v % GROUPS);
      ids.add(id);
      groupOf.put(id, group);
      members.get(group).add(new FleetInstance(id, group, "running", Instant.EPOCH, null, "10.0.0.1"));
    }
    List<Long> ticks = new ArrayList<>();
    long votes = 0;
    long cpuStart = THREADS.getCurrentThreadCpuTime();
    long start = System.nanoTime();
    long second = TimeUnit.SECONDS.toNanos(1);
    int sent = 0;
    for (int s = 0; s < seconds; s++) {
      long secondStart = start + s * second;
      for (int slice = 0; slice < 100; slice++) {
        long sliceEnd = secondStart + (slice + 1) * second / 100;
        int until = (int) ((long) voters * (slice + 1) / 100);
        for (; sent < until; sent++) {
          String id = ids.get(sent);
          long now = clock.millis();
          VoteKind kind = (sent + s) % 7 == 0 ? VoteKind.GROW : VoteKind.NONE;
          Buffer wire = new Vote(id, "bench", groupOf.get(id), kind, 40 + sent % 50, true, false, now - 1000, now, 3000)
              .toJson().toBuffer();
          Vote vote = Vote.fromJson(new JsonObject(wire));
          tallies.get(vote.group()).record(vote, Optional.ofNullable(groupOf.get(vote.instanceId())));
          votes++;
        }
        sleepUntil(sliceEnd);
      }
      sent = 0;
      long tickStart = System.nanoTime();
      for (Map.Entry<String, VoteTally> tally : tallies.entrySet()) {
        tally.getValue().decide(new GroupFleet(members.get(tally.getKey()), 0, Set.of(), 0));
      }
      ticks.add(System.nanoTime() - tickStart);
    }
    long wall = System.nanoTime() - start;
    long cpu = THREADS.getCurrentThreadCpuTime() - cpuStart;
    if (print) {
      long[] sorted = ticks.stream().mapToLong(Long::longValue).sorted().toArray();
      System.out.printf(Locale.ROOT, "%-8d %-6d %8.2fms %8.2fms %8.2fms %10.0f %11.1f%% %8d%n", voters, GROUPS,
          millis(percentile(sorted, 50)), millis(percentile(sorted, 99)), millis(sorted[sorted.length - 1]),
          votes * 1e9 / wall, cpu * 100.0 / wall, sorted.length);
    }
  }

  private static long percentile(long[] sorted, int percentile) {
    int index = (int) Math.ceil(percentile / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
  }

  private static double millis(long nanos) {
    return nanos / 1e6;
  }

  private static void sleepUntil(long deadline) throws InterruptedException {
    long rest = deadline - System.nanoTime();
    if (rest > 0) {
      TimeUnit.NANOSECONDS.sleep(rest);
    }
  }
}
