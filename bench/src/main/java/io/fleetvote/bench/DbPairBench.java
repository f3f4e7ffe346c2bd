package io.fleetvote.bench;

import io.fleetvote.common.cli.CommandLine;
import io.fleetvote.common.cli.CommandLineException;
import io.fleetvote.load.db.DbWriter;
import io.fleetvote.load.db.WriterOptions;
import io.fleetvote.load.db.WriterReport;
import io.fleetvote.testkit.Await;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.mysqlclient.MySQLConnection;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.ToDoubleFunction;

/**
 * The DB pair's write path with the real system: a sandbox, a coordinator whose groups file has an {@code lb} group
 * (one HAProxy instance) and a {@code db} section (master and replica, each a MariaDB on its own volume, semi-sync
 * on as by default), every write through the LB's write port ({@code ./fleetvote writer}'s {@link DbWriter}):
 * <ol>
 *   <li>acknowledged writes/s, closed loop at N connections, with semi-sync on, and</li>
 *   <li>their ack latency p50/p99 (from the write's send to its commit's acknowledgement);</li>
 *   <li>replication lag p50/p99 at an open-loop rate, half the best closed-loop median by default: a row's lag runs
 *   from its acknowledgement until a read through the LB's read port (the replica) first returns it, the reads
 *   polled every {@value #POLL_MS} ms (so a lag is an upper bound: the poll period and a read's round trip are in
 *   it); against DESIGN.md's p99 of 1 s;</li>
 *   <li>acknowledged writes/s with semi-sync off against on, in the same run, on the same pair.</li>
 * </ol>
 * Semi-sync off is what an operator would do: {@code SET GLOBAL rpl_semi_sync_master_enabled=OFF} on the master,
 * with the mariadb client on the master's own socket (the my.cnf its agent wrote), and {@code ON} again after; each
 * trial measures every connection count both ways, in alternating order (on first in odd trials, off first in even).
 * Nothing in Fleetvote turns it back meanwhile: the leader sends the master its MASTER command (which sets semi-sync
 * as the groups file says) once per leader epoch, or again only when the master reports itself read-only
 * ({@code DbPairPlan.command}); the agent's status probe only reads. The bench checks that it was so: the master's
 * {@code Rpl_semi_sync_master_yes_tx} / {@code _no_tx} counters before and after each run. A semi-sync run must have
 * every commit acknowledged by the replica (no_tx unchanged, yes_tx up by at least the writes acknowledged), an off
 * run none waiting at all (both unchanged, the variable still OFF); a run that breaks this fails the bench.
 * <p>
 * Every run starts once the replica has applied all that was written before (each run's catch-up time is printed):
 * semi-sync waits for the replica to receive a commit, not to apply it, so a run at full speed leaves a backlog that
 * would otherwise share the cores with the next run, and be measured as the lag run's lag.
 * <p>
 * {@code --smoke}: 1 and 4 connections, 2 s each, one trial, then 3 s of lag at 50 writes/s (the suite runs it). The
 * sandbox, the coordinator and every instance (MariaDB and HAProxy within) are stopped at the end, also on a failure
 * or SIGTERM; the state directory goes after a run that succeeded ({@link BenchSupport#onDbPair}).
 */
public final class DbPairBench {

  private static final Duration UP = BenchSupport.DB_UP;
  /** The longest the last acknowledged rows may take to show on the replica before the bench gives up. */
  private static final Duration SETTLE = Duration.ofSeconds(30);
  private static final long POLL_MS = 2;
  private static final int LAG_CONNECTIONS = 16;
  private static final String WRITER = "bench-db-pair";
  private static final String VISIBLE = "SELECT seq FROM " + WriterOptions.DEFAULT_TABLE
      + " WHERE seq >= ? ORDER BY seq LIMIT 10000";

  private DbPairBench() {
  }

  public static void main(String[] args) throws Exception {
    BenchSupport.onDbPair("db", new JsonObject(), benchmark(args));
  }

