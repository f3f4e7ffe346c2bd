package io.fleetvote.bench;

import io.fleetvote.common.cli.CommandLine;
import io.fleetvote.common.msg.DbCommand;
import io.fleetvote.load.db.DbWriter;
import io.fleetvote.load.db.WriterReport;
import io.fleetvote.testkit.Await;
import io.fleetvote.testkit.CoordinatorClient;
import io.fleetvote.testkit.HttpReply;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.ToLongFunction;
import java.util.stream.Collectors;

/**
 * The DB pair's planned switchover ({@code POST /api/db/switchover}, what {@code ./fleetvote switchover} asks) under a
 * steady write load, with the real system ({@link BenchSupport#onDbPair}: a sandbox, a coordinator, an LB whose write
 * port fronts the pair, MariaDB master and replica with semi-sync on; the groups file's failover settings as by
 * default). One writer runs through the whole bench: {@code ./fleetvote writer}'s {@link DbWriter} through the LB's
 * write port, open loop (100 writes/s on 4 connections by default), every acknowledged write recorded. Then:
 * <ol>
 *   <li>switchover trials (10 by default): once the pair is whole (replicating, semi-sync acknowledged, writes routed
 *   to the master) and {@value #BEFORE_SECONDS} s of writes were acknowledged, t0, the request; the switchover must
 *   end {@code done} (the replica promoted, writes routed to it), the writes come back through the LB's write port
 *   from the new master, and the old master rejoins as its replica (the pair whole again);</li>
 *   <li>abort trials (3 by default): the replica's IO thread stopped first ({@code STOP SLAVE IO_THREAD} by the
 *   mariadb client on its socket), so that it never receives what the master writes after (the master goes on alone
 *   once semi-sync times out); the switchover must end {@code aborted} (the replica had not applied the fenced
 *   position within the 5 s its agent waits for it before a promotion), the old master takes writes again; then the IO thread started again and
 *   the pair whole again.</li>
 * </ol>
 * The write block is measured twice: as the writer saw it, the longest gap between two consecutive acknowledged
 * writes from the request until writes flowed again ({@value #AFTER_SECONDS} s of them, from the server the outcome
 * names); and as the journal says it, from its {@code write-backend-emptied} step to {@code promoted} (or
 * {@code aborted}), on the coordinator's clock less the bench's at t0 (one machine). Each trial's acknowledged writes
 * are looked for on the master at its end, and at the end of the bench every acknowledged write of the writer's acked
 * file (checked against what its listener saw) on the final master: one missing is an acknowledged write lost.
 * <p>
 * The per-trial table, the summary, and the reference's target and the anchors' figures. A lost acknowledged write
 * fails the bench once the summary is printed (exit code 1); a switchover refused, without an outcome, or with another
 * outcome than its trial's, fails it at once. {@code --smoke}: one trial of each (the suite runs it).
 */
public final class SwitchoverBench {

  /** The longest a switchover may take to end, and writes to come back after it, before the bench gives up. */
  private static final Duration OUTCOME = Duration.ofSeconds(60);
  private static final int BEFORE_SECONDS = 2;
  private static final int AFTER_SECONDS = 2;
  private static final String WRITER = "bench-switchover";

  private SwitchoverBench() {
  }

  public static void main(String[] args) throws Exception {
    BenchSupport.onDbPair("switchover", new JsonObject(), benchmark(args));
  }

  /** The benchmark as {@code args} say, parsed (a bad one exits, naming it) before anything starts. */
  static BenchSupport.DbBenchmark benchmark(String[] args) {
    Settings settings = commandLine().parseOrExit(args, p -> new Settings(BenchSupport.count(p, "switchovers", 1, 100,
        1), BenchSupport.count(p, "aborts", 0, 100, 1), p.intValue("rate", 1, 10_000),
        p.intValue("connections", 1, 256)));
    return system -> new Run(system, settings).run();
  }

