package io.fleetvote.coordinator.db;

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
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Each coordinator's append-only copy of the pair's failover journal ({@code failover-<pair>.jsonl} in its data
 * directory, one step per line: the failover's id, the step's index, time, name, sentence and fence, and the phase it
 * left the failover in). The topology in the cluster map holds the latest failover with all its steps; this file
 * keeps every failover's, on every coordinator that saw them, across restarts. Blocking: call it off the event loop.
 */
final class FailoverJournal {

  private static final Logger LOG = LoggerFactory.getLogger(FailoverJournal.class);
  private static final int SHOWN = 200;

  private final Path file;
  /** How many steps of each failover the file holds. */
  private final Map<String, Integer> written = new HashMap<>();
  private boolean read;

  FailoverJournal(Path file) {
    this.file = file;
  }

  /** Appends the steps of {@code failover} the file does not hold yet. */
  synchronized void follow(Failover failover) throws IOException {
    if (failover == null) {
      return;
    }
    readOnce();
    int held = written.getOrDefault(failover.id(), 0);
    if (held >= failover.steps().size()) {
      return;
    }
    StringBuilder lines = new StringBuilder();
    for (int i = held; i < failover.steps().size(); i++) {
      Failover.Step step = failover.steps().get(i);
      lines.append(new JsonObject().put("failover", failover.id()).put("index", i).put("at", step.at())
          .put("name", step.name()).put("text", step.text()).put("fence", step.fence())
          .put("phase", failover.phase().name().toLowerCase(java.util.Locale.ROOT)).encode()).append('\n');
    }
    Files.createDirectories(file.getParent());
    Files.writeString(file, lines, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    written.put(failover.id(), failover.steps().size());
  }

  /** The file's last lines, oldest first (at most {@value #SHOWN}): what the API shows as the journal. */
  synchronized List<JsonObject> lines() throws IOException {
    List<JsonObject> out = all();
    return List.copyOf(out.subList(Math.max(0, out.size() - SHOWN), out.size()));
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

  private void readOnce() throws IOException {
    if (read) {
      return;
    }
    for (JsonObject line : all()) {
      if (line.getValue("failover") instanceof String id && line.getValue("index") instanceof Integer index) {
        written.merge(id, index + 1, Math::max);
      }
    }
    read = true;
  }
}
