package io.fleetvote.coordinator.ledger;

import com.hazelcast.core.EntryEvent;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryRemovedListener;
import com.hazelcast.map.listener.EntryUpdatedListener;
import io.fleetvote.coordinator.leader.CoordinatorQuorum;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.AsyncFile;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The decision ledger: a map replicated on every coordinator (protected by {@link CoordinatorQuorum}, so a minority
 * cannot write it, and a leader that cannot write it does not act), mirrored by each coordinator into a local view
 * for the API and an append-only file ({@code ledger.jsonl}, one entry per line, the last line of an id wins). A
 * coordinator that finds the map empty at start (the whole cluster restarted) puts its file's entries back.
 * <p>
 * One ledger per coordinator, built by it and shared by every component that acts as the leader (the autoscaler;
 * failover and snapshots): it may be used from any context, hands out entry ids ({@link #nextId}) so that two
 * components never write the same id, and completes each write on the writer's context.
 */
public final class DecisionLedger {

  private static final Logger LOG = LoggerFactory.getLogger(DecisionLedger.class);

  private final Vertx vertx;
  private final IMap<String, String> map;
  private final Path file;
  private final long opTimeoutMillis;
  private final int capacity;
  private final TreeMap<String, LedgerEntry> view = new TreeMap<>();
  /** {@link #lastResizeAt} per group, asked every tick: forgotten whenever the view changes. */
  private final Map<String, Long> lastResize = new HashMap<>();
  /** The next sequence number to hand out per epoch (entries of an epoch are numbered 1, 2, ...). */
  private final Map<Long, Long> nextSeq = new HashMap<>();
  private Context context;
  private AsyncFile journal;
  private final Promise<Void> loaded = Promise.promise();

  public DecisionLedger(Vertx vertx, HazelcastInstance hazelcast, Path file, long opTimeoutMillis, int capacity) {
    this.vertx = vertx;
    this.map = hazelcast.getMap(CoordinatorQuorum.LEDGER_MAP);
    this.file = file;
    this.opTimeoutMillis = opTimeoutMillis;
    this.capacity = capacity;
  }

  /**
   * Opens the journal and follows the map; loads what the map holds (or, when it is empty, restores the journal into
   * it) in the background, retrying until the cluster answers: {@link #loaded()} completes then.
   */
  public Future<Void> start() {
    context = vertx.getOrCreateContext();
    Map<String, LedgerEntry> fromJournal = readJournal();
    return vertx.fileSystem().open(file.toString(), new OpenOptions().setAppend(true).setCreate(true))
        .onSuccess(opened -> {
          journal = opened;
          map.addEntryListener(new Follower(), true);
          load(fromJournal, true);
        })
        .mapEmpty();
  }

  /** Completes once the ledger holds what the cluster holds: a leader must not act before. */
  public Future<Void> loaded() {
    return loaded.future();
  }

  private void load(Map<String, LedgerEntry> fromJournal, boolean first) {
    vertx.executeBlocking(() -> {
      Map<String, String> held = new LinkedHashMap<>();
      map.entrySet().forEach(e -> held.put(e.getKey(), e.getValue()));
      if (!held.isEmpty() || fromJournal.isEmpty()) {
        return held;
      }
      List<LedgerEntry> restored = fromJournal.values().stream()
          .skip(Math.max(0, fromJournal.size() - capacity)).toList();
      LOG.info("ledger: the cluster holds no entries; restoring {} from {}", restored.size(), file);
      restored.forEach(entry -> {
        String json = entry.toJson().encode();
        map.putIfAbsent(entry.id(), json);
        held.put(entry.id(), json);
      });
      return held;
    }).timeout(opTimeoutMillis * 2, TimeUnit.MILLISECONDS).onComplete(result -> {
      if (result.succeeded()) {
        int size;
        synchronized (this) {
          result.result().forEach((id, json) -> {
            if (!view.containsKey(id)) {
              remember(LedgerEntry.fromJson(new JsonObject(json)));
            }
          });
          size = view.size();
        }
        LOG.info("ledger: {} entries", size);
        loaded.tryComplete();
      } else {
        if (first) {
          LOG.info("ledger: the cluster does not answer yet ({}); trying again every second", result.cause().toString());
        }
        vertx.setTimer(1000, t -> load(fromJournal, false));
      }
    });
  }

  /** Writes an entry; fails (and the caller must not act) when the cluster refuses, e.g. without quorum. */
  public Future<LedgerEntry> put(LedgerEntry entry) {
    List<String> trimmed = new ArrayList<>();
    synchronized (this) {
      remember(entry);
      while (view.size() > capacity) {
        String oldest = view.firstKey();
        forget(oldest);
        trimmed.add(oldest);
      }
    }
    Context writer = Objects.requireNonNullElse(Vertx.currentContext(), context);
    Future<LedgerEntry> written = Future.fromCompletionStage(map.setAsync(entry.id(), entry.toJson().encode()), writer)
        .timeout(opTimeoutMillis, TimeUnit.MILLISECONDS)
        .map(x -> entry);
    trimmed.forEach(map::removeAsync);
    return written;
  }

  /** A new entry id in {@code epoch}, after every id of that epoch written or handed out before. */
  public synchronized String nextId(long epoch) {
    long seq = nextSeq.computeIfAbsent(epoch, this::firstFreeSeq);
    nextSeq.put(epoch, seq + 1);
    return LedgerEntry.id(epoch, seq);
  }

  /** Updates the local view only (a repeated hold between two writes to the cluster). */
  public synchronized void keepLocally(LedgerEntry entry) {
    remember(entry);
  }

  /** An entry as this coordinator last saw it. */
  public synchronized Optional<LedgerEntry> entry(String id) {
    return Optional.ofNullable(view.get(id));
  }

  /** Newest first, optionally of one group and one outcome ({@code grow}, {@code shrink}, {@code hold}). */
  public synchronized List<LedgerEntry> query(String group, String outcome, int limit) {
    return view.descendingMap().values().stream()
        .filter(e -> group == null || e.group().equals(group))
        .filter(e -> outcome == null || e.decision().outcome().name().equalsIgnoreCase(outcome))
        .limit(limit)
        .toList();
  }

  /** Actions ordered and not finished, oldest first: what a new leader must carry on. */
  public synchronized List<LedgerEntry> unfinished() {
    return view.values().stream().filter(e -> e.action() != null && e.action().unfinished()).toList();
  }

  /** When the group last grew or shrank (an action ordered and not failed), epoch milliseconds; 0 if never. */
  public synchronized long lastResizeAt(String group) {
    return lastResize.computeIfAbsent(group, g -> view.values().stream()
        .filter(e -> e.group().equals(group) && e.decision().resizes() && e.action() != null
            && e.action().status() != LedgerEntry.Status.FAILED)
        .mapToLong(LedgerEntry::at).max().orElse(0));
  }

  /** The highest epoch any entry carries: a floor for the next leader's epoch. */
  public synchronized long highestEpoch() {
    return view.values().stream().mapToLong(e -> Math.max(e.epoch(),
        e.action() == null ? 0 : e.action().finishedByEpoch())).max().orElse(0);
  }

  /** The first sequence number within an epoch after every entry of that epoch in the view. */
  private long firstFreeSeq(long epoch) {
    String prefix = String.format("e%08d-", epoch);
    return view.subMap(prefix, prefix + "\uffff").keySet().stream()
        .mapToLong(id -> Long.parseLong(id.substring(prefix.length()))).max().orElse(0) + 1;
  }

  public void close() {
    if (journal != null) {
      journal.close();
    }
  }

  /** Puts an entry in the view; a resize changes what {@link #lastResizeAt} answers, a hold does not. */
  private void remember(LedgerEntry entry) {
    if (entry.decision().resizes()) {
      lastResize.remove(entry.group());
    }
    view.put(entry.id(), entry);
  }

  private void forget(String id) {
    LedgerEntry gone = view.remove(id);
    if (gone != null) {
      lastResize.remove(gone.group());
    }
  }

  private Map<String, LedgerEntry> readJournal() {
    Map<String, LedgerEntry> entries = new TreeMap<>();
    if (!Files.exists(file)) {
      return entries;
    }
    try (Stream<String> lines = Files.lines(file)) {
      lines.filter(line -> !line.isBlank()).forEach(line -> {
        try {
          LedgerEntry entry = LedgerEntry.fromJson(new JsonObject(line));
          entries.put(entry.id(), entry);
        } catch (RuntimeException e) {
          LOG.warn("ledger: skipping an unreadable line of {}: {}", file, e.toString());
        }
      });
    } catch (IOException e) {
      LOG.warn("ledger: cannot read {}: {}", file, e.toString());
    }
    return entries;
  }

  private void followed(String id, String json) {
    synchronized (this) {
      if (json == null) {
        forget(id);
        return;
      }
      LedgerEntry followed = LedgerEntry.fromJson(new JsonObject(json));
      LedgerEntry held = view.get(id);
      // A hold counted on since it was written back: its own older write must not set the count back.
      if (held == null || !followed.olderHoldThan(held)) {
        remember(followed);
      }
    }
    journal.write(Buffer.buffer(json).appendString("\n"));
  }

  /** Map events arrive on Hazelcast's threads: each is handed to the ledger's context, in order per entry. */
  private final class Follower implements EntryAddedListener<String, String>, EntryUpdatedListener<String, String>,
      EntryRemovedListener<String, String> {

    @Override
    public void entryAdded(EntryEvent<String, String> event) {
      context.runOnContext(x -> followed(event.getKey(), event.getValue()));
    }

    @Override
    public void entryUpdated(EntryEvent<String, String> event) {
      context.runOnContext(x -> followed(event.getKey(), event.getValue()));
    }

    @Override
    public void entryRemoved(EntryEvent<String, String> event) {
      context.runOnContext(x -> followed(event.getKey(), null));
    }
  }
}
