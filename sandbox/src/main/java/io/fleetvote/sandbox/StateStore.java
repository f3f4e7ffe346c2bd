package io.fleetvote.sandbox;

import io.vertx.core.Future;
import io.vertx.core.Promise;
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
import java.util.function.Supplier;

/**
 * The sandbox's state in {@code DIR/state.json}, replaced atomically (write a temporary file, rename) so a crash
 * leaves either the old state or the new one. One write at a time, of the latest state asked for: saves asked for
 * while one is written are folded into the next (a thousand launches once queued a thousand copies of the whole
 * state, gigabytes of heap). Use from one context.
 */
public final class StateStore {

  private static final Logger LOG = LoggerFactory.getLogger(StateStore.class);

  private final Vertx vertx;
  private final Path file;
  private final Path temporary;
  private Future<Void> lastSave = Future.succeededFuture();
  /** The latest state asked for and not yet being written, and the promise of its write. */
  private Supplier<JsonObject> pending;
  private Promise<Void> pendingDone;
  private boolean writing;

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

  /**
   * Saves the state {@code state} gives once the write under way, if any, is done; a later save before then replaces
   * it. The state is read when its write begins (on this context, so it is a consistent snapshot): saves asked for
   * while a write is under way cost nothing (at 5,000 instances, reading the whole state at each of their changes was
   * most of the sandbox's event loop). Completes once it, or a later state, is on disk.
   */
  public Future<Void> save(Supplier<JsonObject> state) {
    pending = state;
    if (pendingDone == null) {
      pendingDone = Promise.promise();
    }
    lastSave = pendingDone.future();
    if (!writing) {
      writeNext();
    }
    return lastSave;
  }

  private void writeNext() {
    if (pending == null) {
      writing = false;
      return;
    }
    writing = true;
    Buffer bytes = pending.get().toBuffer();
    Promise<Void> done = pendingDone;
    pending = null;
    pendingDone = null;
    vertx.fileSystem().writeFile(temporary.toString(), bytes)
        .compose(x -> vertx.fileSystem().move(temporary.toString(), file.toString(),
            new CopyOptions().setReplaceExisting(true).setAtomicMove(true)))
        .onFailure(err -> LOG.error("could not save sandbox state to {}: {}", file, err.toString()))
        .onComplete(written -> {
          done.handle(written);
          writeNext();
        });
  }

  /** Completes when every save asked for so far is on disk. */
  public Future<Void> flushed() {
    return lastSave.transform(x -> Future.succeededFuture());
  }
}
