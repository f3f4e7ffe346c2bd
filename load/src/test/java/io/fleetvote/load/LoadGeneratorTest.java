package io.fleetvote.load;

import io.fleetvote.common.net.FreePorts;
import io.fleetvote.testkit.Await;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class LoadGeneratorTest {

  /** How long the server of known latency takes to answer. */
  private static final long DELAY_MS = 20;
  /** Bounds every wait on a run: a generator that never completes fails the test instead of hanging it. */
  private static final long RUN_LIMIT_SECONDS = 30;

  @Test
  void atOneRequestPerSecondTheFirstLeavesAtOnceAndLatencyIsTheServersDelay(Vertx vertx) throws Exception {
    List<Long> arrivals = new CopyOnWriteArrayList<>();
    URI url = serve(vertx, request -> {
      arrivals.add(System.nanoTime());
      vertx.setTimer(DELAY_MS, timer -> request.response().end("ok"));
    });
    warmUp(vertx, url);
    arrivals.clear();
    AtomicLong started = new AtomicLong();

    LoadReport total = new LoadGenerator(vertx, options(url, 1, Duration.ofSeconds(3), Duration.ofSeconds(2)), line -> {
      if (line.startsWith("load:")) {
        started.set(System.nanoTime());
      }
    }).run().await(RUN_LIMIT_SECONDS, TimeUnit.SECONDS);

    assertThat(total.sent()).isEqualTo(3);
    assertThat(total.ok()).isEqualTo(3);
    assertThat(TimeUnit.NANOSECONDS.toMillis(arrivals.get(0) - started.get()))
        .as("ms from the run's start until the first request reached the server (a period is 1000)").isLessThan(500);
    assertThat(total.percentileMillis(50)).as("p50 ms, for a server answering in %d ms", DELAY_MS)
        .isBetween(DELAY_MS - 1.0, DELAY_MS + 500.0);
  }

  @Test
  void atAHighRateTheExactCountIsSentAndNoRequestIsAPeriodLate(Vertx vertx) throws Exception {
    URI url = serve(vertx, request -> vertx.setTimer(DELAY_MS, timer -> request.response().end("ok")));
    warmUp(vertx, url);
    int rate = 100;

    LoadReport total = new LoadGenerator(vertx, options(url, rate, Duration.ofSeconds(2), Duration.ofSeconds(2)),
        line -> { }).run().await(RUN_LIMIT_SECONDS, TimeUnit.SECONDS);

    assertThat(total.sent()).isEqualTo(2L * rate);
    assertThat(total.ok()).isEqualTo(2L * rate);
    // Every request of the old schedule left a whole period after it was due, the fastest included. A busy machine
    // adds about a period to the median (p50 24 to 41 ms seen at a load average of 6 on 2 cores), not to the fastest.
    double periodMs = 1000.0 / rate;
    assertThat(total.percentileMillis(0)).as("fastest answer ms, for a server answering in %d ms, a period being %.0f",
        DELAY_MS, periodMs).isBetween(DELAY_MS - 1.0, DELAY_MS + periodMs);
  }

  @Test
  void answersThatAreNot2xxAreCountedByStatusEverySecondAndInTheSummary(Vertx vertx, @TempDir Path dir)
      throws Exception {
    AtomicInteger received = new AtomicInteger();
    URI url = serve(vertx, request -> {
      int n = received.incrementAndGet();
      request.response().setStatusCode(n % 10 == 0 ? 500 : n % 10 == 5 ? 503 : 200).end("ok");
    });
    List<String> lines = new CopyOnWriteArrayList<>();
    Path summary = dir.resolve("summary.json");

    LoadReport total = new LoadGenerator(vertx, new LoadOptions(List.of(url), 200, Duration.ofSeconds(2),
        Duration.ofSeconds(2), 32, summary), lines::add).run().await(RUN_LIMIT_SECONDS, TimeUnit.SECONDS);

    assertThat(total.sent()).isEqualTo(400);
    assertThat(received.get()).isEqualTo(400);
    assertThat(total.ok()).isEqualTo(320);
    assertThat(total.failed()).isEqualTo(80);
    assertThat(total.failures()).containsExactly(Map.entry("http-500", 40L), Map.entry("http-503", 40L));
    assertThat(total.percentileMillis(99)).isPositive();
    assertThat(lines).anyMatch(l -> l.startsWith("    1s") && l.contains("(http-500 ") && l.contains("http-503 "))
        .anyMatch(l -> l.startsWith("    2s"))
        .anyMatch(l -> l.startsWith("total") && l.contains("failed    80 (http-500 40, http-503 40)"));
    JsonObject json = new JsonObject(Files.readString(summary));
    assertThat(json.getLong("sent")).isEqualTo(400);
    assertThat(json.getLong("failed")).isEqualTo(80);
    assertThat(json.getJsonObject("failures")).isEqualTo(new JsonObject().put("http-500", 40).put("http-503", 40));
  }

  @Test
  void aTargetThatIsNotThereIsRefused(Vertx vertx) throws Exception {
    URI nothing = URI.create("http://127.0.0.1:" + FreePorts.pick() + "/");
    List<String> lines = new CopyOnWriteArrayList<>();

    LoadReport total = new LoadGenerator(vertx, options(nothing, 50, Duration.ofSeconds(1), Duration.ofSeconds(1)),
        lines::add).run().await(RUN_LIMIT_SECONDS, TimeUnit.SECONDS);

    assertThat(total.sent()).isEqualTo(50);
    assertThat(total.ok()).isZero();
    assertThat(total.failures()).containsExactly(Map.entry("refused", 50L));
    assertThat(lines).anyMatch(l -> l.startsWith("    1s") && l.contains("(refused "));
  }

  @Test
  void aServerThatClosesTheConnectionIsCountedAsReset(Vertx vertx) throws Exception {
    assertEveryFourthCutIsReset(vertx, new HttpServerOptions());
  }

  @Test
  void aServerThatResetsTheConnectionIsCountedAsReset(Vertx vertx) throws Exception {
    // SO_LINGER 0: closing sends an RST instead of a FIN.
    assertEveryFourthCutIsReset(vertx, new HttpServerOptions().setSoLinger(0));
  }

  @Test
  void aServerThatNeverAnswersIsATimeout(Vertx vertx) throws Exception {
    URI url = serve(vertx, request -> { });

    LoadReport total = new LoadGenerator(vertx, options(url, 20, Duration.ofSeconds(1), Duration.ofMillis(300)),
        line -> { }).run().await(RUN_LIMIT_SECONDS, TimeUnit.SECONDS);

    assertThat(total.sent()).isEqualTo(20);
    assertThat(total.failures()).containsExactly(Map.entry("timeout", 20L));
  }

  @Test
  void aConnectionNeverAcceptedIsATimeout(Vertx vertx) throws Exception {
    List<Socket> queued = new ArrayList<>();
    try (ServerSocket neverAccepts = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      fillBacklog(neverAccepts, queued);
      URI url = URI.create("http://127.0.0.1:" + neverAccepts.getLocalPort() + "/");

      LoadReport total = new LoadGenerator(vertx, options(url, 10, Duration.ofSeconds(1), Duration.ofMillis(300)),
          line -> { }).run().await(RUN_LIMIT_SECONDS, TimeUnit.SECONDS);

      assertThat(total.sent()).isEqualTo(10);
      assertThat(total.failures()).as("netty's ConnectTimeoutException is a ConnectException, yet not a refusal")
          .containsExactly(Map.entry("timeout", 10L));
    } finally {
      for (Socket socket : queued) {
        socket.close();
      }
    }
  }

  @Test
  void requestsGoToTheTargetsInTurnAndFollowARetarget(Vertx vertx) throws Exception {
    AtomicInteger toA = new AtomicInteger();
    AtomicInteger toB = new AtomicInteger();
    URI urlA = serve(vertx, r -> {
      toA.incrementAndGet();
      r.response().end();
    });
    URI urlB = serve(vertx, r -> {
      toB.incrementAndGet();
      r.response().end();
    });
    LoadGenerator generator = new LoadGenerator(vertx, new LoadOptions(List.of(urlA, urlB), 100, Duration.ofSeconds(2),
        Duration.ofSeconds(2), 8, null), line -> { });
    Future<LoadReport> run = generator.run();
    Await.until("half the requests", Duration.ofSeconds(10), () -> toA.get() + toB.get() >= 100);
    generator.retarget(List.of(urlB));
    int aBefore = toA.get();
    LoadReport total = run.await(RUN_LIMIT_SECONDS, TimeUnit.SECONDS);
    assertThat(total.failed()).isZero();
    assertThat(toA.get() + toB.get()).isEqualTo(200);
    assertThat(toA.get()).as("after the retarget, A gets only what was already sent")
        .isLessThanOrEqualTo(aBefore + 2);
    assertThat(toB.get()).isGreaterThan(100);
  }

  @Test
  void stopEndsTheRunFromAnyThreadAndAgainDoesNothing(Vertx vertx) throws Exception {
    AtomicInteger received = new AtomicInteger();
    URI url = serve(vertx, request -> {
      received.incrementAndGet();
      request.response().end("ok");
    });
    LoadGenerator generator = new LoadGenerator(vertx, options(url, 50, Duration.ofSeconds(60), Duration.ofSeconds(5)),
        line -> { });
    Future<LoadReport> run = generator.run();
    Await.until("10 requests", Duration.ofSeconds(10), () -> received.get() >= 10);

    Thread other = new Thread(generator::stop);
    other.start();
    generator.stop();
    other.join();
    LoadReport total = run.await(RUN_LIMIT_SECONDS, TimeUnit.SECONDS);
    generator.stop();

    assertThat(total.sent()).isLessThan(50 * 60).isEqualTo(total.ok()).isEqualTo(received.get());
  }

  @Test
  void stoppingAndClosingItsVertxWithRequestsInFlightCountsEveryRequestAndThrowsNothing(Vertx vertx)
      throws Exception {
    assertClosingMidRunCountsEveryRequest(vertx, true);
  }

  @Test
  void closingItsVertxWithoutStoppingEndsTheRunAndCountsEveryRequest(Vertx vertx) throws Exception {
    assertClosingMidRunCountsEveryRequest(vertx, false);
  }

  /** The server is on the test's Vert.x and answers in 300 ms; the generator's own Vert.x is closed mid-run. */
  private static void assertClosingMidRunCountsEveryRequest(Vertx vertx, boolean stopFirst) throws Exception {
    AtomicInteger received = new AtomicInteger();
    URI url = serve(vertx, request -> {
      received.incrementAndGet();
      vertx.setTimer(300, timer -> request.response().end("ok"));
    });
    Vertx own = Vertx.vertx();
    List<Throwable> escaped = new CopyOnWriteArrayList<>();
    own.exceptionHandler(escaped::add);
    LoadGenerator generator = new LoadGenerator(own, options(url, 50, Duration.ofSeconds(60), Duration.ofSeconds(5)),
        line -> { });
    Future<LoadReport> run = generator.run();
    Await.until("20 requests", Duration.ofSeconds(10), () -> received.get() >= 20);

    if (stopFirst) {
      generator.stop();
    }
    Future<Void> closed = own.close();
    LoadReport total = run.await(RUN_LIMIT_SECONDS, TimeUnit.SECONDS);
    closed.await(RUN_LIMIT_SECONDS, TimeUnit.SECONDS);

    assertThat(escaped).as("exceptions that escaped a handler").isEmpty();
    assertThat(total.sent()).as("sent").isGreaterThanOrEqualTo(20).isLessThan(50 * 60);
    assertThat(total.ok()).as("the requests in flight got their answers before the client closed")
        .isEqualTo(total.sent()).isEqualTo(received.get());
  }

  private static void assertEveryFourthCutIsReset(Vertx vertx, HttpServerOptions serverOptions) throws Exception {
    AtomicInteger received = new AtomicInteger();
    HttpServer server = vertx.createHttpServer(serverOptions).requestHandler(request -> {
      if (received.incrementAndGet() % 4 == 0) {
        request.connection().close();
      } else {
        request.response().end("ok");
      }
    }).listen(0, "127.0.0.1").await();
    URI url = URI.create("http://127.0.0.1:" + server.actualPort() + "/");
    List<String> lines = new CopyOnWriteArrayList<>();

    LoadReport total = new LoadGenerator(vertx, options(url, 100, Duration.ofSeconds(1), Duration.ofSeconds(2)),
        lines::add).run().await(RUN_LIMIT_SECONDS, TimeUnit.SECONDS);

    assertThat(total.sent()).isEqualTo(100);
    assertThat(total.ok()).isEqualTo(75);
    assertThat(total.failures()).containsExactly(Map.entry("reset", 25L));
    assertThat(lines).anyMatch(l -> l.startsWith("total") && l.contains("failed    25 (reset 25)"));
  }

  /** Connects to a socket that never accepts until the kernel's accept queue is full and SYNs go unanswered. */
  private static void fillBacklog(ServerSocket neverAccepts, List<Socket> queued) throws IOException {
    for (int i = 0; i < 16; i++) {
      Socket socket = new Socket();
      try {
        socket.connect(new InetSocketAddress(neverAccepts.getInetAddress(), neverAccepts.getLocalPort()), 200);
        queued.add(socket);
      } catch (IOException full) {
        socket.close();
        return;
      }
    }
    throw new AssertionError("the accept queue never filled up: " + queued.size() + " connections queued");
  }

  /** A cold JVM (class loading, JIT) takes longer than a period: a second of load first. */
  private static void warmUp(Vertx vertx, URI url) throws Exception {
    LoadOptions second = options(url, 100, Duration.ofSeconds(1), Duration.ofSeconds(2));
    new LoadGenerator(vertx, second, line -> { }).run().await(RUN_LIMIT_SECONDS, TimeUnit.SECONDS);
  }

  private static URI serve(Vertx vertx, Handler<HttpServerRequest> handler) {
    HttpServer server = vertx.createHttpServer().requestHandler(handler).listen(0, "127.0.0.1").await();
    return URI.create("http://127.0.0.1:" + server.actualPort() + "/");
  }

  private static LoadOptions options(URI url, int rate, Duration duration, Duration timeout) {
    return new LoadOptions(List.of(url), rate, duration, timeout, 32, null);
  }
}
