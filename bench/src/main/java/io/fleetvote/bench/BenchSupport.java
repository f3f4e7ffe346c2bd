package io.fleetvote.bench;

import io.fleetvote.common.FleetvoteHome;
import io.fleetvote.common.cli.CommandLine;
import io.fleetvote.common.cluster.JvmFlags;
import io.fleetvote.sandbox.ImageCatalog;
import io.fleetvote.testkit.Await;
import io.fleetvote.testkit.LocalJson;
import io.fleetvote.testkit.ManagedProcess;
import io.fleetvote.testkit.SandboxProcess;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * What the benchmarks share: idle instances (whose agents {@link SimulatedAgents} play), a coordinator process on
 * the sandbox, JSON over HTTP, waiting, and the summary line.
 */
final class BenchSupport {

  /** The image of {@link #idleImages}: an instance that only sleeps, for a benchmark that speaks for its agent. */
  static final String IDLE_IMAGE = "bench-idle";

  /** How often the benchmarks ask: the resolution of what they time. */
  private static final Duration POLL = Duration.ofMillis(2);

  private BenchSupport() {
  }

  /** {@code cli} with {@code --smoke}: the benchmark at its smallest, which the test suite runs (BenchSmokeIT). */
  static CommandLine withSmoke(CommandLine cli) {
    return cli.flag("smoke", "tiny sizes, one cycle: shows that the benchmark runs, measures nothing");
  }

  /** Option {@code name} as a count within {@code min..max}, or {@code smoke} under {@code --smoke}. */
  static int count(CommandLine.Parsed parsed, String name, int min, int max, int smoke) {
    return parsed.flag("smoke") ? smoke : parsed.intValue(name, min, max);
  }

  /**
   * Writes {@code dir/images.json}, the sandbox's extra image {@value #IDLE_IMAGE} (outside any CPU quota: sleepers
   * that never run work need no cgroups), and returns its path for the sandbox's {@code --images}.
   */
  static Path idleImages(Path dir) throws IOException {
    Path images = dir.resolve("images.json");
    Files.writeString(images, new JsonObject().put("images", new JsonArray().add(new JsonObject()
        .put("name", IDLE_IMAGE).put("description", "an instance without an agent: the benchmark speaks for it")
        .put("processes", new JsonArray().add(new JsonObject().put("name", "sleep")
            .put("command", new JsonArray().add("sleep").add("3600")).put("stopTimeoutMillis", 1000)
            .put("withinCapacity", false))))).encode());
    return images;
  }

  /** Writes {@code dir/groups.json}: group {@code name} of idle instances, {@code min..max}; returns its path. */
  static Path idleGroup(Path dir, String name, int min, int max) throws IOException {
    return groups(dir, new JsonArray().add(idleGroup(name, min, max)));
  }

  /** The same with several groups, each of exactly its size: {@code sizes} by name. */
  static Path idleGroups(Path dir, Map<String, Integer> sizes) throws IOException {
    JsonArray groups = new JsonArray();
    sizes.forEach((name, size) -> groups.add(idleGroup(name, size, size)));
    return groups(dir, groups);
  }

  private static JsonObject idleGroup(String name, int min, int max) {
    return new JsonObject().put("name", name).put("imageId", ImageCatalog.imageId(IDLE_IMAGE)).put("min", min)
        .put("max", max).put("calmTimeMs", 0).put("bootTimeoutMs", 600_000)
        // No healing: what the benchmark measures is not its agents' silence while it starts them.
        .put("autoHeal", false);
  }

  private static Path groups(Path dir, JsonArray groups) throws IOException {
    Path file = dir.resolve("groups.json");
    Files.writeString(file, new JsonObject().put("groups", groups).encode());
    return file;
  }

