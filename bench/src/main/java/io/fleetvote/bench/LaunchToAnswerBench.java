package io.fleetvote.bench;

import io.fleetvote.common.cli.CommandLine;
import io.fleetvote.sandbox.ImageCatalog;
import io.fleetvote.testkit.Ec2Clients;
import io.fleetvote.testkit.SandboxAdmin;
import io.fleetvote.testkit.SandboxProcess;
import software.amazon.awssdk.services.ec2.Ec2Client;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * How long a new app instance takes, from the moment RunInstances is sent, to be running in EC2's eyes, to have
 * its demo app answer HTTP, and to have its agent answer {@code /health}. One instance at a time, each terminated
 * before the next; prints every run and the median, minimum, maximum and spread.
 */
public final class LaunchToAnswerBench {

  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofMillis(200)).build();
  private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

  private LaunchToAnswerBench() {
  }

  public static void main(String[] args) throws Exception {
    CommandLine cli = BenchSupport.withSmoke(new CommandLine("bench launch-to-answer",
        "Times RunInstances -> running -> demo app answers -> agent answers on the sandbox.")
        .option("runs", "N", "how many launches to time", "10")
        .option("warmup", "N", "launches before the timed ones (not counted)", "1"));
    int[] settings = cli.parseOrExit(args, p -> new int[] {BenchSupport.count(p, "runs", 1, 1000, 1),
        BenchSupport.count(p, "warmup", 0, 100, 0)});
    int runs = settings[0];
    Path stateDir = Files.createTempDirectory("fleetvote-bench-");
    try (SandboxProcess sandbox = SandboxProcess.start(stateDir); Ec2Client ec2 = Ec2Clients.sync(sandbox.endpoint())) {
      SandboxAdmin admin = sandbox.admin();
      for (int i = 0; i < settings[1]; i++) {
        measure(ec2, admin);
      }
      long[][] results = new long[runs][];
      System.out.printf("%-4s %14s %16s %16s%n", "run", "->running ms", "->app answers ms", "->agent answers ms");
      for (int i = 0; i < runs; i++) {
        results[i] = measure(ec2, admin);
        System.out.printf("%-4d %14d %16d %16d%n", i + 1, results[i][0], results[i][1], results[i][2]);
      }
      System.out.println();
      System.out.printf("%-18s %8s %8s %8s %8s%n", "from RunInstances", "median", "min", "max", "spread");
      String[] names = {"to running", "to app answers", "to agent answers"};
      for (int column = 0; column < 3; column++) {
        long[] values = new long[runs];
        for (int i = 0; i < runs; i++) {
          values[i] = results[i][column];
        }
        Arrays.sort(values);
        long median = runs % 2 == 1 ? values[runs / 2] : (values[runs / 2 - 1] + values[runs / 2]) / 2;
        System.out.printf("%-18s %8d %8d %8d %8d%n", names[column], median, values[0], values[runs - 1],
            values[runs - 1] - values[0]);
      }
      System.out.printf("%n%d runs on %d cores, %s%n", runs, Runtime.getRuntime().availableProcessors(),
          System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
    }
  }

  /** One launch: milliseconds from sending RunInstances to running, to the app's 200, to the agent's 200. */
  private static long[] measure(Ec2Client ec2, SandboxAdmin admin) {
    long start = System.nanoTime();
    String id = ec2.runInstances(b -> b.imageId(ImageCatalog.imageId("fleetvote-app")).minCount(1).maxCount(1))
        .instances().get(0).instanceId();
    int appPort = admin.port(id, "app");
    int agentPort = admin.port(id, "agent");
    List<Long> marks = new ArrayList<>();
    long running = -1;
    long app = -1;
    long agent = -1;
    long deadline = start + TimeUnit.SECONDS.toNanos(60);
    while ((running < 0 || app < 0 || agent < 0) && System.nanoTime() < deadline) {
      long now = System.nanoTime();
      if (running < 0 && ec2.describeInstances(b -> b.instanceIds(id)).reservations().get(0).instances().get(0)
          .state().nameAsString().equals("running")) {
        running = now;
      }
      if (app < 0 && answers(appPort, "/")) {
        app = System.nanoTime();
      }
      if (agent < 0 && answers(agentPort, "/health")) {
        agent = System.nanoTime();
      }
      long rest = POLL_NANOS - (System.nanoTime() - now);
      if (rest > 0) {
        try {
          TimeUnit.NANOSECONDS.sleep(rest);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
    }
    ec2.terminateInstances(b -> b.instanceIds(id));
    admin.terminateAll();
    marks.add(running);
    marks.add(app);
    marks.add(agent);
    if (marks.contains(-1L)) {
      throw new IllegalStateException("instance " + id + " did not come up within 60 s");
    }
    return marks.stream().mapToLong(m -> TimeUnit.NANOSECONDS.toMillis(m - start)).toArray();
  }

  private static boolean answers(int port, String path) {
    try {
      return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
          .timeout(Duration.ofSeconds(1)).build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