  private static CommandLine commandLine() {
    return BenchSupport.withSmoke(new CommandLine("bench switchover",
        "The DB pair's planned switchover under steady writes through the LB: the write block, as the writer saw it "
            + "and as the journal says it, acknowledged writes lost; and switchovers that must abort.")
        .option("switchovers", "N", "how many switchovers", "10")
        .option("aborts", "N", "how many switchovers with the replica's IO thread stopped (each must abort)", "3")
        .option("rate", "N", "writes/s through the LB's write port, open loop", "100")
        .option("connections", "N", "the writer's connections", "4"));
  }

  private record Settings(int switchovers, int aborts, int rate, int connections) {
  }

  /** A trial's kind, and the outcome it must have. */
  private enum Kind {
    SWITCHOVER("done", "promoted"), ABORT("aborted", "aborted");

    private final String outcome;
    /** The journal's step that ends the write block. */
    private final String endStep;

    Kind(String outcome, String endStep) {
      this.outcome = outcome;
      this.endStep = endStep;
    }

    String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /**
   * One trial: milliseconds after t0 (the request) to the journal's write-backend-emptied, fenced and ending step
   * (promoted or aborted), to the start and the end of the writer's longest gap between acknowledgements; the writes
   * acknowledged in the trial and those of them lost; seconds from the outcome seen to the pair whole again; the
   * journal, a line a step.
   */
  private record Trial(int number, Kind kind, String failover, long emptied, long fenced, long ended, long gapFrom,
                       long resumed, long acked, long lost, double wholeSeconds, List<String> journal) {

    long journalBlock() {
      return ended - emptied;
    }

    long gap() {
      return resumed - gapFrom;
    }
  }

  /** The replica's IO thread stopped, until closed: it receives nothing the master writes. */
  private interface Fault extends AutoCloseable {
    @Override
    void close();
  }

  private static final class Run {

    private final BenchSupport.DbSystem system;
    private final Settings settings;
    private final AckedWrites acks = new AckedWrites();
    private Future<WriterReport> writing;

    Run(BenchSupport.DbSystem system, Settings settings) {
      this.system = system;
      this.settings = settings;
    }

    void run() throws IOException {
      System.out.printf(Locale.ROOT, "switchover: %d switchovers, then %d with the replica's IO thread stopped (each "
          + "must abort), under %d writes/s open loop on %d connection(s) through the LB's write port 127.0.0.1:%d; "
          + "%d cores%n%n", settings.switchovers(), settings.aborts(), settings.rate(), settings.connections(),
          system.writePort(), Runtime.getRuntime().availableProcessors());
      System.out.printf(Locale.ROOT, "%-5s %-10s %-8s %8s %7s %6s %13s %10s %9s %9s %7s %5s %8s%n", "trial", "kind",
          "outcome", "emptied", "fenced", "ended", "journal block", "write gap", "gap from", "resumed", "acked",
          "lost", "whole s");
      system.awaitWhole();
      Path ackedFile = system.dir().resolve("acked.txt");
      DbWriter writer = new DbWriter(system.vertx(), system.writer(WRITER, settings.rate(), settings.connections(),
          Duration.ZERO, BenchSupport.DB_WRITE_TIMEOUT, ackedFile), line -> { }).listener(acks);
      writing = writer.run();
      List<Trial> trials = new ArrayList<>();
      try {
        for (int n = 1; n <= settings.switchovers() + settings.aborts(); n++) {
          Trial trial = trial(n, n <= settings.switchovers() ? Kind.SWITCHOVER : Kind.ABORT);
          trials.add(trial);
          System.out.printf(Locale.ROOT, "%-5d %-10s %-8s %8d %7d %6d %13d %10d %9d %9d %7d %5d %8.1f%n",
              trial.number(), trial.kind().label(), trial.kind().outcome, trial.emptied(), trial.fenced(),
              trial.ended(), trial.journalBlock(), trial.gap(), trial.gapFrom(), trial.resumed(), trial.acked(),
              trial.lost(), trial.wholeSeconds());
        }
      } finally {
        writer.stop();
      }
      WriterReport report = writing.await();
      System.out.printf(Locale.ROOT, "(ms after t0, the request: the journal's write-backend-emptied, fenced and "
          + "promoted/aborted steps, on the coordinator's clock; write gap: the longest between two acknowledged "
          + "writes, from 'gap from' to 'resumed'; whole s: from the outcome seen to the pair whole again)%n");
      for (Kind kind : Kind.values()) {
        trials.stream().filter(t -> t.kind() == kind).max(Comparator.comparingLong(Trial::gap)).ifPresent(t -> {
          System.out.printf(Locale.ROOT, "%nthe %s trial with the longest write gap (trial %d, %s; ms after t0):%n",
              kind.label(), t.number(), t.failover());
          t.journal().forEach(line -> System.out.printf(Locale.ROOT, "  %s%n", line));
          System.out.printf(Locale.ROOT, "  %+6d  writes acknowledged again through the LB's write port%n",
              t.resumed());
        });
      }
      Set<Long> acked = acks.sameAsFile(ackedFile);
      BenchSupport.DbRoles roles = system.awaitSemiSyncPair();
      long lost = system.lost(system.report(roles.master()).getInteger("port"), acked);
      summary(trials, report, acked.size(), lost, roles.master());
    }

