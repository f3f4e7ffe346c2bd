package io.fleetvote.load.db;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * What {@code ./fleetvote writer} does.
 *
 * @param host        the MariaDB/MySQL endpoint (the LB's write port)
 * @param port        its TCP port
 * @param database    the database the table is in
 * @param user        the account
 * @param password    its password (never printed: not in {@link #toString()})
 * @param table       the table of sequenced rows, made if missing
 * @param rate        writes per second, sent on schedule whatever the answers take (open loop); 0 for closed loop,
 *                    each connection writing again as soon as its last write has its outcome
 * @param connections how many connections write at once
 * @param duration    how long to write; zero for until stopped
 * @param timeout     a write (its connect included) not acknowledged within this long fails
 * @param acked       where every acknowledged write is appended ({@link AckedWrite}); null for nowhere
 * @param writer      the writer's name, in each row's {@code writer} column
 */
public record WriterOptions(String host, int port, String database, String user, String password, String table,
                            int rate, int connections, Duration duration, Duration timeout, Path acked,
                            String writer) {

  /** What a table or database name may be without quoting. */
  public static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,63}");
  public static final String DEFAULT_TABLE = "fleetvote_writes";

  public WriterOptions {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(password, "password");
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port " + port + " is not a TCP port");
    }
    if (!NAME.matcher(table).matches()) {
      throw new IllegalArgumentException("table '" + table + "' is not a plain name (" + NAME.pattern() + ")");
    }
    if (!NAME.matcher(database).matches()) {
      throw new IllegalArgumentException("database '" + database + "' is not a plain name (" + NAME.pattern() + ")");
    }
    if (rate < 0 || connections < 1) {
      throw new IllegalArgumentException("rate " + rate + " and connections " + connections + ": need rate >= 0 "
          + "and at least one connection");
    }
    if (writer.length() > 64) {
      throw new IllegalArgumentException("a writer's name has at most 64 characters");
    }
  }

  public boolean openLoop() {
    return rate > 0;
  }

  /** {@code 200 writes/s open loop on 16 connection(s)} or {@code closed loop on 4 connection(s)}. */
  public String mode() {
    return (openLoop() ? rate + " writes/s open loop" : "closed loop") + " on " + connections + " connection(s)";
  }

  /** {@code for 30 s} or {@code until stopped}. */
  public String span() {
    return duration.isZero() ? "until stopped" : "for " + duration.toSeconds() + " s";
  }

  @Override
  public String toString() {
    return "WriterOptions[" + user + "@" + host + ":" + port + "/" + database + "." + table + ", " + mode() + ", "
        + span() + ", timeout " + timeout.toMillis() + " ms, acked " + (acked == null ? "nowhere" : acked)
        + ", writer " + writer + "]";
  }
}
