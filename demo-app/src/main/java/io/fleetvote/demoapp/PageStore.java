package io.fleetvote.demoapp;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * The demo app's database work, a wiki's: every request reads one of {@code pages} page rows and a share of them
 * writes it (a new revision), through the DB write port of an LB (never the master's address: a failover moves the
 * LB's backend, not the app). Where and as whom to connect is the file the instance's agent keeps
 * ({@code db-client.properties}: {@code database}, {@code user}, {@code password}, {@code write}, a comma-separated
 * list of {@code host:port}); it is read again when it changes, and until it exists the app answers without a
 * database. Each worker thread keeps one connection; a failed query closes it (the next request connects again,
 * through the first LB that answers) and fails only its own request.
 */
final class PageStore {

  /** A page row as a request saw it. */
  record Visit(int page, long revision, boolean wrote) {
  }

  /** What the file said: the LBs' write ports, in the order to try them, and the account. */
  record Config(List<String> endpoints, String database, String user, String password) {
  }

  private static final Pattern ENDPOINT = Pattern.compile("[A-Za-z0-9.-]{1,253}:\\d{1,5}");
  private static final Pattern NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_]{0,31}");
  private static final int CONNECT_TIMEOUT_MS = 2000;
  private static final int SOCKET_TIMEOUT_MS = 5000;
  private static final String CREATE = "CREATE TABLE IF NOT EXISTS page (id INT PRIMARY KEY, title VARCHAR(255) NOT "
      + "NULL, body TEXT NOT NULL, revision BIGINT NOT NULL, "
      + "touched TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6))";
  private static final String READ = "SELECT revision FROM page WHERE id = ?";
  private static final String WRITE = "INSERT INTO page (id, title, body, revision) VALUES (?, ?, ?, 1) "
      + "ON DUPLICATE KEY UPDATE body = VALUES(body), revision = revision + 1, touched = CURRENT_TIMESTAMP(6)";

  private final Path file;
  private final double writeShare;
  private final int pages;
  private final AtomicLong reads = new AtomicLong();
  private final AtomicLong writes = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();
  private final ThreadLocal<Held> connections = new ThreadLocal<>();
  private volatile Config config;
  private volatile long generation;
  private volatile boolean tableMade;
  private volatile String lastProblem = "";

  private record Held(long generation, Connection connection) {
  }

  PageStore(Path file, double writeShare, int pages) {
    if (writeShare < 0 || writeShare > 1) {
      throw new IllegalArgumentException("the share of requests that write must be between 0 and 1, not "
          + writeShare);
    }
    this.file = file;
    this.writeShare = writeShare;
    this.pages = pages;
  }

  /** Follows the file once a second on a daemon thread (and makes the table once a config connects). */
  void follow() {
    Thread follower = new Thread(() -> {
      String seen = null;
      while (!Thread.currentThread().isInterrupted()) {
        seen = reload(seen);
        try {
          Thread.sleep(1000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }, "page-store-config");
    follower.setDaemon(true);
    follower.start();
  }

  /** Reads the file if its text differs from {@code seen}; returns the text now seen. */
  String reload(String seen) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      return seen;
    } catch (IOException e) {
      problem("cannot read " + file + ": " + e.getMessage());
      return seen;
    }
    if (text.equals(seen)) {
      return seen;
    }
    try {
      Config next = parse(text);
      config = next;
      tableMade = false;
      generation++;
      System.err.println("demo app: pages in database " + next.database() + " through " + next.endpoints() + " as "
          + next.user());
      // Loads the driver and makes the table now rather than in the first request; a failure is only reported.
      try (Connection connection = connect(next)) {
        makeTable(connection);
      } catch (SQLException e) {
        problem("the database through " + next.endpoints() + " is not answering yet: " + e.getMessage());
      }
    } catch (IllegalArgumentException e) {
      problem(file + ": " + e.getMessage());
    }
    return text;
  }

  /** The file's config; throws naming what is wrong (never the password's value). */
  static Config parse(String text) {
    Properties properties = new Properties();
    try (Reader reader = new StringReader(text)) {
      properties.load(reader);
    } catch (IOException | IllegalArgumentException e) {
      throw new IllegalArgumentException("not a properties file: " + e.getMessage());
    }
    String database = required(properties, "database");
    String user = required(properties, "user");
    if (!NAME.matcher(database).matches() || !NAME.matcher(user).matches()) {
      throw new IllegalArgumentException("database and user must be letters, digits and underscores");
    }
    String password = required(properties, "password");
    String write = required(properties, "write");
    String[] endpoints = write.split(",");
    if (!Arrays.stream(endpoints).allMatch(e -> ENDPOINT.matcher(e).matches())) {
      throw new IllegalArgumentException("write must be host:port[,host:port...], not '" + write + "'");
    }
    return new Config(List.of(endpoints), database, user, password);
  }

  private static String required(Properties properties, String key) {
    String value = properties.getProperty(key, "").trim();
    if (value.isEmpty()) {
      throw new IllegalArgumentException("no " + key);
    }
    return value;
  }

  /** Whether a file has given the app a database. */
  boolean configured() {
    return config != null;
  }

  /** One request's database work: read a random page, and write it with the request's share; throws on failure. */
  Visit visit(Double share) throws SQLException {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    int page = 1 + random.nextInt(pages);
    boolean write = random.nextDouble() < (share == null ? writeShare : share);
    Connection connection = connection();
    try {
      long revision = 0;
      try (PreparedStatement read = connection.prepareStatement(READ)) {
        read.setInt(1, page);
        try (ResultSet row = read.executeQuery()) {
          if (row.next()) {
            revision = row.getLong(1);
          }
        }
      }
      reads.incrementAndGet();
      if (write) {
        try (PreparedStatement update = connection.prepareStatement(WRITE)) {
          update.setInt(1, page);
          update.setString(2, "Page " + page);
          update.setString(3, "Revision " + (revision + 1) + " of page " + page + ", written by a request at "
              + System.currentTimeMillis());
          update.executeUpdate();
        }
        writes.incrementAndGet();
        revision++;
      }
      return new Visit(page, revision, write);
    } catch (SQLException e) {
      failures.incrementAndGet();
      connections.remove();
      close(connection);
      throw e;
    }
  }

  private Connection connection() throws SQLException {
    Held held = connections.get();
    long current = generation;
    if (held != null && held.generation() == current) {
      return held.connection();
    }
    if (held != null) {
      close(held.connection());
    }
    try {
      Connection connection = connect(config);
      connections.set(new Held(current, connection));
      makeTable(connection);
      return connection;
    } catch (SQLException e) {
      failures.incrementAndGet();
      connections.remove();
      throw e;
    }
  }

  /**
   * A connection through the first LB that takes one, each tried once with a short timeout (the driver's own
   * failover modes retry for minutes when every host is down: a request would wait that long).
   */
  private static Connection connect(Config config) throws SQLException {
    Properties account = new Properties();
    account.setProperty("user", config.user());
    account.setProperty("password", config.password());
    account.setProperty("connectTimeout", Integer.toString(CONNECT_TIMEOUT_MS));
    account.setProperty("socketTimeout", Integer.toString(SOCKET_TIMEOUT_MS));
    // The pair's MariaDB (Debian's configuration) has no TLS certificate; the driver asks for TLS by default.
    account.setProperty("sslMode", "disable");
    SQLException last = null;
    for (String endpoint : config.endpoints()) {
      try {
        return DriverManager.getConnection("jdbc:mariadb://" + endpoint + "/" + config.database(), account);
      } catch (SQLException e) {
        last = e;
      }
    }
    throw last;
  }

  private void makeTable(Connection connection) throws SQLException {
    if (!tableMade) {
      try (Statement statement = connection.createStatement()) {
        statement.execute(CREATE);
      }
      tableMade = true;
    }
  }

  private static void close(Connection connection) {
    try {
      connection.close();
    } catch (SQLException e) {
      // Already broken: nothing to give back.
    }
  }

  private void problem(String what) {
    if (!what.equals(lastProblem)) {
      lastProblem = what;
      System.err.println("demo app: " + what);
    }
  }

  /** Counters for the app's stop line. */
  String counts() {
    return reads.get() + " page reads, " + writes.get() + " page writes, " + failures.get() + " database failures";
  }
}