  /**
   * A coordinator of deployment {@code bench} on {@code sandbox}, the first member of cluster {@code cluster}, its
   * agent gateway on a free port (the instances' user-data names it).
   */
  static ManagedProcess coordinator(Path dir, SandboxProcess sandbox, Path groups, String cluster, int clusterPort,
                                    int apiPort, long tickMillis, long fleetRefreshMillis) {
    List<String> args = new ArrayList<>(List.of("--tick-ms", Long.toString(tickMillis),
        "--fleet-refresh-ms", Long.toString(fleetRefreshMillis)));
    args.addAll(sandbox.agentGatewayArgs());
    return coordinator(dir, "coordinator", sandbox, groups, cluster, clusterPort, List.of(clusterPort), apiPort, args);
  }

  /**
   * Coordinator {@code name} of deployment {@code bench} on {@code sandbox}, a member of cluster {@code cluster}
   * (whose members' ports are {@code members}), with {@code extra} options (its gateway's among them); its data in
   * {@code dir/name}, its log in {@code dir/name.log}. The same arguments start it again after a kill.
   */
  static ManagedProcess coordinator(Path dir, String name, SandboxProcess sandbox, Path groups, String cluster,
                                    int clusterPort, List<Integer> members, int apiPort, List<String> extra) {
    List<String> args = new ArrayList<>(List.of("--no-auth", "--deployment", "bench", "--cluster-name", cluster,
        "--cluster-port", Integer.toString(clusterPort),
        "--members", String.join(",", members.stream().map(p -> "127.0.0.1:" + p).toList()),
        "--http-port", Integer.toString(apiPort), "--groups", groups.toString(),
        "--data-dir", dir.resolve(name).toString(), "--ec2-endpoint", sandbox.endpoint().toString()));
    args.addAll(extra);
    return ManagedProcess.start(name, ManagedProcess.java(FleetvoteHome.dir(),
            "coordinator/target/fleetvote-coordinator.jar", "io.fleetvote.coordinator.CoordinatorMain",
            JvmFlags.HAZELCAST, args),
        dir.resolve(name + ".log"), URI.create("http://127.0.0.1:" + apiPort + "/health"), Duration.ofSeconds(60));
  }

  /** The live votes (grow, shrink or none) group {@code name} has on the coordinator of {@code apiPort}. */
  static Optional<Integer> votesCounted(int apiPort, String name) {
    return group(apiPort, name).map(g -> {
      JsonObject votes = g.getJsonObject("votes");
      return votes.getInteger("grow") + votes.getInteger("shrink") + votes.getInteger("none");
    });
  }

  /** GET {@code path} on 127.0.0.1:{@code port}: the JSON body of a 200, else empty. */
  static Optional<JsonObject> getJson(int port, String path) {
    return LocalJson.get(port, path);
  }

  /** A group of the coordinator's {@code /api/groups}. */
  static Optional<JsonObject> group(int apiPort, String name) {
    return getJson(apiPort, "/api/groups").flatMap(g -> g.getJsonArray("groups").stream()
        .map(JsonObject.class::cast).filter(x -> x.getString("name").equals(name)).findFirst());
  }

  static void await(String what, Duration timeout, BooleanSupplier condition) {
    Await.until(what, timeout, POLL, condition::getAsBoolean, Boolean::booleanValue);
  }

  /** Polls {@code probe} every 2 ms until it has a value; fails naming {@code what} after {@code timeout}. */
  static <T> T await(String what, Duration timeout, Supplier<Optional<T>> probe) {
    return Await.until(what, timeout, POLL, probe, Optional::isPresent).orElseThrow();
  }

  /** "median M ms, p95 P, min A, max B, spread S (n runs)" of millisecond values. */
  static String summary(List<Long> millis) {
    long[] sorted = millis.stream().mapToLong(Long::longValue).sorted().toArray();
    if (sorted.length == 0) {
      return "no runs";
    }
    int n = sorted.length;
    long median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    long p95 = sorted[Math.max(0, (int) Math.ceil(0.95 * n) - 1)];
    return String.format(Locale.ROOT, "median %d ms, p95 %d, min %d, max %d, spread %d (%d runs)", median, p95,
        sorted[0], sorted[n - 1], sorted[n - 1] - sorted[0], n);
  }
}
