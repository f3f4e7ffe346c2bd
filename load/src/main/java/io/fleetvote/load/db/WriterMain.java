package io.fleetvote.load.db;

import io.fleetvote.common.cli.CommandLine;
import io.fleetvote.common.cli.CommandLineException;
import io.vertx.core.Vertx;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * {@code ./fleetvote writer}: sequenced rows through a MariaDB/MySQL endpoint (the LB's write port), every
 * acknowledged write recorded, so that a failover or a snapshot can be checked for lost writes.
 */
public final class WriterMain {

  static final int DEFAULT_OPEN_LOOP_CONNECTIONS = 16;
  /** How long a SIGTERM waits for the writes in flight and the acked file. */
  private static final long STOP_WAIT_SECONDS = 30;

  private WriterMain() {
  }

  /** The command line, for {@code --help} and {@link #options}. */
  static CommandLine commandLine() {
    return new CommandLine("writer", """
        Writes sequenced rows into --table (made if missing: seq BIGINT PRIMARY KEY, written_at TIMESTAMP(6),
        writer VARCHAR(64), payload VARCHAR(255)), from one past its highest seq, each write its own transaction, and
        appends every write the server acknowledged to --acked as '<seq> <acked at, microseconds since the epoch>'
        (flushed every 100 ms and at the end). With --rate, writes are sent on schedule whatever the answers take
        (open loop); without, each connection writes again as soon as its last write has its outcome (closed loop).
        A write that fails is counted, not recorded; its connection connects again and the writer goes on (a
        failover does not stop it). Prints a line per second and a summary: sent, acked, failed (with the first
        error), writes/s, ack latency p50/p99. SIGTERM or Ctrl-C ends the run as the duration would.""")
        .option("host", "HOST", "the MariaDB/MySQL endpoint, e.g. the LB's write port's host", "127.0.0.1")
        .option("port", "PORT", "its port (the LB instance's mysql-write port)", null)
        .option("database", "NAME", "the database", "wiki")
        .option("user", "NAME", "the account", "fleetvote_app")
        .option("password-file", "FILE", "a file holding just the password, or a coordinator's "
            + "<data dir>/db-<name>.json (its appPassword)", null)
        .option("table", "NAME", "the table of sequenced rows", WriterOptions.DEFAULT_TABLE)
        .option("rate", "N", "writes per second, open loop (none: closed loop)", "none")
        .option("connections", "N", "connections writing at once", "1, or " + DEFAULT_OPEN_LOOP_CONNECTIONS
            + " with --rate")
        .option("seconds", "N", "how long to write (0: until SIGTERM or Ctrl-C)", "30")
        .option("timeout", "MS", "a write (its connect included) not acknowledged within this long fails", "5000")
        .option("acked", "FILE", "append every acknowledged write to FILE", "none");
  }

  /** The options {@code args} say; {@link IllegalArgumentException} naming what is wrong (exit code 2). */
  static WriterOptions options(String... args) {
    return options(commandLine().parse(args));
  }

  private static WriterOptions options(CommandLine.Parsed p) {
    int port = p.intValue("port", 1, 65535);
    int rate = p.string("rate").equals("none") ? 0 : p.intValue("rate", 1, 1_000_000);
    int connections = p.given("connections") ? p.intValue("connections", 1, 10_000)
        : rate > 0 ? DEFAULT_OPEN_LOOP_CONNECTIONS : 1;
    Duration duration = Duration.ofSeconds(p.longValue("seconds", 0, 31_536_000));
    Duration timeout = Duration.ofMillis(p.longValue("timeout", 1, 600_000));
    Path acked = p.string("acked").equals("none") ? null : Path.of(p.string("acked"));
    Path passwordFile = Path.of(p.string("password-file"));
    String password;
    try {
      password = PasswordFile.read(passwordFile);
    } catch (IllegalArgumentException e) {
      throw new CommandLineException("option --password-file: " + e.getMessage());
    }
    try {
      return new WriterOptions(p.string("host"), port, p.string("database"), p.string("user"), password,
          p.string("table"), rate, connections, duration, timeout, acked, "writer-" + ProcessHandle.current().pid());
    } catch (IllegalArgumentException e) {
      throw new CommandLineException(e.getMessage());
    }
  }

  public static void main(String[] args) {
    WriterOptions options = commandLine().parseOrExit(args, WriterMain::options);
    Vertx vertx = Vertx.vertx();
    DbWriter writer = new DbWriter(vertx, options, System.out::println);
    // SIGTERM or Ctrl-C: the run ends as at its duration's end, the acked file complete, the summary printed.
    CountDownLatch done = new CountDownLatch(1);
    Thread onSignal = new Thread(() -> {
      writer.stop();
      try {
        done.await(STOP_WAIT_SECONDS, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "writer stop");
    Runtime.getRuntime().addShutdownHook(onSignal);
    int status;
    try {
      WriterReport total = writer.run().await();
      System.out.println("writer: " + total.summary());
      status = total.acked() > 0 ? 0 : 1;
    } catch (Exception e) {
      System.err.println("fleetvote writer: " + e.getMessage());
      status = 1;
    }
    vertx.close().await();
    done.countDown();
    try {
      Runtime.getRuntime().removeShutdownHook(onSignal);
    } catch (IllegalStateException e) {
      // Exiting on a signal already: the hook has seen the run end and lets the JVM go.
      return;
    }
    System.exit(status);
  }
}