    /** Trial {@code number}: once the pair is whole, a switchover that must end as {@code kind} says. */
    private Trial trial(int number, Kind kind) {
      long from = System.nanoTime();
      BenchSupport.DbRoles roles = system.awaitWhole();
      String writable = kind == Kind.SWITCHOVER ? roles.replica() : roles.master();
      long t0;
      long t0Millis;
      long seen;
      AckedWrites.Gap gap;
      JsonObject failover;
      try (Fault fault = kind == Kind.ABORT ? replicaReceivesNothing(roles) : () -> { }) {
        long ready = System.nanoTime();
        Await.until(BEFORE_SECONDS + " s of writes acknowledged through the LB's write port", OUTCOME,
            () -> writing.failed() || acks.last() - ready >= TimeUnit.SECONDS.toNanos(BEFORE_SECONDS));
        BenchSupport.notFailed(writing);
        t0 = System.nanoTime();
        t0Millis = System.currentTimeMillis();
        HttpReply asked = system.api().post("/api/db/switchover", "");
        if (asked.status() != 200) {
          throw new IllegalStateException("trial " + number + ": switchover refused (" + asked.status() + "): "
              + asked.body());
        }
        long askedAt = asked.json().getJsonObject("switchover").getLong("at");
        JsonObject pair = Await.until("the switchover asked at " + askedAt + " ended", OUTCOME,
            () -> system.api().ifAnswered(CoordinatorClient::dbPair).orElse(null),
            p -> p != null && (refused(p, askedAt) || ended(p, askedAt).isPresent()));
        seen = System.nanoTime();
        if (refused(pair, askedAt)) {
          throw new IllegalStateException("trial " + number + ": switchover refused by the leader: "
              + pair.getJsonObject("switchover").getString("why"));
        }
        failover = ended(pair, askedAt).orElseThrow();
        if (!kind.outcome.equals(failover.getString("phase"))) {
          throw new IllegalStateException("trial " + number + " (" + kind.label() + "): switchover "
              + failover.getString("id") + " ended " + failover.getString("phase") + ", not " + kind.outcome + ": "
              + String.join("; ", BenchSupport.journal(failover, t0Millis)));
        }
        Await.until(AFTER_SECONDS + " s of writes acknowledged after the switchover's end", OUTCOME,
            () -> writing.failed() || acks.last() - seen >= TimeUnit.SECONDS.toNanos(AFTER_SECONDS));
        BenchSupport.notFailed(writing);
        system.awaitServer("the LB's write port (" + writable + ")", system.writePort(),
            system.report(writable).getLong("serverId"));
        gap = acks.longestGap(t0, System.nanoTime()).orElseThrow();
      }
      system.awaitWhole();
      double whole = (System.nanoTime() - seen) / 1e9;
      Set<Long> acked = acks.seqsBetween(from, System.nanoTime());
      long lost = system.lost(system.report(writable).getInteger("port"), acked);
      return new Trial(number, kind, failover.getString("id"),
          BenchSupport.step(failover, "write-backend-emptied", t0Millis), BenchSupport.step(failover, "fenced",
          t0Millis), BenchSupport.step(failover, kind.endStep, t0Millis),
          TimeUnit.NANOSECONDS.toMillis(gap.fromNanos() - t0), TimeUnit.NANOSECONDS.toMillis(gap.toNanos() - t0),
          acked.size(), lost, whole, BenchSupport.journal(failover, t0Millis));
    }

