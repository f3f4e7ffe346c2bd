package io.fleetvote.coordinator.db;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static org.assertj.core.api.Assertions.assertThat;

/** A coordinator's failover journal file: each step once, and the latest failovers' summaries, across a restart. */
class FailoverJournalTest {

  private static final String OLD = "i-0000000000000db01";
  private static final String NEW = "i-0000000000000db02";

  @TempDir
  Path dir;

  @Test
  void eachStepIsWrittenOnceAndTheHistoryListsTheLatestFailoversNewestFirstAfterARestart() throws Exception {
    Path file = dir.resolve("failover-db.jsonl");
    FailoverJournal journal = new FailoverJournal(file);
    assertThat(journal.history(10)).as("before the file was read").isEmpty();
    Failover first = Failover.start(Failover.Kind.AUTOMATIC, 3, 1000, 1, OLD, NEW, "0-1-5", "master dead")
        .step(1000, "write-backend-emptied", "blocked", 3);
    journal.follow(first);
    Failover done = first.step(1200, "fenced", "stopped", 3).promoted("0-1-5").step(1300, "promoted", "the master", 3);
    journal.follow(done);
    journal.follow(done);
    assertThat(Files.readAllLines(file)).as("each step once").hasSize(4);
    Failover forced = Failover.start(Failover.Kind.FORCED, 4, 5000, 2, NEW, OLD, "0-2-9", "forced by ops")
        .step(5000, "write-backend-emptied", "blocked", 4);
    journal.follow(forced);
    // A line a crash cut short, skipped on reading.
    Files.writeString(file, "{\"failover\": \"f9-", StandardCharsets.UTF_8, StandardOpenOption.APPEND);

    FailoverJournal restarted = new FailoverJournal(file);
    restarted.read();
    JsonArray history = restarted.history(10);
    assertThat(history).hasSize(2);
    JsonObject latest = history.getJsonObject(0);
    assertThat(latest.getString("id")).isEqualTo(forced.id());
    assertThat(latest.getString("kind")).isEqualTo("forced");
    assertThat(latest.getString("oldMaster")).isEqualTo(NEW);
    assertThat(latest.getString("target")).isEqualTo(OLD);
    assertThat(latest.getLong("startedAt")).isEqualTo(5000);
    assertThat(latest.getString("lastStep")).isEqualTo("write-backend-emptied");
    JsonObject earlier = history.getJsonObject(1);
    assertThat(earlier.getString("id")).isEqualTo(first.id());
    assertThat(earlier.getString("phase")).isEqualTo("done");
    assertThat(earlier.getString("lastStep")).isEqualTo("promoted");
    assertThat(earlier.getLong("lastAt")).isEqualTo(1300);
    assertThat(restarted.history(1)).extracting(h -> ((JsonObject) h).getString("id")).containsExactly(forced.id());
  }
}
