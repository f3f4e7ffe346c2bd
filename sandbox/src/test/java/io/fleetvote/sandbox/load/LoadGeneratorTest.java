package io.fleetvote.sandbox.load;

import io.fleetvote.common.net.FreePorts;
import io.fleetvote.sandbox.It;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class LoadGeneratorTest {

  @Test
  void sendsAtTheRateAndCountsEveryAnswerAndFailure(Vertx vertx, @TempDir Path dir) throws Exception {
    AtomicInteger received = new AtomicInteger();
    HttpServer target = vertx.createHttpServer().requestHandler(request -> request.response()
        .setStatusCode(received.incrementAndGet() % 10 == 0 ? 500 : 200).end("ok")).listen(0, "127.0.0.1").await();
    List<String> lines = new CopyOnWriteArrayList<>();
    Path summary = dir.resolve("summary.json");
    LoadOptions options = new LoadOptions(List.of(URI.create("http://127.0.0.1:" + target.actualPort() + "/")), 200,
        Duration.ofSeconds(2), Duration.ofSeconds(2), 32, summary);

    LoadReport total = new LoadGenerator(vertx, options, lines::add).run().await();

    assertThat(total.sent()).isEqualTo(400);
    assertThat(received.get()).isEqualTo(400);
    assertThat(total.failed()).isEqualTo(40);
    assertThat(total.ok()).isEqualTo(360);
    assertThat(total.percentileMillis(99)).isPositive();
    assertThat(lines).anyMatch(l -> l.startsWith("    1s")).anyMatch(l -> l.startsWith("    2s"))
        .anyMatch(l -> l.startsWith("total"));
    JsonObject json = new JsonObject(Files.readString(summary));
    assertThat(json.getLong("sent")).isEqualTo(400);
    assertThat(json.getLong("failed")).isEqualTo(40);
  }

  @Test
  void aTargetThatIsNotThereIsAllFailures(Vertx vertx) throws Exception {
    LoadOptions options = new LoadOptions(List.of(URI.create("http://127.0.0.1:" + FreePorts.pick() + "/")), 50,
        Duration.ofSeconds(1), Duration.ofSeconds(1), 8, null);
    LoadReport total = new LoadGenerator(vertx, options, line -> { }).run().await();
    assertThat(total.sent()).isEqualTo(50);
    assertThat(total.failed()).isEqualTo(50);
    assertThat(total.ok()).isZero();
  }

  @Test
  void requestsGoToTheTargetsInTurnAndFollowARetarget(Vertx vertx) throws Exception {
    AtomicInteger toA = new AtomicInteger();
    AtomicInteger toB = new AtomicInteger();
    HttpServer a = vertx.createHttpServer().requestHandler(r -> {
      toA.incrementAndGet();
      r.response().end();
    }).listen(0, "127.0.0.1").await();
    HttpServer b = vertx.createHttpServer().requestHandler(r -> {
      toB.incrementAndGet();
      r.response().end();
    }).listen(0, "127.0.0.1").await();
    URI urlA = URI.create("http://127.0.0.1:" + a.actualPort() + "/");
    URI urlB = URI.create("http://127.0.0.1:" + b.actualPort() + "/");
    LoadGenerator generator = new LoadGenerator(vertx, new LoadOptions(List.of(urlA, urlB), 100, Duration.ofSeconds(2),
        Duration.ofSeconds(2), 8, null), line -> { });
    Future<LoadReport> run = generator.run();
    It.await("half the requests", Duration.ofSeconds(10), () -> toA.get() + toB.get() >= 100);
    generator.retarget(List.of(urlB));
    int aBefore = toA.get();
    LoadReport total = run.await();
    assertThat(total.failed()).isZero();
    assertThat(toA.get() + toB.get()).isEqualTo(200);
    assertThat(toA.get()).as("after the retarget, A gets only what was already sent")
        .isLessThanOrEqualTo(aBefore + 2);
    assertThat(toB.get()).isGreaterThan(100);
  }
}