    /**
     * Stops the replica's IO thread and waits until the coordinator's reports show it stopped and the master alone
     * (semi-sync timed out: commits do not wait for the replica any more), so that the trial's writes flow.
     */
    private Fault replicaReceivesNothing(BenchSupport.DbRoles roles) {
      system.sql(roles.replica(), "STOP SLAVE IO_THREAD");
      Fault fault = () -> system.sql(roles.replica(), "START SLAVE IO_THREAD");
      try {
        Await.until("the replica's IO thread stopped and the master's semi-sync off", OUTCOME,
            () -> system.api().ifAnswered(CoordinatorClient::db).orElse(List.of()),
            reports -> BenchSupport.DbSystem.report(reports, roles.replica())
                .map(r -> "no".equals(r.getString("ioThread"))).orElse(false)
                && BenchSupport.DbSystem.report(reports, roles.master())
                .map(r -> !r.getBoolean("semiSyncMaster")).orElse(false));
      } catch (RuntimeException | AssertionError e) {
        fault.close();
        throw e;
      }
      return fault;
    }

    /** Whether the leader refused the switchover asked at {@code askedAt}. */
    private static boolean refused(JsonObject pair, long askedAt) {
      JsonObject answer = pair.getJsonObject("switchover");
      return answer != null && answer.getLong("at", 0L) == askedAt && "refused".equals(answer.getString("state"));
    }

    /** The switchover started for the request at {@code askedAt}, once it is over (done, aborted or failed). */
    private static Optional<JsonObject> ended(JsonObject pair, long askedAt) {
      return BenchSupport.failover(pair).filter(f -> "switchover".equals(f.getString("kind"))
          && f.getLong("startedAt") >= askedAt && !Set.of("fencing", "promoting").contains(f.getString("phase")));
    }