  /** The benchmark as {@code args} say, parsed (a bad one exits, naming it) before anything starts. */
  static BenchSupport.DbBenchmark benchmark(String[] args) {
    CommandLine cli = BenchSupport.withSmoke(new CommandLine("bench db-pair",
        "Acked writes/s and ack latency through the LB's write port, semi-sync on and off; replication lag.")
        .option("connections", "N[,N...]", "the closed-loop runs' connection counts", "1,4,16")
        .option("seconds", "N", "each closed-loop run's length", "10")
        .option("trials", "N", "how often each connection count runs, semi-sync on and off", "3")
        .option("warmup", "SECONDS", "closed-loop writing before the measured runs (not counted)", "5")
        .option("lag-seconds", "N", "the replication-lag run's length", "30")
        .option("lag-rate", "N", "its writes/s, open loop (half: half the best closed-loop median with semi-sync on)",
            "half"));
    Settings settings = cli.parseOrExit(args, p -> p.flag("smoke") ? new Settings(List.of(1, 4), 2, 1, 1, 3, 50)
        : new Settings(connections(p.string("connections")), p.intValue("seconds", 1, 3600),
            p.intValue("trials", 1, 100), p.intValue("warmup", 0, 3600), p.intValue("lag-seconds", 1, 3600),
            p.string("lag-rate").equals("half") ? 0 : p.intValue("lag-rate", 1, 1_000_000)));
    return system -> new Run(system, settings).run();
  }

  private static List<Integer> connections(String text) {
    List<Integer> counts = new ArrayList<>();
    for (String count : text.split(",")) {
      try {
        counts.add(Integer.parseInt(count.trim()));
      } catch (NumberFormatException e) {
        counts.add(0);
      }
    }
    if (counts.stream().anyMatch(n -> n < 1 || n > 1000)) {
      throw new CommandLineException("option --connections: '" + text + "' is not a list of counts 1..1000");
    }
    return List.copyOf(counts);
  }

  /** What to measure; {@code lagRate} 0 for half the best closed-loop median. */
  private record Settings(List<Integer> connections, int seconds, int trials, int warmupSeconds, int lagSeconds,
                          int lagRate) {
  }

  /**
   * One closed-loop run, what the master's semi-sync counters did meanwhile, and how long after it the replica had
   * applied its last row.
   */
  private record Result(int trial, int connections, boolean semiSync, WriterReport report, long replicaAcked,
                        long catchUpMillis) {
  }

  /** The master's semi-sync as {@code information_schema.GLOBAL_STATUS} and the variable say. */
  private record SemiSync(boolean enabled, boolean on, long yesTx, long noTx) {
  }

  private static final class Run {

    private final BenchSupport.DbSystem system;
    private final Vertx vertx;
    private final Settings settings;
    private final int writePort;
    private final int readPort;
    private String master;

    Run(BenchSupport.DbSystem system, Settings settings) {
      this.system = system;
      this.vertx = system.vertx();
      this.settings = settings;
      this.writePort = system.writePort();
      this.readPort = system.readPort();
    }

    void run() {
      String[] pair = awaitPair();
      System.out.printf(Locale.ROOT, "db-pair: writes through the LB's write port 127.0.0.1:%d (master %s), reads "
          + "through its read port 127.0.0.1:%d (replica %s); %d cores%n%n", writePort, pair[0], readPort, pair[1],
          Runtime.getRuntime().availableProcessors());
      if (settings.warmupSeconds() > 0) {
        WriterReport warm = write(closedLoop(settings.connections().get(settings.connections().size() - 1),
            settings.warmupSeconds()));
        catchUp();
        System.out.printf(Locale.ROOT, "warm-up (not counted): %s%n%n", warm.summary());
      }
      List<Result> results = new ArrayList<>();
      System.out.printf(Locale.ROOT, "%-5s %5s %-9s %8s %9s %8s %8s %6s %12s  %s%n", "trial", "conns", "semi-sync",
          "acked", "writes/s", "p50 ms", "p99 ms", "failed", "catch-up ms", "commits the replica acknowledged");
      for (int trial = 1; trial <= settings.trials(); trial++) {
        for (int connections : settings.connections()) {
          for (boolean semiSync : trial % 2 == 1 ? new boolean[] {true, false} : new boolean[] {false, true}) {
            Result result = measure(trial, connections, semiSync);
            results.add(result);
            WriterReport r = result.report();
            System.out.printf(Locale.ROOT, "%-5d %5d %-9s %8d %9.1f %8.2f %8.2f %6d %12d  %s%n", trial,
                connections, semiSync ? "on" : "off", r.acked(), r.writesPerSecond(), r.percentileMillis(50),
                r.percentileMillis(99), r.failed(), result.catchUpMillis(),
                (semiSync ? result.replicaAcked() : "none (semi-sync off)")
                + (r.failed() > 0 ? "; first failure: " + r.firstError() : ""));
          }
        }
      }
      System.out.printf(Locale.ROOT, "(catch-up: how long after the run the replica had applied its last row; the "
          + "next run starts then)%n");
      setSemiSync(true);
      lagAndTargets(closedLoopTable(results));
    }

