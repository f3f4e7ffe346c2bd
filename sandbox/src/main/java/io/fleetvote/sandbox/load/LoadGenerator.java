package io.fleetvote.sandbox.load;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;

import java.net.URI;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Sends GETs at a fixed rate on a Vert.x event loop and reports every second and at the end. Requests are due on a
 * fixed schedule from the start; each tick sends every request that has come due, so a late tick catches up rather
 * than lowering the rate. A request still unanswered at the end waits for its answer or its timeout.
 */
public final class LoadGenerator {

  private static final long TICK_MILLIS = 5;

  private final Vertx vertx;
  private final LoadOptions options;
  private final Consumer<String> out;
  private final LoadReport total = new LoadReport();
  private LoadReport second = new LoadReport();
  private HttpClient client;
  private long start;
  private long due;
  private long inFlight;
  private int secondsReported;
  private List<URI> targets;
  private long next;
  private volatile long stopAt = Long.MAX_VALUE;

  public LoadGenerator(Vertx vertx, LoadOptions options, Consumer<String> out) {
    this.vertx = vertx;
    this.options = options;
    this.out = out;
    this.targets = options.targets();
  }

  /** Spreads the requests over other targets from now on (the instances of a group that grew or shrank). */
  public void retarget(List<URI> newTargets) {
    if (!newTargets.isEmpty()) {
      List<URI> copy = List.copyOf(newTargets);
      vertx.runOnContext(x -> targets = copy);
    }
  }

  /** Sends no more requests from now on; {@link #run()} completes once those in flight have their outcome. */
  public void stop() {
    stopAt = System.nanoTime();
  }

  /** Runs the whole load; completes with the totals once every request has an outcome. */
  public Future<LoadReport> run() {
    Promise<LoadReport> done = Promise.promise();
    vertx.runOnContext(x -> {
      client = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout((int) options.timeout().toMillis())
          .setKeepAlive(true), new PoolOptions().setHttp1MaxSize(options.connections()).setMaxWaitQueueSize(-1));
      out.accept(String.format("load: GET %s at %d/s for %d s", targets.size() == 1 ? targets.get(0) : targets,
          options.rate(), options.duration().toSeconds()));
      start = System.nanoTime();
      long planned = start + options.duration().toNanos();
      vertx.setPeriodic(TICK_MILLIS, timer -> {
        long now = System.nanoTime();
        long sendUntil = Math.min(planned, stopAt);
        long shouldHaveSent = Math.min(now, sendUntil) - start;
        long target = shouldHaveSent * options.rate() / TimeUnit.SECONDS.toNanos(1);
        while (due < target) {
          send(start + due * TimeUnit.SECONDS.toNanos(1) / options.rate());
          due++;
        }
        reportFinishedSeconds(now);
        if (now >= sendUntil && inFlight == 0) {
          vertx.cancelTimer(timer);
          reportSecond();
          out.accept("total  " + total.line());
          client.close().onComplete(closed -> writeSummary().onComplete(w -> done.complete(total)));
        }
      });
    });
    return done.future();
  }

  private void send(long dueAt) {
    second.countSent();
    total.countSent();
    inFlight++;
    URI target = targets.get((int) (next++ % targets.size()));
    RequestOptions request = new RequestOptions().setMethod(HttpMethod.GET).setAbsoluteURI(target.toString())
        .setIdleTimeout(options.timeout().toMillis());
    client.request(request)
        .compose(req -> req.send())
        .compose(response -> response.body().map(body -> response.statusCode()))
        .timeout(options.timeout().toMillis(), TimeUnit.MILLISECONDS)
        .onComplete(result -> {
          inFlight--;
          if (result.succeeded() && result.result() >= 200 && result.result() < 300) {
            long micros = TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - dueAt);
            second.countOk(micros);
            total.countOk(micros);
          } else {
            second.countFailed();
            total.countFailed();
          }
        });
  }

  private void reportFinishedSeconds(long now) {
    long elapsedSeconds = (now - start) / TimeUnit.SECONDS.toNanos(1);
    long lastSecond = Math.min(options.duration().toSeconds(), (Math.min(now, stopAt) - start)
        / TimeUnit.SECONDS.toNanos(1));
    while (secondsReported < elapsedSeconds && secondsReported < lastSecond) {
      reportSecond();
    }
  }

  private void reportSecond() {
    secondsReported++;
    out.accept(String.format("%5ds  %s", secondsReported, second.line()));
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
