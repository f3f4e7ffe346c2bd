package io.fleetvote.sandbox.load;

import io.fleetvote.common.net.FreePorts;
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
    LoadOptions options = new LoadOptions(URI.create("http://127.0.0.1:" + target.actualPort() + "/"), 200,
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
    LoadOptions options = new LoadOptions(URI.create("http://127.0.0.1:" + FreePorts.pick() + "/"), 50,
        Duration.ofSeconds(1), Duration.ofSeconds(1), 8, null);
    LoadReport total = new LoadGenerator(vertx, options, line -> { }).run().await();
    assertThat(total.sent()).isEqualTo(50);
    assertThat(total.failed()).isEqualTo(50);
    assertThat(total.ok()).isZero();
  }
}
