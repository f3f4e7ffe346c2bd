package io.fleetvote.sandbox;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Saves asked for faster than the disk takes them fold into the latest; each completes once it, or a later one, is on
 * disk.
 */
class StateStoreTest {

  @TempDir
  Path dir;
  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() {
    vertx.close().await();
  }

  @Test
  void aBurstOfSavesEndsWithTheLastStateOnDiskAndEverySaveCompletes() {
    StateStore store = new StateStore(vertx, dir);
    Promise<Void> all = Promise.promise();
    AtomicInteger reads = new AtomicInteger();
    vertx.runOnContext(x -> {
      List<Future<Void>> saves = new ArrayList<>();
      for (int i = 0; i < 1000; i++) {
        JsonObject state = new JsonObject().put("n", i).put("padding", "x".repeat(10_000));
        saves.add(store.save(() -> {
          reads.incrementAndGet();
          return state;
        }));
      }
      Future.all(saves).compose(done -> store.flushed()).onComplete(r -> all.handle(r.mapEmpty()));
    });
    all.future().await();
    assertThat(store.load()).hasValueSatisfying(state -> assertThat(state.getInteger("n")).isEqualTo(999));
    // The first state, written at once, and the last: those asked for during that write were never read.
    assertThat(reads).hasValue(2);
  }
}
