package io.fleetvote.load.db;

import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.AsyncFile;
import io.vertx.core.file.OpenOptions;
import io.vertx.mysqlclient.MySQLAuthenticationPlugin;
import io.vertx.mysqlclient.MySQLConnectOptions;
import io.vertx.mysqlclient.MySQLConnection;
import io.vertx.mysqlclient.SslMode;
import io.vertx.sqlclient.Tuple;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Writes sequenced rows into a MariaDB/MySQL table ({@code seq, written_at, writer, payload}, made if missing) and
 * records every write the server acknowledged, from a verticle of its own. Row {@code seq} is one past the table's
 * highest when the run starts, then one more per write. Each connection carries one write at a time, each write its
 * own transaction (autocommit): an acknowledgement is a commit, semi-sync's wait for the replica included.
 * <ul>
 *   <li>Closed loop ({@code rate} 0): each connection writes again as soon as its last write has its outcome.</li>
 *   <li>Open loop: write k is due at {@code start + k / rate} and goes out on the next free connection; its latency
 *   counts from its due time, so a stalled server shows its stall. A write that finds no free connection within the
 *   timeout fails without being sent.</li>
 * </ul>
 * A write that fails (refused, reset, an error, no acknowledgement within the timeout) is counted with its error and
 * not recorded; its connection is closed and the next write on it connects again (closed loop: after
 * {@value #RETRY_MILLIS} ms, so that an outage is not a busy loop), so a failover does not stop the writer. Each
 * acknowledged write is appended to the {@code acked} file ({@link AckedWrite}), flushed every
 * {@value #FLUSH_MILLIS} ms and at the end, and handed to the {@link Listener}.
 */
public final class DbWriter {

  /** A closed-loop connection's pause after a failure before it connects again. */
  static final long RETRY_MILLIS = 100;
  /** How often the acknowledged writes go to the file. */
  static final long FLUSH_MILLIS = 100;
  private static final long NANOS_PER_SECOND = TimeUnit.SECONDS.toNanos(1);
  /** The longest an open-loop tick sleeps when no write is due sooner: how late a stop() shows. */
  private static final long MAX_TICK_MILLIS = 50;

  private final Vertx vertx;
  private final WriterOptions options;
  private final Consumer<String> out;
  private final Clock clock;
  private final MySQLConnectOptions connectOptions;
  private final String insert;
  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicLong stopAt = new AtomicLong(Long.MAX_VALUE);
  private final Promise<Void> finished = Promise.promise();
  private volatile Listener listener = (seq, ackedAtNanos) -> { };
  // The rest is confined to the verticle's event loop.
  private final WriterReport total = new WriterReport();
  private WriterReport second = new WriterReport();
  private final Deque<Lane> idle = new ArrayDeque<>();
  /** Open loop: the due times of writes waiting for a free connection. */
  private final Deque<Long> queued = new ArrayDeque<>();
  private final StringBuilder unflushed = new StringBuilder();
  private AsyncFile ackedFile;
  private long start;
  private long end;
  private long nextSeq;
  /** Open loop: the next write's index k (due at start + k / rate). */
  private long nextDue;
  /** Open loop: no write will come due any more. */
  private boolean scheduleOver;
  /** Closed loop: the connections that will write again. */
  private int lanesWriting;
  private int secondsReported;
  private final long[] timers = new long[2];
  private boolean finishing;

  public DbWriter(Vertx vertx, WriterOptions options, Consumer<String> out) {
    this(vertx, options, out, Clock.systemUTC());
  }

  /** @param clock the ack times' clock (the acked file's) */
  public DbWriter(Vertx vertx, WriterOptions options, Consumer<String> out, Clock clock) {
    this.vertx = vertx;
    this.options = options;
    this.out = out;
    this.clock = clock;
    this.connectOptions = new MySQLConnectOptions().setHost(options.host()).setPort(options.port())
        .setUser(options.user()).setPassword(options.password()).setDatabase(options.database())
        .setSslMode(SslMode.DISABLED).setAuthenticationPlugin(MySQLAuthenticationPlugin.MYSQL_NATIVE_PASSWORD)
        .setCachePreparedStatements(true);
    this.insert = "INSERT INTO " + options.table() + " (seq, written_at, writer, payload) VALUES (?, NOW(6), ?, ?)";
  }

  /** Who follows the writes as they are acknowledged (a benchmark timing them on a replica). */
  public interface Listener {
    /** Once the run knows its first sequence number, before any write. On the writer's event loop. */
    default void started(long firstSeq) {
    }

    /** Write {@code seq} acknowledged, at {@code ackedAtNanos} ({@link System#nanoTime()}). On the event loop. */
    void acked(long seq, long ackedAtNanos);
  }

  /** Hands every acknowledged write to {@code newListener} (set it before {@link #run()}). */
  public DbWriter listener(Listener newListener) {
    this.listener = newListener;
    return this;
  }

  /**
   * Starts no write after now; {@link #run()} completes once those sent have their outcome. Safe from any thread and
   * more than once: the first call decides.
   */
  public void stop() {
    stopAt.compareAndSet(Long.MAX_VALUE, System.nanoTime());
  }

  /**
   * Runs the writes, once: makes the table if missing, writes for the duration (or until stopped), and completes with
   * the totals once every write sent has its outcome and the acked file is written; fails when the table cannot be
   * prepared or the acked file opened.
   */
  public Future<WriterReport> run() {
    if (!started.compareAndSet(false, true)) {
      return Future.failedFuture(new IllegalStateException("a writer runs once"));
    }
    try {
      return vertx.deployVerticle(new Writing())
          .compose(id -> finished.future().compose(done -> vertx.undeploy(id)).otherwiseEmpty())
          .map(done -> total);
    } catch (RuntimeException e) {
      // A closed Vert.x rejects the deployment by throwing.
      return Future.failedFuture(e);
    }
  }

  /** Owns the connections, the file and the timers, so that closing the Vert.x lets the run finish. */
  private final class Writing extends VerticleBase {

    @Override
    public Future<?> start() {
      Future<AsyncFile> file = options.acked() == null ? Future.succeededFuture() : vertx.fileSystem()
          .open(options.acked().toString(), new OpenOptions().setWrite(true).setCreate(true).setAppend(true))
          .recover(e -> Future.failedFuture(new IllegalStateException("cannot open the acked file "
              + options.acked() + ": " + e.getMessage(), e)));
      return file.compose(opened -> {
        ackedFile = opened;
        return firstSeq();
      }).onSuccess(DbWriter.this::begin).onFailure(e -> {
        if (ackedFile != null) {
          ackedFile.close();
        }
      });
    }

    @Override
    public Future<?> stop() {
      DbWriter.this.stop();
      queued.clear();
      finishWhenDone();
      return finished.future();
    }
  }

  /** Makes the table if missing; one past its highest {@code seq}. */
  private Future<Long> firstSeq() {
    String where = options.user() + "@" + options.host() + ":" + options.port() + "/" + options.database();
    return connect().timeout(options.timeout().toMillis(), TimeUnit.MILLISECONDS)
        .compose(connection -> connection.query("CREATE TABLE IF NOT EXISTS " + options.table()
            + " (seq BIGINT PRIMARY KEY, written_at TIMESTAMP(6), writer VARCHAR(64), payload VARCHAR(255))")
        .execute()
        .compose(x -> connection.query("SELECT COALESCE(MAX(seq), 0) + 1 AS first FROM " + options.table()).execute())
        .map(rows -> rows.iterator().next().getLong("first"))
        .timeout(options.timeout().toMillis(), TimeUnit.MILLISECONDS)
        .eventually(connection::close))
        .recover(e -> Future.failedFuture(new IllegalStateException("cannot prepare table " + options.table()
            + " as " + where + ": " + describe(e), e)));
  }

  private void begin(long firstSeq) {
    nextSeq = firstSeq;
    start = System.nanoTime();
    end = options.duration().isZero() ? Long.MAX_VALUE : start + options.duration().toNanos();
    listener.started(firstSeq);
    out.accept(String.format("writer: rows from seq %d into %s.%s at %s:%d, %s, %s", firstSeq, options.database(),
        options.table(), options.host(), options.port(), options.mode(), options.span()));
    timers[0] = vertx.setPeriodic(FLUSH_MILLIS, timer -> flush());
    timers[1] = vertx.setPeriodic(1000, timer -> reportSecond());
    lanesWriting = options.connections();
    for (int i = 0; i < options.connections(); i++) {
      Lane lane = new Lane();
      if (options.openLoop()) {
        idle.push(lane);
      } else {
        lane.next();
      }
    }
    if (options.openLoop()) {
      tick();
    }
  }

  /**
   * Open loop: queues what has come due, hands it to free connections, and wakes up for the next due write. At the
   * end of the duration, what is queued still goes out; after a stop, it does not.
   */
  private void tick() {
    long now = System.nanoTime();
    long stopped = stopAt.get();
    if (now >= stopped) {
      queued.clear();
    }
    while (dueAt(nextDue) < end && dueAt(nextDue) <= Math.min(now, stopped)) {
      queued.add(dueAt(nextDue++));
    }
    dispatch();
    if (now >= Math.min(end, stopped)) {
      scheduleOver = true;
      finishWhenDone();
    } else {
      long millis = TimeUnit.NANOSECONDS.toMillis(dueAt(nextDue) - now + TimeUnit.MILLISECONDS.toNanos(1) - 1);
      vertx.setTimer(Math.max(1, Math.min(millis, MAX_TICK_MILLIS)), timer -> tick());
    }
  }

  /** When write k is due, on the {@link System#nanoTime()} scale (k / rate in two steps, to never overflow). */
  private long dueAt(long k) {
    int rate = options.rate();
    return start + k / rate * NANOS_PER_SECOND + k % rate * NANOS_PER_SECOND / rate;
  }

  private void dispatch() {
    long now = System.nanoTime();
    while (!queued.isEmpty() && !idle.isEmpty()) {
      long due = queued.poll();
      if (now - due > options.timeout().toNanos()) {
        count(WriterReport::countSent);
        failed("not sent: no free connection within " + options.timeout().toMillis() + " ms");
      } else {
        idle.pop().write(due);
      }
    }
  }

  /** One connection: one write at a time, connected again after a failure. */
  private final class Lane {

    private MySQLConnection connection;
    /** Counts the connections dropped: a connect that completes after its own was given up is closed. */
    private int generation;

    /** Closed loop: the next write, unless the run is over. */
    void next() {
      long now = System.nanoTime();
      if (now >= end || now >= stopAt.get()) {
        lanesWriting--;
        finishWhenDone();
      } else {
        write(now);
      }
    }

    void write(long due) {
      long seq = nextSeq++;
      count(WriterReport::countSent);
      Future<?> ack;
      try {
        ack = connection().compose(c -> c.preparedQuery(insert).execute(Tuple.of(seq, options.writer(),
            options.writer() + " row " + seq)));
      } catch (RuntimeException e) {
        // A closed Vert.x throws instead of failing the future.
        ack = Future.failedFuture(e);
      }
      ack.timeout(options.timeout().toMillis(), TimeUnit.MILLISECONDS).onComplete(result -> outcome(seq, due, result));
    }

    private Future<MySQLConnection> connection() {
      if (connection != null) {
        return Future.succeededFuture(connection);
      }
      int mine = generation;
      return connect().map(c -> {
        if (mine != generation) {
          c.close();
          throw new IllegalStateException("connected too late");
        }
        // A connection's error fails its write, which counts it: no log line besides.
        c.exceptionHandler(err -> { });
        connection = c;
        return c;
      });
    }

    private void outcome(long seq, long due, AsyncResult<?> result) {
      if (result.succeeded()) {
        acked(seq, due);
      } else {
        generation++;
        if (connection != null) {
          connection.close();
          connection = null;
        }
        failed(describe(result.cause()));
      }
      if (options.openLoop()) {
        idle.push(this);
        dispatch();
        finishWhenDone();
      } else if (result.succeeded()) {
        next();
      } else {
        vertx.setTimer(RETRY_MILLIS, timer -> next());
      }
    }
  }

  private Future<MySQLConnection> connect() {
    return MySQLConnection.connect(vertx, connectOptions);
  }

  private void acked(long seq, long due) {
    long now = System.nanoTime();
    long micros = TimeUnit.NANOSECONDS.toMicros(now - due);
    second.countAcked(micros);
    total.countAcked(micros);
    if (ackedFile != null) {
      long at = ChronoUnit.MICROS.between(Instant.EPOCH, clock.instant());
      unflushed.append(new AckedWrite(seq, at).line()).append('\n');
    }
    listener.acked(seq, now);
  }

  private void failed(String error) {
    second.countFailed(error);
    total.countFailed(error);
  }

  private void count(Consumer<WriterReport> what) {
    what.accept(second);
    what.accept(total);
  }

  /** The run ends once no connection will write again and every write sent has its outcome. */
  private void finishWhenDone() {
    boolean inFlight = total.sent() > total.acked() + total.failed();
    boolean writing = options.openLoop() ? !scheduleOver || !queued.isEmpty() : lanesWriting > 0;
    if (finishing || writing || inFlight) {
      return;
    }
    finishing = true;
    vertx.cancelTimer(timers[0]);
    vertx.cancelTimer(timers[1]);
    total.elapsed(Duration.ofNanos(System.nanoTime() - start));
    if (second.sent() > 0) {
      reportSecond();
    }
    flush();
    Future<Void> closed = ackedFile == null ? Future.succeededFuture() : ackedFile.close();
    closed.onComplete(done -> {
      if (done.failed()) {
        out.accept("writer: cannot write the acked file " + options.acked() + ": " + done.cause().getMessage());
      }
      finished.complete();
    });
  }

  private void flush() {
    if (ackedFile != null && unflushed.length() > 0) {
      ackedFile.write(Buffer.buffer(unflushed.toString()));
      unflushed.setLength(0);
    }
  }

  private void reportSecond() {
    secondsReported++;
    second.elapsed(Duration.ofSeconds(1));
    out.accept(String.format("%5ds  %s", secondsReported, second.line()));
    second = new WriterReport();
  }

  /** A failure as a sentence: a timeout says how long it waited, anything else its exception and message. */
  private String describe(Throwable e) {
    if (e instanceof TimeoutException) {
      return "no answer within " + options.timeout().toMillis() + " ms";
    }
    String message = e.getMessage();
    return e.getClass().getSimpleName() + (message == null ? "" : ": " + message);
  }
}