    private void summary(List<Trial> trials, WriterReport report, int acked, long lost, String master) {
      List<Trial> switchovers = trials.stream().filter(t -> t.kind() == Kind.SWITCHOVER).toList();
      List<Trial> aborts = trials.stream().filter(t -> t.kind() == Kind.ABORT).toList();
      System.out.printf(Locale.ROOT, "%nswitchover write block as the writer saw it (the longest gap between two "
          + "acknowledged writes through the LB, from the request until writes flowed again): %s%n",
          summary(switchovers, Trial::gap));
      System.out.printf(Locale.ROOT, "switchover write block by the journal (write-backend-emptied -> promoted, the "
          + "write backend moving to the new master): %s%n", summary(switchovers, Trial::journalBlock));
      System.out.printf(Locale.ROOT, "  request -> write-backend-emptied (the leader's next failover round): %s%n",
          summary(switchovers, Trial::emptied));
      System.out.printf(Locale.ROOT, "  emptied -> fenced (the old master read-only, its connections killed): %s%n",
          summary(switchovers, t -> t.fenced() - t.emptied()));
      System.out.printf(Locale.ROOT, "  fenced -> promoted (the replica applies the fenced position, its agent "
          + "promotes it): %s%n", summary(switchovers, t -> t.ended() - t.fenced()));
      System.out.printf(Locale.ROOT, "  promoted -> writes resume (the route to the LB, HAProxy, the writer's next "
          + "write): %s%n", summary(switchovers, t -> t.resumed() - t.ended()));
      System.out.printf(Locale.ROOT, "request -> writes resume: %s%n", summary(switchovers, Trial::resumed));
      System.out.printf(Locale.ROOT, "outcome -> pair whole again (the old master replicating from the new one, "
          + "semi-sync acknowledging): %s%n", summary(switchovers, t -> Math.round(t.wholeSeconds() * 1000)));
      System.out.printf(Locale.ROOT, "%naborted switchover (the replica's IO thread stopped), request -> writes resume "
          + "on the old master: %s%n", summary(aborts, Trial::resumed));
      System.out.printf(Locale.ROOT, "  its write block by the journal (write-backend-emptied -> aborted): %s%n",
          summary(aborts, Trial::journalBlock));
      System.out.printf(Locale.ROOT, "  fenced -> aborted (the %d s the DB agent waits for the fenced position): %s%n",
          DbCommand.DEFAULT_APPLY_WAIT_S,
          summary(aborts, t -> t.ended() - t.fenced()));
      System.out.printf(Locale.ROOT, "  its write gap as the writer saw it: %s%n", summary(aborts, Trial::gap));
      long lostTrials = trials.stream().filter(t -> t.lost() > 0).count();
      System.out.printf(Locale.ROOT, "%nacknowledged writes lost per trial (on the master at the trial's end): %s%n",
          trials.stream().map(t -> Long.toString(t.lost())).collect(Collectors.joining(" ")));
      System.out.printf(Locale.ROOT, "acknowledged writes lost in all (the acked file on the final master %s): %d of "
          + "%d; writes failed (not acknowledged, in the blocks): %d%n", master, lost, acked, report.failed());
      long[] gaps = switchovers.stream().mapToLong(Trial::gap).sorted().toArray();
      long p95 = BenchSupport.percentile(gaps, 95);
      System.out.printf(Locale.ROOT, "%ntargets%n");
      System.out.printf(Locale.ROOT, "  DESIGN.md has none for a switchover's write block; its 'acknowledged writes "
          + "lost in a failover (semi-sync): 0': measured %d of %d, none lost in %d of %d trials: %s%n", lost, acked,
          trials.size() - lostTrials, trials.size(), lost == 0 && lostTrials == 0 ? "met" : "NOT met");
      System.out.printf(Locale.ROOT, "  planned switchover write block <= 2 s p95 (reference/mariadb-failover-"
          + "snapshots.md B3 and (d)2): measured p50 %.2f s, p95 %.2f s, max %.2f s as the writer saw it: %s%n",
          BenchSupport.median(gaps) / 1000.0, p95 / 1000.0, gaps.length == 0 ? 0 : gaps[gaps.length - 1] / 1000.0,
          p95 <= 2000 ? "met" : "NOT met");
      System.out.printf(Locale.ROOT, "  anchors (same file, A1): MHA's online switch 0.5-2 s write block; "
          + "replication-manager waits up to 10 s for transactions (switchover-wait-trx), kills threads after 5 s; "
          + "orchestrator's graceful-master-takeover avoids FTWRL%n");
      if (lost > 0 || lostTrials > 0) {
        throw new IllegalStateException(lost + " of " + acked + " acknowledged writes are not on the final master "
            + master + "; trials that lost some: " + trials.stream().filter(t -> t.lost() > 0)
            .map(t -> "trial " + t.number() + " lost " + t.lost()).collect(Collectors.joining(", ")));
      }
    }

    private static String summary(List<Trial> trials, ToLongFunction<Trial> value) {
      return BenchSupport.summary(trials.stream().map(value::applyAsLong).toList());
    }
  }
}