    /** Waits for the pair to replicate with semi-sync, writes routed to its master; its master's and replica's ids. */
    private String[] awaitPair() {
      BenchSupport.DbRoles roles = system.awaitSemiSyncPair();
      master = roles.master();
      system.awaitServer("the LB's write port (the master)", writePort,
          system.report(roles.master()).getLong("serverId"));
      system.awaitServer("the LB's read port (the replica)", readPort,
          system.report(roles.replica()).getLong("serverId"));
      return new String[] {roles.master(), roles.replica()};
    }

    private Result measure(int trial, int connections, boolean semiSync) {
      setSemiSync(semiSync);
      SemiSync before = semiSync();
      WriterReport report = write(closedLoop(connections, settings.seconds()));
      SemiSync after = semiSync();
      long catchUp = catchUp();
      long yes = after.yesTx() - before.yesTx();
      long no = after.noTx() - before.noTx();
      String run = "trial " + trial + ", " + connections + " connection(s), semi-sync " + (semiSync ? "on" : "off");
      if (semiSync && (!after.on() || no != 0 || yes < report.acked())) {
        throw new IllegalStateException(run + ": not semi-sync throughout (" + report.acked() + " acked; the master "
            + "counted " + yes + " commits acknowledged by the replica, " + no + " not, status now "
            + (after.on() ? "ON" : "OFF") + "): its figure would not be semi-sync's");
      }
      if (!semiSync && (after.enabled() || yes != 0 || no != 0)) {
        throw new IllegalStateException(run + ": semi-sync came back during the run (variable "
            + (after.enabled() ? "ON" : "OFF") + ", " + yes + " commits acknowledged by the replica, " + no
            + " that waited for none)");
      }
      return new Result(trial, connections, semiSync, report, yes, catchUp);
    }

    /** The closed-loop figures by connection count; the best median with semi-sync on. */
    private double closedLoopTable(List<Result> results) {
      System.out.printf(Locale.ROOT, "%nacked writes/s through the LB's write port, closed loop (median of %d trials, "
          + "spread = max - min; ack latency: medians of the runs' percentiles)%n", settings.trials());
      System.out.printf(Locale.ROOT, "%5s  %16s %8s %10s %10s  %16s %8s %10s %10s  %16s%n", "conns",
          "semi-sync on w/s", "spread", "ack p50 ms", "ack p99 ms", "semi-sync off w/s", "spread", "ack p50 ms",
          "ack p99 ms", "semi-sync off/on");
      double best = 0;
      List<String> ratios = new ArrayList<>();
      for (int connections : settings.connections()) {
        List<WriterReport> on = reports(results, connections, true);
        List<WriterReport> off = reports(results, connections, false);
        double onRate = median(on, WriterReport::writesPerSecond);
        double offRate = median(off, WriterReport::writesPerSecond);
        best = Math.max(best, onRate);
        double ratio = onRate == 0 ? 0 : offRate / onRate;
        ratios.add(String.format(Locale.ROOT, "%d conn(s) %.2f", connections, ratio));
        System.out.printf(Locale.ROOT, "%5d  %16.1f %8.1f %10.2f %10.2f  %16.1f %8.1f %10.2f %10.2f  %16.2f%n",
            connections, onRate, spread(on), median(on, r -> r.percentileMillis(50)),
            median(on, r -> r.percentileMillis(99)), offRate, spread(off), median(off, r -> r.percentileMillis(50)),
            median(off, r -> r.percentileMillis(99)), ratio);
      }
      System.out.printf(Locale.ROOT, "semi-sync off/on (acked writes/s, medians): %s%n",
          String.join(", ", ratios));
      return best;
    }

