package io.fleetvote.bench;

import io.fleetvote.common.cli.CommandLine;
import io.fleetvote.load.db.DbWriter;
import io.fleetvote.load.db.WriterReport;
import io.fleetvote.testkit.Await;
import io.fleetvote.testkit.CoordinatorClient;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The DB pair's master killed under a steady write load, with the real system ({@link BenchSupport#onDbPair}: a
 * sandbox, a coordinator, an LB whose write port fronts the pair, MariaDB master and replica with semi-sync on), the
 * groups file's failover settings as by default (automatic, {@value #CONFIRMATIONS} probe rounds in a row, one every
 * {@value #PROBE_MILLIS} ms) but for the anti-flap window: 0 s, so that every trial fails over. Each trial:
 * <ol>
 *   <li>waits for the pair to replicate with semi-sync on and the replica acknowledging, writes routed to the master
 *   (the LB's write port reaching its {@code server_id}) and the leader's verdict on it alive;</li>
 *   <li>writes through the LB's write port with {@code ./fleetvote writer}'s {@link DbWriter}, open loop (100 writes/s
 *   on 4 connections by default), every acknowledged write recorded (its sequence number and the
 *   {@link System#nanoTime()} of its acknowledgement, and the writer's acked file);</li>
 *   <li>after {@value #BEFORE_KILL_SECONDS} s of acknowledged writes, takes t0 = {@link System#nanoTime()} and kills
 *   every process of the master's instance (the sandbox's admin kill: SIGKILL, as a crash of the machine; EC2 still
 *   says running);</li>
 *   <li>writes on until the failover is done and {@value #AFTER_SECONDS} s of writes were acknowledged after the first
 *   one past the kill, the LB's write port reaching the new master;</li>
 *   <li>reads the new master's table on its own port and looks for every write of the acked file (checked against the
 *   writes the listener saw): one missing is an acknowledged write lost.</li>
 * </ol>
 * Kill to first write is exactly: the first write acknowledged after the kill call returned, minus t0 (a write the
 * old master acknowledged while the call ran does not count). Beside it the failover's own journal, each step's time
 * less t0 (detected, fenced, promoted: the coordinator's wall clock against the bench's at t0, on the same machine),
 * how the old master was fenced, and the loss the failover counted by GTID arithmetic (the old master's last reported
 * binlog position less what the new master had applied; a report is up to a second old, so it may undercount).
 * After a trial with another to follow, the old master's slot is rebuilt (a new instance and volume, replicating from
 * the new master, semi-sync acknowledging again): the time from the failover seen done until then is in the row.
 * <p>
 * The per-trial table, then the summary against DESIGN.md's targets and the anchors' figures. A trial that lost an
 * acknowledged write fails the bench once the summary is printed (exit code 1); a failover that fails, or writes that
 * do not come back, fail it at once. {@code --smoke}: one trial (the suite runs it).
 */
public final class FailoverBench {

  /** The longest a failover and the first write after it may take before the bench gives up. */
  private static final Duration RECOVERY = Duration.ofSeconds(90);
  private static final int BEFORE_KILL_SECONDS = 3;
  private static final int AFTER_SECONDS = 3;
  private static final int CONFIRMATIONS = 3;
  private static final int PROBE_MILLIS = 500;
  private static final String WRITER = "bench-failover";

  private FailoverBench() {
  }

  public static void main(String[] args) throws Exception {
    BenchSupport.onDbPair("failover", db(), benchmark(args));
  }

  /** The benchmark as {@code args} say, parsed (a bad one exits, naming it) before anything starts. */
  static BenchSupport.DbBenchmark benchmark(String[] args) {
    Settings settings = commandLine().parseOrExit(args, p -> new Settings(BenchSupport.count(p, "trials", 1, 100, 1),
        p.intValue("rate", 1, 10_000), p.intValue("connections", 1, 256)));
    return system -> new Run(system, settings).run();
  }

  /** The DB pair's settings it runs on: automatic failover, no anti-flap window, so that trial follows trial. */
  static JsonObject db() {
    JsonObject failover = new JsonObject().put("automatic", true).put("confirmations", CONFIRMATIONS)
        .put("probeMillis", PROBE_MILLIS).put("antiFlapSeconds", 0);
    return new JsonObject().put("failover", failover);
  }

  private static CommandLine commandLine() {
    return BenchSupport.withSmoke(new CommandLine("bench failover",
        "The DB master killed -9 under steady writes through the LB: kill to first write, acknowledged writes lost.")
        .option("trials", "N", "how many failovers", "20")
        .option("rate", "N", "writes/s through the LB's write port, open loop", "100")
        .option("connections", "N", "the writer's connections", "4"));
  }

  private record Settings(int trials, int rate, int connections) {
  }

  /**
   * One trial: milliseconds after t0 to the failover's detected, fenced and promoted steps and to the first write
   * acknowledged after the kill; how the old master was fenced; the writes acknowledged, failed and lost; the loss
   * by GTID arithmetic; the rebuild's seconds (-1 when none followed); the journal, a line a step.
   */
  private record Trial(int number, long detected, long fenced, long promoted, long firstWrite, String fencedBy,
                       long acked, long failed, long lost, long gtidLost, double rebuiltSeconds, List<String> journal) {
  }

  private static final class Run {

    private final BenchSupport.DbSystem system;
    private final CoordinatorClient api;
    private final Settings settings;

    Run(BenchSupport.DbSystem system, Settings settings) {
      this.system = system;
      this.api = system.api();
      this.settings = settings;
    }

    void run() throws IOException {
      System.out.printf(Locale.ROOT, "failover: %d trials, each the master's instance killed under %d writes/s open "
          + "loop on %d connection(s) through the LB's write port 127.0.0.1:%d; failover automatic, %d probe rounds "
          + "%d ms apart, anti-flap window 0 s; %d cores%n%n", settings.trials(), settings.rate(),
          settings.connections(), system.writePort(), CONFIRMATIONS, PROBE_MILLIS,
          Runtime.getRuntime().availableProcessors());
      System.out.printf(Locale.ROOT, "%-5s %9s %8s %9s %12s %16s  %-9s %6s %6s %5s %9s %10s%n", "trial",
          "detected", "fenced", "promoted", "first write", "promoted->write", "fenced by", "acked", "failed", "lost",
          "gtid lost", "rebuilt s");
      List<Trial> trials = new ArrayList<>();
      for (int n = 1; n <= settings.trials(); n++) {
        Trial trial = trial(n, n < settings.trials());
        trials.add(trial);
        System.out.printf(Locale.ROOT, "%-5d %9d %8d %9d %12d %16d  %-9s %6d %6d %5d %9d %10s%n", trial.number(),
            trial.detected(), trial.fenced(), trial.promoted(), trial.firstWrite(),
            trial.firstWrite() - trial.promoted(), trial.fencedBy(), trial.acked(), trial.failed(), trial.lost(),
            trial.gtidLost(), trial.rebuiltSeconds() < 0 ? "-" : String.format(Locale.ROOT, "%.1f",
                trial.rebuiltSeconds()));
      }
      System.out.printf(Locale.ROOT, "(ms after t0, the moment just before the kill call: the failover journal's "
          + "steps, on the coordinator's clock, and the first write acknowledged after the kill call returned; "
          + "rebuilt: from the failover seen done to the old slot's new replica acknowledging semi-sync)%n");
      Trial slowest = trials.stream().max(Comparator.comparingLong(Trial::firstWrite)).orElseThrow();
      System.out.printf(Locale.ROOT, "%nthe slowest trial's failover journal (trial %d; ms after t0):%n",
          slowest.number());
      slowest.journal().forEach(line -> System.out.printf(Locale.ROOT, "  %s%n", line));
      System.out.printf(Locale.ROOT, "  %+6d  first write acknowledged through the LB's write port%n",
          slowest.firstWrite());
      summary(trials);
    }

    /** Trial {@code number}; with {@code rebuild}, once the pair is whole again (the next trial's). */
    private Trial trial(int number, boolean rebuild) throws IOException {
      BenchSupport.DbRoles roles = system.awaitWhole();
      String previous = BenchSupport.failover(api.dbPair()).map(f -> f.getString("id")).orElse("");
      JsonObject target = system.report(roles.replica());
      Path ackedFile = system.dir().resolve("acked-" + number + ".txt");
      AckedWrites acks = new AckedWrites();
      DbWriter writer = new DbWriter(system.vertx(), system.writer(WRITER, settings.rate(), settings.connections(),
          Duration.ZERO, BenchSupport.DB_WRITE_TIMEOUT, ackedFile), line -> { }).listener(acks);
      Future<WriterReport> writing = writer.run();
      long t0;
      long t0Millis;
      long firstWrite;
      long doneSeen;
      JsonObject failover;
      try {
        Await.until(BEFORE_KILL_SECONDS + " s of writes acknowledged through the LB's write port", BenchSupport.DB_UP,
            () -> writing.failed() || acks.span() >= TimeUnit.SECONDS.toNanos(BEFORE_KILL_SECONDS));
        BenchSupport.notFailed(writing);
        t0 = System.nanoTime();
        t0Millis = System.currentTimeMillis();
        system.admin().kill(roles.master());
        long killed = System.nanoTime();
        failover = Await.until("the failover of " + roles.master() + " done", RECOVERY,
            () -> api.ifAnswered(c -> BenchSupport.failover(c.dbPair())).flatMap(f -> f).orElse(null),
            f -> f != null && !f.getString("id").equals(previous) && !Set.of("fencing", "promoting")
                .contains(f.getString("phase")));
        doneSeen = System.nanoTime();
        if (!"done".equals(failover.getString("phase"))) {
          throw new IllegalStateException("trial " + number + ": failover " + failover.getString("id") + " ended "
              + failover.getString("phase") + ": " + failover.getJsonArray("steps").encode());
        }
        firstWrite = BenchSupport.await("a write acknowledged after the kill", RECOVERY,
            () -> acks.firstAfter(killed));
        Await.until(AFTER_SECONDS + " s of writes acknowledged after the first past the kill", RECOVERY,
            () -> writing.failed() || acks.last() - firstWrite >= TimeUnit.SECONDS.toNanos(AFTER_SECONDS));
        BenchSupport.notFailed(writing);
        system.awaitServer("the LB's write port (the new master)", system.writePort(), target.getLong("serverId"));
      } finally {
        writer.stop();
      }
      WriterReport report = writing.await();
      Set<Long> acked = acks.sameAsFile(ackedFile);
      long lost = system.lost(target.getInteger("port"), acked);
      double rebuilt = -1;
      if (rebuild) {
        system.awaitWhole();
        rebuilt = (System.nanoTime() - doneSeen) / 1e9;
      }
      return new Trial(number, BenchSupport.step(failover, "detected", t0Millis),
          BenchSupport.step(failover, "fenced", t0Millis), BenchSupport.step(failover, "promoted", t0Millis),
          TimeUnit.NANOSECONDS.toMillis(firstWrite - t0), fencedBy(failover), acked.size(), report.failed(), lost,
          failover.getLong("lost"), rebuilt, BenchSupport.journal(failover, t0Millis));
    }

    private void summary(List<Trial> trials) {
      List<Long> firstWrites = trials.stream().map(Trial::firstWrite).toList();
      long[] sorted = firstWrites.stream().mapToLong(Long::longValue).sorted().toArray();
      System.out.printf(Locale.ROOT, "%nkill -> first write through the LB's write port (the first write acknowledged "
          + "after the kill call returned, minus t0, just before the call): %s%n", BenchSupport.summary(firstWrites));
      System.out.printf(Locale.ROOT, "kill -> detected (the journal's first step; the write backend emptied at once): "
          + "%s%n", BenchSupport.summary(trials.stream().map(Trial::detected).toList()));
      System.out.printf(Locale.ROOT, "kill -> fenced: %s%n", BenchSupport.summary(trials.stream().map(Trial::fenced)
          .toList()));
      System.out.printf(Locale.ROOT, "kill -> promoted: %s%n", BenchSupport.summary(trials.stream()
          .map(Trial::promoted).toList()));
      System.out.printf(Locale.ROOT, "promoted -> first write (the route to the LB, HAProxy's write backend, the "
          + "writer's next write): %s%n", BenchSupport.summary(trials.stream().map(t -> t.firstWrite() - t.promoted())
          .toList()));
      long lostTrials = trials.stream().filter(t -> t.lost() > 0).count();
      System.out.printf(Locale.ROOT, "acknowledged writes lost per trial: %s (%d of %d acknowledged writes in all)%n",
          trials.stream().map(t -> Long.toString(t.lost())).collect(Collectors.joining(" ")),
          trials.stream().mapToLong(Trial::lost).sum(), trials.stream().mapToLong(Trial::acked).sum());
      System.out.printf(Locale.ROOT, "transactions lost by GTID arithmetic per trial (the failover's own count): %s%n",
          trials.stream().map(t -> Long.toString(t.gtidLost())).collect(Collectors.joining(" ")));
      long p50 = BenchSupport.median(sorted);
      long p95 = BenchSupport.percentile(sorted, 95);
      System.out.printf(Locale.ROOT, "%ntargets (DESIGN.md)%n");
      System.out.printf(Locale.ROOT, "  master killed -> first write through HAProxy succeeds: p50 <= 3 s, p95 <= 5 s;"
          + " measured p50 %.2f s, p95 %.2f s over %d trials: %s%n", p50 / 1000.0, p95 / 1000.0, trials.size(),
          p50 <= 3000 && p95 <= 5000 ? "met" : "NOT met");
      System.out.printf(Locale.ROOT, "  acknowledged writes lost in a failover (semi-sync): 0; measured 0 in %d of %d "
          + "trials: %s%n", trials.size() - lostTrials, trials.size(), lostTrials == 0 ? "met" : "NOT met");
      System.out.printf(Locale.ROOT, "  anchors, kill to first write (reference/mariadb-failover-snapshots.md (d)2): "
          + "GitHub (orchestrator) 10-13 s, MHA 10-30 s, replication-manager ~17-19 s (est.), RDS 60-120 s; (d)2's "
          + "own budget p95 <= 15 s, p99 <= 20 s%n");
      if (lostTrials > 0) {
        throw new IllegalStateException(lostTrials + " of " + trials.size() + " trials lost acknowledged writes: "
            + trials.stream().filter(t -> t.lost() > 0).map(t -> "trial " + t.number() + " lost " + t.lost())
            .collect(Collectors.joining(", ")));
      }
    }
  }

  /** How the journal says the old master was fenced: by its agent, through EC2 (StopInstances), or found down. */
  private static String fencedBy(JsonObject failover) {
    String text = failover.getJsonArray("steps").stream().map(JsonObject.class::cast)
        .filter(s -> "fenced".equals(s.getString("name"))).findFirst().map(s -> s.getString("text")).orElse("");
    return text.startsWith("fenced by its agent") ? "agent" : text.contains("StopInstances") ? "EC2 stop"
        : text.isEmpty() ? "-" : "down";
  }
}
