package io.fleetvote.demoapp;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.SQLException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The web application of the sandbox's app image: every {@code GET /} burns real CPU (SHA-256 rounds until the
 * thread has used {@code work} milliseconds of CPU time), so load applied to the fleet is load its agents measure.
 * {@code GET /health} answers without work and without waiting behind it: the server's dispatcher thread reads
 * every request and answers health checks itself, and hands the work of {@code GET /} to the worker pool, so a
 * saturated app (a long queue of work) still answers its health check at once, as a liveness check should. On
 * SIGTERM it finishes the requests under way, then exits. Plain JDK and a JDBC driver, no framework: it starts in
 * a fraction of a second.
 * <p>
 * With {@code --db-config} (the file its agent keeps), each {@code GET /} also reads a page row, and a share of them
 * ({@code --db-write-share}, or the request's {@code write} parameter) writes it, through an LB's DB write port
 * ({@link PageStore}); a failed query answers 503, as a wiki without its database would.
 */
public final class DemoApp {

  private static final int MAX_WORK_MILLIS = 1000;
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  private final String name;
  private final int defaultWorkMillis;
  private final AtomicLong served = new AtomicLong();
  private final PageStore pages;

  private DemoApp(String name, int defaultWorkMillis, PageStore pages) {
    this.name = name;
    this.defaultWorkMillis = defaultWorkMillis;
    this.pages = pages;
  }

  public static void main(String[] args) throws IOException {
    String host = "127.0.0.1";
    int port = 8080;
    String name = "demo-app";
    int work = 5;
    int threads = 4;
    String dbConfig = null;
    double writeShare = 0.2;
    int pageCount = 100;
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--host" -> host = args[i + 1];
        case "--port" -> port = Integer.parseInt(args[i + 1]);
        case "--name" -> name = args[i + 1];
        case "--work-ms" -> work = Integer.parseInt(args[i + 1]);
        case "--threads" -> threads = Integer.parseInt(args[i + 1]);
        case "--db-config" -> dbConfig = args[i + 1];
        case "--db-write-share" -> writeShare = Double.parseDouble(args[i + 1]);
        case "--db-pages" -> pageCount = Integer.parseInt(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]
            + " (known: --host, --port, --name, --work-ms, --threads, --db-config, --db-write-share, "
            + "--db-pages)");
      }
    }
    PageStore store = dbConfig == null ? null : new PageStore(Path.of(dbConfig), writeShare, pageCount);
    DemoApp app = new DemoApp(name, work, store);
    if (store != null) {
      store.follow();
    }
    // Without TCP_NODELAY the JDK server's separate header and body writes meet the client's delayed ACK: +40 ms.
    System.setProperty("sun.net.httpserver.nodelay", "true");
    HttpServer server = HttpServer.create(new InetSocketAddress(host, port), 512);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    // No executor: handlers run on the dispatcher thread. Health checks are answered there; work goes to the pool.
    server.setExecutor(null);
    server.createContext("/health", exchange -> app.reply(exchange, 200, "ok\n"));
    server.createContext("/", exchange -> pool.execute(() -> app.serve(exchange)));
    server.start();
    System.err.println("demo app " + name + " listening on " + host + ":" + port + ", " + work
        + " ms of CPU per request"
        + (store == null ? "" : ", a page row read per request and written by " + Math.round(writeShare * 100)
        + " % of them, through the LB's DB write port in " + dbConfig + " (once it is there)"));
    String stoppedLine = "demo app " + name + " stopped after %d requests";
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.stop(2);
      pool.shutdown();
      System.err.println(String.format(stoppedLine, app.served.get())
          + (store == null ? "" : " (" + store.counts() + ")"));
    }, "demo-app-shutdown"));
  }

  /** Runs on a worker: the request's work, then its answer; a failed answer only closes the exchange. */
  private void serve(HttpExchange exchange) {
    try {
      work(exchange);
    } catch (IOException | RuntimeException e) {
      exchange.close();
    }
  }

  private void work(HttpExchange exchange) throws IOException {
    if (!exchange.getRequestURI().getPath().equals("/")) {
      reply(exchange, 404, "not found\n");
      return;
    }
    int workMillis = defaultWorkMillis;
    String requested = queryParameter(exchange.getRequestURI(), "work");
    if (requested != null) {
      try {
        workMillis = Math.max(0, Math.min(MAX_WORK_MILLIS, Integer.parseInt(requested)));
      } catch (NumberFormatException e) {
        reply(exchange, 400, "work must be a whole number of milliseconds\n");
        return;
      }
    }
    Double share = null;
    String write = queryParameter(exchange.getRequestURI(), "write");
    if (write != null) {
      try {
        share = Double.parseDouble(write);
      } catch (NumberFormatException e) {
        share = Double.NaN;
      }
      if (!(share >= 0 && share <= 1)) {
        reply(exchange, 400, "write must be the share of requests that write, from 0 to 1\n");
        return;
      }
    }
    long rounds = burn(workMillis);
    String db = "\"none\"";
    if (pages != null && pages.configured()) {
      try {
        PageStore.Visit visit = pages.visit(share);
        db = "{\"page\":" + visit.page() + ",\"revision\":" + visit.revision() + ",\"wrote\":" + visit.wrote()
            + "}";
      } catch (SQLException e) {
        reply(exchange, 503, "the database did not answer: " + e.getMessage() + "\n");
        return;
      }
    }
    served.incrementAndGet();
    reply(exchange, 200, "{\"instance\":\"" + name + "\",\"workMs\":" + workMillis + ",\"rounds\":" + rounds
        + ",\"db\":" + db + "}\n");
  }

  /** Hashes until this thread has spent {@code millis} of CPU time; returns the rounds done. */
  private static long burn(int millis) {
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    long until = THREADS.getCurrentThreadCpuTime() + millis * 1_000_000L;
    byte[] block = new byte[64];
    long rounds = 0;
    while (THREADS.getCurrentThreadCpuTime() < until) {
      for (int i = 0; i < 64; i++) {
        block = sha.digest(block);
      }
      rounds += 64;
    }
    return rounds;
  }

  private void reply(HttpExchange exchange, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", status == 200 && body.startsWith("{") ? "application/json"
        : "text/plain");
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  private static String queryParameter(URI uri, String name) {
    String query = uri.getRawQuery();
    if (query == null) {
      return null;
    }
    for (String pair : query.split("&")) {
      if (pair.startsWith(name + "=")) {
        return pair.substring(name.length() + 1);
      }
    }
    return null;
  }
}
