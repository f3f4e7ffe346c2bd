package io.fleetvote.sandbox;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.CopyOptions;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The sandbox's state in {@code DIR/state.json}, replaced atomically (write a temporary file, rename) so a crash
 * leaves either the old state or the new one. Saves are chained: the last one written is the last one asked for.
 */
public final class StateStore {

  private static final Logger LOG = LoggerFactory.getLogger(StateStore.class);

  private final Vertx vertx;
  private final Path file;
  private final Path temporary;
  private Future<Void> lastSave = Future.succeededFuture();

  public StateStore(Vertx vertx, Path dir) {
    this.vertx = vertx;
    this.file = dir.resolve("state.json");
    this.temporary = dir.resolve("state.json.tmp");
  }

  /** The saved state, if any; a file that cannot be parsed is an error, never silently an empty cloud. */
  public Optional<JsonObject> load() {
    if (!Files.exists(file)) {
      return Optional.empty();
    }
    try {
      return Optional.of(new JsonObject(Files.readString(file)));
    } catch (IOException | RuntimeException e) {
      throw new IllegalStateException("cannot read sandbox state " + file + ": " + e.getMessage(), e);
    }
  }

  /** Queues a save of {@code state} (already a snapshot: the caller must not change it afterwards). */
  public Future<Void> save(JsonObject state) {
    Buffer bytes = state.toBuffer();
    lastSave = lastSave.transform(previous -> vertx.fileSystem().writeFile(temporary.toString(), bytes)
        .compose(x -> vertx.fileSystem().move(temporary.toString(), file.toString(),
            new CopyOptions().setReplaceExisting(true).setAtomicMove(true)))
        .onFailure(err -> LOG.error("could not save sandbox state to {}: {}", file, err.toString())));
    return lastSave;
  }

  /** Completes when every save asked for so far is on disk. */
  public Future<Void> flushed() {
    return lastSave.transform(x -> Future.succeededFuture());
  }
}
