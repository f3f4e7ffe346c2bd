package io.fleetvote.coordinator.db;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Each coordinator's append-only copy of the pair's failover journal ({@code failover-<pair>.jsonl} in its data
 * directory, one step per line: the failover's id, the step's index, time, name, sentence and fence, and the phase it
 * left the failover in). The topology in the cluster map holds the latest failover with all its steps; this file
 * keeps every failover's, on every coordinator that saw them, across restarts: {@link #history} summarizes the latest
 * ones for the pair's view. Blocking (but {@link #history}): call it off the event loop.
 */
final class FailoverJournal {

  private static final Logger LOG = LoggerFactory.getLogger(FailoverJournal.class);
  private static final int SUMMARIES = 50;

  private final Path file;
  /** How many steps of each failover the file holds. */
  private final Map<String, Integer> written = new HashMap<>();
  /** Each failover's summary, by id, in the order they began (kept to the last {@value #SUMMARIES}). */
  private final LinkedHashMap<String, JsonObject> summaries = new LinkedHashMap<>();
  private boolean read;

  FailoverJournal(Path file) {
    this.file = file;
  }

  /** Appends the steps of {@code failover} (none: nothing) the file does not hold yet; reads the file first, once. */
  synchronized void follow(Failover failover) throws IOException {
    read();
    if (failover == null) {
      return;
    }
    int held = written.getOrDefault(failover.id(), 0);
    if (held >= failover.steps().size()) {
      return;
    }
    StringBuilder lines = new StringBuilder();
    for (int i = held; i < failover.steps().size(); i++) {
      Failover.Step step = failover.steps().get(i);
      JsonObject line = new JsonObject().put("failover", failover.id()).put("index", i).put("at", step.at())
          .put("name", step.name()).put("text", step.text()).put("fence", step.fence())
          .put("phase", failover.phase().name().toLowerCase(Locale.ROOT))
          .put("kind", failover.kind().name().toLowerCase(Locale.ROOT)).put("oldMaster", failover.oldMaster())
          .put("target", failover.target());
      lines.append(line.encode()).append('\n');
      summarize(line);
    }
    Files.createDirectories(file.getParent());
    Files.writeString(file, lines, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    written.put(failover.id(), failover.steps().size());
  }

  /**
   * The latest failovers this coordinator saw, newest first (at most {@code limit}): each one's id, kind, old master,
   * target, phase, when it began and its last step (name and time). Empty until the file was first read ({@link #read}, the
   * first {@link #follow}). Never blocks.
   */
  synchronized JsonArray history(int limit) {
    List<JsonObject> all = new ArrayList<>(summaries.values());
    JsonArray out = new JsonArray();
    for (int i = all.size() - 1; i >= 0 && out.size() < limit; i--) {
      out.add(all.get(i).copy());
    }
    return out;
  }

  /** A journal line into its failover's summary (a line of an older file has no kind, old master or target). */
  private void summarize(JsonObject line) {
    if (!(line.getValue("failover") instanceof String id) || !(line.getValue("at") instanceof Number at)) {
      return;
    }
    JsonObject summary = summaries.computeIfAbsent(id, k -> new JsonObject().put("id", id)
        .put("startedAt", at.longValue()));
    for (String field : List.of("kind", "oldMaster", "target", "phase")) {
      if (line.getValue(field) instanceof String value) {
        summary.put(field, value);
      }
    }
    summary.put("lastStep", line.getValue("name")).put("lastAt", at.longValue());
    while (summaries.size() > SUMMARIES) {
      summaries.remove(summaries.keySet().iterator().next());
    }
  }

  private List<JsonObject> all() throws IOException {
    List<JsonObject> out = new ArrayList<>();
    if (!Files.exists(file)) {
      return out;
    }
    try (Stream<String> all = Files.lines(file, StandardCharsets.UTF_8)) {
      all.filter(line -> !line.isBlank()).forEach(line -> {
        try {
          out.add(new JsonObject(line));
        } catch (RuntimeException e) {
          LOG.warn("failover journal: skipping an unreadable line of {}: {}", file, e.toString());
        }
      });
    }
    return out;
  }

  /** Reads the file, once: what it holds, and the failovers' summaries. */
  synchronized void read() throws IOException {
    if (read) {
      return;
    }
    for (JsonObject line : all()) {
      if (line.getValue("failover") instanceof String id && line.getValue("index") instanceof Integer index) {
        written.merge(id, index + 1, Math::max);
        summarize(line);
      }
    }
    read = true;
  }
}