    /** The lag run at {@code --lag-rate}, or half of {@code best}; then the figures against DESIGN.md's targets. */
    private void lagAndTargets(double best) {
      int rate = settings.lagRate() > 0 ? settings.lagRate() : Math.max(1, (int) (best / 2));
      String why = settings.lagRate() > 0 ? "a fixed rate" : "half the best closed-loop median with semi-sync on";
      long[] lags = lag(rate);
      double p99 = BenchSupport.percentile(lags, 99) / 1000.0;
      System.out.printf(Locale.ROOT, "%nreplication lag at %d writes/s open loop (%s, %d connections, semi-sync on) "
          + "for %d s: %d rows, p50 %.2f ms, p99 %.2f ms, max %.2f ms%n", rate, why, LAG_CONNECTIONS,
          settings.lagSeconds(), lags.length, BenchSupport.percentile(lags, 50) / 1000.0, p99,
          lags.length == 0 ? 0 : lags[lags.length - 1] / 1000.0);
      System.out.printf(Locale.ROOT, "  (from each row's acknowledgement until a read through the LB's read port "
          + "returned it, polled every %d ms)%n", POLL_MS);
      System.out.printf(Locale.ROOT, "%ntargets (DESIGN.md)%n");
      System.out.printf(Locale.ROOT, "  replication lag at the demo's write rate: p99 <= 1 s; measured p99 %.2f ms at "
          + "%d writes/s: %s%n", p99, rate, lags.length > 0 && p99 <= 1000 ? "met" : "NOT met");
      System.out.printf(Locale.ROOT, "  acked writes/s, ack latency, semi-sync's cost: no target (measured, "
          + "reported)%n");
    }

    /**
     * Waits for the replica to have applied the master's last row; how long that took, in milliseconds. Semi-sync waits
     * for the replica to receive a commit, not to apply it, and a closed loop at full speed (semi-sync off above all)
     * commits faster than the replica's one SQL thread applies: the next run must not share the cores with that
     * backlog, nor the lag run measure it instead of its own rows.
     */
    private long catchUp() {
      long last = maxSeq(writePort).orElseThrow(() -> new IllegalStateException("the master does not answer through "
          + "the LB's write port"));
      long start = System.nanoTime();
      Await.until("the replica applying row " + last + " (its highest row, through the LB's read port)", UP,
          Duration.ofMillis(20), () -> maxSeq(readPort), seq -> seq.isPresent() && seq.get() >= last);
      return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    }

    /** The lag run: an open-loop writer, and reads of the replica through the LB every few ms. */
    private long[] lag(int rate) {
      ReplicationLag lag = new ReplicationLag();
      MySQLConnection reader = MySQLConnection.connect(vertx, system.connectOptions(readPort)).await();
      AtomicBoolean stop = new AtomicBoolean();
      Promise<Void> reads = Promise.promise();
      try {
        poll(reader, lag, stop, reads);
        SemiSync before = semiSync();
        WriterReport report = write(system.writer(WRITER, rate, LAG_CONNECTIONS,
            Duration.ofSeconds(settings.lagSeconds()), BenchSupport.DB_WRITE_TIMEOUT, null), lag);
        Await.until("every acknowledged row visible through the LB's read port (rows not seen yet)", SETTLE,
            Duration.ofMillis(POLL_MS), () -> reads.future().failed() ? -1 : lag.notSeen(), n -> n <= 0);
        if (reads.future().failed()) {
          throw new IllegalStateException("a read of the replica failed: " + reads.future().cause().getMessage());
        }
        SemiSync after = semiSync();
        System.out.printf(Locale.ROOT, "%nlag run: %s; %d commits acknowledged by the replica, %d not; %d rows seen "
            + "before their ack (lag 0)%n", report.summary(), after.yesTx() - before.yesTx(),
            after.noTx() - before.noTx(), lag.seenBeforeAck());
        return lag.lagsMicros();
      } finally {
        stop.set(true);
        reader.close();
      }
    }

