package io.fleetvote.load;

import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;

import java.net.URI;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Sends GETs at a fixed rate from a verticle of its own and reports every second and at the end. Request k is due at
 * {@code start + k / rate} (request 0 at once) and is sent as soon as it is due, so a run of D seconds at R per second
 * sends exactly D * R requests; its latency counts from its due time. A late tick sends everything that has come due
 * rather than lowering the rate. A request still unanswered at the end waits for its answer or its timeout.
 *
 * <p>Closing the Vert.x under a run undeploys its verticle, which stops sending and lets the requests in flight get
 * their outcome before the client closes (at most the timeout), so {@link #run()} still completes with every sent
 * request counted. Should the client refuse a request all the same (closed), it counts as failed, class
 * {@code other-IllegalStateException}; no exception leaves a handler. Failures are classified by {@link FailureClass}.
 */
public final class LoadGenerator {

  private static final long NANOS_PER_SECOND = TimeUnit.SECONDS.toNanos(1);
  /** The longest a tick sleeps when no request is due sooner: how late a stop() or a finished second shows. */
  private static final long MAX_TICK_MILLIS = 50;

  private final Vertx vertx;
  private final LoadOptions options;
  private final Consumer<String> out;
  private final long planned;
  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicLong stopAt = new AtomicLong(Long.MAX_VALUE);
  private final Promise<Void> finished = Promise.promise();
  private volatile List<URI> targets;
  private volatile SecondListener seconds = (second, report) -> { };
  // The rest is confined to the verticle's event loop.
  private final LoadReport total = new LoadReport();
  private LoadReport second = new LoadReport();
  private HttpClient client;
  private long start;
  private long end;
  private long nextRequest;
  private long inFlight;
  private int secondsReported;
  private boolean finishing;

  public LoadGenerator(Vertx vertx, LoadOptions options, Consumer<String> out) {
    this.vertx = vertx;
    this.options = options;
    this.out = out;
    this.targets = options.targets();
    // Requests k with k / rate < duration.
    this.planned = options.duration().getSeconds() * options.rate()
        + (options.duration().getNano() * (long) options.rate() + NANOS_PER_SECOND - 1) / NANOS_PER_SECOND;
  }

  /** What each finished second of a run counted, for whoever follows the run (the demo, a benchmark). */
  @FunctionalInterface
  public interface SecondListener {
    /** Called on the generator's event loop; {@code second} counts from 1. */
    void second(int second, LoadReport report);
  }

  /** Hands every finished second's report to {@code listener} (set it before {@link #run()}). */
  public LoadGenerator everySecond(SecondListener listener) {
    this.seconds = listener;
    return this;
  }

  /** Spreads the requests over other targets from now on (the instances of a group that grew or shrank). */
  public void retarget(List<URI> newTargets) {
    if (!newTargets.isEmpty()) {
      targets = List.copyOf(newTargets);
    }
  }

  /**
   * Sends no request due after now; {@link #run()} completes once those sent have their outcome. Safe from any
   * thread and more than once: the first call decides.
   */
  public void stop() {
    stopAt.compareAndSet(Long.MAX_VALUE, System.nanoTime());
  }

  /** Runs the whole load, once; completes with the totals once every request sent has an outcome. */
  public Future<LoadReport> run() {
    if (!started.compareAndSet(false, true)) {
      return Future.failedFuture(new IllegalStateException("a load generator runs once"));
    }
    try {
      return vertx.deployVerticle(new Sender())
          .compose(id -> finished.future().compose(done -> vertx.undeploy(id)).otherwiseEmpty())
          .map(done -> total);
    } catch (RuntimeException e) {
      // A closed Vert.x rejects the deployment by throwing.
      return Future.failedFuture(e);
    }
  }

  /** Owns the client and the timers, so that closing the Vert.x lets the run finish instead of cutting it. */
  private final class Sender extends VerticleBase {

    @Override
    public Future<?> start() {
      client = vertx.httpClientBuilder()
          .with(new HttpClientOptions().setConnectTimeout((int) options.timeout().toMillis()).setKeepAlive(true))
          .with(new PoolOptions().setHttp1MaxSize(options.connections()).setMaxWaitQueueSize(-1))
          // A connection's error fails its request, which counts it: no log line besides.
          .withConnectHandler(connection -> connection.exceptionHandler(err -> { }))
          .build();
      List<URI> first = targets;
      out.accept(String.format("load: GET %s at %d/s for %d s", first.size() == 1 ? first.get(0) : first,
          options.rate(), options.duration().toSeconds()));
      start = System.nanoTime();
      end = start + options.duration().toNanos();
      tick();
      return Future.succeededFuture();
    }

    @Override
    public Future<?> stop() {
      LoadGenerator.this.stop();
      tick();
      return finished.future();
    }
  }

  private void tick() {
    if (finishing) {
      return;
    }
    long now = System.nanoTime();
    reportFinishedSeconds(now);
    long sendUntil = Math.min(now, stopAt.get());
    while (nextRequest < planned && dueAt(nextRequest) <= sendUntil) {
      send(nextRequest++);
    }
    if (sendingDone(now)) {
      finishWhenAnswered();
    } else {
      long millis = TimeUnit.NANOSECONDS.toMillis(dueAt(nextRequest) - now + TimeUnit.MILLISECONDS.toNanos(1) - 1);
      vertx.setTimer(Math.max(1, Math.min(millis, MAX_TICK_MILLIS)), timer -> tick());
    }
  }

  /** When request k is due, on the {@link System#nanoTime()} scale (k / rate in two steps, to never overflow). */
  private long dueAt(long k) {
    return start + k / options.rate() * NANOS_PER_SECOND + k % options.rate() * NANOS_PER_SECOND / options.rate();
  }

  /** Every request that will ever be sent has been, and the run's time (its duration, or until stop) is over. */
  private boolean sendingDone(long now) {
    long stopped = stopAt.get();
    boolean allSent = nextRequest >= planned || dueAt(nextRequest) > stopped;
    return allSent && now >= Math.min(end, stopped);
  }

  private void send(long k) {
    long dueAt = dueAt(k);
    second.countSent();
    total.countSent();
    inFlight++;
    List<URI> now = targets;
    RequestOptions request = new RequestOptions().setMethod(HttpMethod.GET)
        .setAbsoluteURI(now.get((int) (k % now.size())).toString()).setIdleTimeout(options.timeout().toMillis());
    Future<Integer> status;
    try {
      status = client.request(request)
          .compose(req -> req.send())
          .compose(response -> response.body().map(body -> response.statusCode()));
    } catch (RuntimeException e) {
      // A closed client throws instead of failing the future.
      status = Future.failedFuture(e);
    }
    status.timeout(options.timeout().toMillis(), TimeUnit.MILLISECONDS)
        .onComplete(result -> outcome(dueAt, result));
  }

  private void outcome(long dueAt, AsyncResult<Integer> result) {
    inFlight--;
    if (result.succeeded() && FailureClass.isSuccess(result.result())) {
      long micros = TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - dueAt);
      second.countOk(micros);
      total.countOk(micros);
    } else {
      String failure = result.succeeded() ? FailureClass.ofStatus(result.result()) : FailureClass.of(result.cause());
      second.countFailed(failure);
      total.countFailed(failure);
    }
    if (sendingDone(System.nanoTime())) {
      finishWhenAnswered();
    }
  }

  private void finishWhenAnswered() {
    if (finishing || inFlight > 0) {
      return;
    }
    finishing = true;
    reportFinishedSeconds(System.nanoTime());
    if (!second.isEmpty()) {
      reportSecond();
    }
    out.accept("total  " + total.line());
    client.close().transform(closed -> writeSummary()).onComplete(written -> finished.complete());
  }

  private void reportFinishedSeconds(long now) {
    long elapsedSeconds = (now - start) / NANOS_PER_SECOND;
    long lastSecond = Math.min(options.duration().toSeconds(), (Math.min(now, stopAt.get()) - start)
        / NANOS_PER_SECOND);
    while (secondsReported < elapsedSeconds && secondsReported < lastSecond) {
      reportSecond();
    }
  }

  private void reportSecond() {
    secondsReported++;
    out.accept(String.format("%5ds  %s", secondsReported, second.line()));
    seconds.second(secondsReported, second);
    second = new LoadReport();
  }

  private Future<Void> writeSummary() {
    if (options.summaryJson() == null) {
      return Future.succeededFuture();
    }
    return vertx.fileSystem().writeFile(options.summaryJson().toString(), total.toJson().toBuffer())
        .onFailure(err -> out.accept("load: cannot write " + options.summaryJson() + ": " + err.getMessage()));
  }
}
