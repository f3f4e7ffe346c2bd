package io.fleetvote.load;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * What {@code ./fleetvote load} does.
 *
 * @param targets     the URLs the GETs go to, in turn (round robin)
 * @param rate        requests per second, sent on schedule whatever the answers take
 * @param duration    how long to send
 * @param timeout     when an unanswered request, or a connection not made, fails (class {@code timeout})
 * @param connections the connection pool's size
 * @param summaryJson where to write the totals as JSON; null for nowhere
 */
public record LoadOptions(List<URI> targets, int rate, Duration duration, Duration timeout, int connections,
                          Path summaryJson) {

  public LoadOptions {
    if (targets.isEmpty()) {
      throw new IllegalArgumentException("no target to load");
    }
    targets = List.copyOf(targets);
  }
}