    private void poll(MySQLConnection reader, ReplicationLag lag, AtomicBoolean stop, Promise<Void> reads) {
      if (stop.get()) {
        reads.tryComplete();
        return;
      }
      reader.preparedQuery(VISIBLE).execute(Tuple.of(lag.floor())).onComplete(rows -> {
        if (rows.failed()) {
          reads.tryFail(rows.cause());
          return;
        }
        long at = System.nanoTime();
        List<Long> seqs = new ArrayList<>();
        for (Row row : rows.result()) {
          seqs.add(row.getLong(0));
        }
        lag.visible(seqs, at);
        vertx.setTimer(POLL_MS, timer -> poll(reader, lag, stop, reads));
      });
    }

    private WriterOptions closedLoop(int connections, int seconds) {
      return system.writer(WRITER, 0, connections, Duration.ofSeconds(seconds), BenchSupport.DB_WRITE_TIMEOUT, null);
    }

    private WriterReport write(WriterOptions options) {
      return write(options, (seq, at) -> { });
    }

    private WriterReport write(WriterOptions options, DbWriter.Listener listener) {
      return new DbWriter(vertx, options, line -> { }).listener(listener).run().await();
    }

    private void setSemiSync(boolean on) {
      system.sql(master, "SET GLOBAL rpl_semi_sync_master_enabled=" + (on ? "ON" : "OFF"));
    }

    private SemiSync semiSync() {
      Map<String, String> values = new HashMap<>();
      for (String line : system.sql(master, "SELECT 'ENABLED', @@rpl_semi_sync_master_enabled UNION ALL SELECT "
          + "VARIABLE_NAME, VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME IN "
          + "('RPL_SEMI_SYNC_MASTER_STATUS', 'RPL_SEMI_SYNC_MASTER_YES_TX', 'RPL_SEMI_SYNC_MASTER_NO_TX')")) {
        String[] fields = line.split("\t");
        if (fields.length == 2) {
          values.put(fields[0], fields[1]);
        }
      }
      try {
        return new SemiSync(values.get("ENABLED").equals("1"), values.get("RPL_SEMI_SYNC_MASTER_STATUS").equals("ON"),
            Long.parseLong(values.get("RPL_SEMI_SYNC_MASTER_YES_TX")),
            Long.parseLong(values.get("RPL_SEMI_SYNC_MASTER_NO_TX")));
      } catch (RuntimeException e) {
        throw new IllegalStateException("the master's semi-sync status is not as expected: " + values, e);
      }
    }

    /** The highest row through {@code port}, empty when it does not answer. */
    private Optional<Long> maxSeq(int port) {
      return system.single(port, "SELECT COALESCE(MAX(seq), 0) FROM " + WriterOptions.DEFAULT_TABLE);
    }
  }

  private static List<WriterReport> reports(List<Result> results, int connections, boolean semiSync) {
    return results.stream().filter(r -> r.connections() == connections && r.semiSync() == semiSync)
        .map(Result::report).toList();
  }

  private static double median(List<WriterReport> reports, ToDoubleFunction<WriterReport> value) {
    double[] sorted = reports.stream().mapToDouble(value).sorted().toArray();
    int n = sorted.length;
    return n == 0 ? 0 : n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  private static double spread(List<WriterReport> reports) {
    double[] rates = reports.stream().mapToDouble(WriterReport::writesPerSecond).toArray();
    return rates.length == 0 ? 0 : Arrays.stream(rates).max().orElse(0) - Arrays.stream(rates).min().orElse(0);
  }
}
