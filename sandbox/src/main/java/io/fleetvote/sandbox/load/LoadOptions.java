package io.fleetvote.sandbox.load;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;

/**
 * What {@code ./fleetvote load} does.
 *
 * @param url         the target of every GET
 * @param rate        requests per second, sent on schedule whatever the answers take
 * @param duration    how long to send
 * @param timeout     when an unanswered request counts as failed
 * @param connections the connection pool's size
 * @param summaryJson where to write the totals as JSON; null for nowhere
 */
public record LoadOptions(URI url, int rate, Duration duration, Duration timeout, int connections, Path summaryJson) {
}
