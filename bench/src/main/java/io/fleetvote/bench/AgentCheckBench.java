package io.fleetvote.bench;

import io.fleetvote.common.cli.CommandLine;
import io.fleetvote.load.Capacity;
import io.fleetvote.load.LoadGenerator;
import io.fleetvote.load.LoadOptions;
import io.fleetvote.load.LoadReport;
import io.fleetvote.sandbox.ImageCatalog;
import io.fleetvote.testkit.Ec2Clients;
import io.fleetvote.testkit.SandboxAdmin;
import io.fleetvote.testkit.SandboxProcess;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import software.amazon.awssdk.services.ec2.Ec2Client;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * How fast an app instance's two answers to HAProxy come: the agent's agent-check line (its weight) and the app's own
 * {@code /health}, each over a new connection as HAProxy makes them, on an idle t3.micro and on one saturated at
 * twice its capacity. HAProxy gives each check {@code timeout check} (2 s); a check that takes longer takes the
 * instance out. Prints, per case, the median, p99 and maximum, and what the agent said.
 */
public final class AgentCheckBench {

  private static final int WORK_MS = 10;
  private static final int TIMEOUT_MS = 5000;

  private AgentCheckBench() {
  }

  public static void main(String[] args) throws Exception {
    CommandLine cli = BenchSupport.withSmoke(new CommandLine("bench agent-check",
        "Times the agent-check answer and the app's /health on an idle and on a saturated t3.micro.")
        .option("checks", "N", "answers timed per case, one every 10 ms", "500"));
    int checks = cli.parseOrExit(args, p -> BenchSupport.count(p, "checks", 10, 100_000, 10));
    Path stateDir = Files.createTempDirectory("fleetvote-bench-");
    Vertx vertx = Vertx.vertx();
    try (SandboxProcess sandbox = SandboxProcess.start(stateDir); Ec2Client ec2 = Ec2Clients.sync(sandbox.endpoint())) {
      SandboxAdmin admin = sandbox.admin();
      String id = ec2.runInstances(b -> b.imageId(ImageCatalog.imageId("fleetvote-app")).instanceType("t3.micro")
          .minCount(1).maxCount(1)).instances().get(0).instanceId();
      int checkPort = admin.port(id, "check");
      int appPort = admin.port(id, "app");
      BenchSupport.await("the agent's agent-check and the app's /health", Duration.ofSeconds(90),
          () -> exchange(checkPort, null).startsWith("up") && exchange(appPort, "GET /health HTTP/1.0\r\n\r\n")
              .startsWith("HTTP/1.1 200"));
      System.out.printf("%-40s %6s %8s %8s %8s   %s%n", "case", "n", "p50 ms", "p99 ms", "max ms", "answers");
      print("idle: agent-check", time(checkPort, null, checks));
      print("idle: app /health", time(appPort, "GET /health HTTP/1.0\r\n\r\n", checks));

      Capacity capacity = Capacity.of("t3.micro", WORK_MS);
      int rate = capacity.rate(1, 2.0);
      LoadGenerator load = new LoadGenerator(vertx, new LoadOptions(List.of(URI.create("http://127.0.0.1:" + appPort
          + "/?work=" + WORK_MS)), rate, Duration.ofHours(1), Duration.ofSeconds(30), 512, null), line -> { });
      Future<LoadReport> loading = load.run();
      BenchSupport.await("the app saturated", Duration.ofSeconds(60), () -> BenchSupport.getJson(
          admin.port(id, "agent"), "/health").map(h -> h.getValue("load") instanceof Number busy && busy.doubleValue() >= 90).orElse(false));
      print("saturated (" + rate + " req/s): agent-check", time(checkPort, null, checks));
      print("saturated (" + rate + " req/s): app /health", time(appPort, "GET /health HTTP/1.0\r\n\r\n", checks));
      load.stop();
      loading.await();
      System.out.printf("%nt3.micro (%s vCPU) under its quota; %d ms of work per request; %d cores%n",
          capacity.vcpus(), WORK_MS, Runtime.getRuntime().availableProcessors());
      ec2.terminateInstances(b -> b.instanceIds(id));
      admin.terminateAll();
    } finally {
      vertx.close().await();
    }
  }

  private record Timed(List<Long> micros, Map<String, Integer> answers) {
  }

  /** {@code checks} exchanges, one every 10 ms, each on a new connection. */
  private static Timed time(int port, String request, int checks) throws InterruptedException {
    List<Long> micros = new ArrayList<>();
    Map<String, Integer> answers = new TreeMap<>();
    for (int i = 0; i < checks; i++) {
      long start = System.nanoTime();
      String answer = exchange(port, request);
      micros.add(TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - start));
      String first = answer.isEmpty() ? "(nothing)" : answer.lines().findFirst().orElse("").trim();
      answers.merge(first, 1, Integer::sum);
      TimeUnit.MILLISECONDS.sleep(10);
    }
    return new Timed(micros, answers);
  }

  /** Connects, sends {@code request} (if any), reads until the peer closes; the text, or "" on any failure. */
  private static String exchange(int port, String request) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), TIMEOUT_MS);
      socket.setSoTimeout(TIMEOUT_MS);
      if (request != null) {
        OutputStream out = socket.getOutputStream();
        out.write(request.getBytes(StandardCharsets.US_ASCII));
        out.flush();
      }
      InputStream in = socket.getInputStream();
      return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
    } catch (IOException e) {
      return "";
    }
  }

  private static void print(String name, Timed timed) {
    long[] sorted = timed.micros().stream().mapToLong(Long::longValue).sorted().toArray();
    int n = sorted.length;
    System.out.printf(Locale.ROOT, "%-40s %6d %8.2f %8.2f %8.2f   %s%n", name, n, sorted[n / 2] / 1000.0,
        sorted[Math.max(0, (int) Math.ceil(0.99 * n) - 1)] / 1000.0, sorted[n - 1] / 1000.0, timed.answers());
  }
}
