package io.fleetvote.testkit;

import io.fleetvote.common.FleetvoteHome;
import io.fleetvote.common.cluster.JvmFlags;
import io.fleetvote.common.net.FreePorts;
import io.fleetvote.common.process.PidRecord;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A sandbox running as its own process ({@code java -jar sandbox/target/fleetvote-sandbox.jar}), for tests, the demo
 * and benchmarks. {@link #close()} terminates every instance, stops the sandbox, and kills by pid whatever the
 * state file still lists as running, so nothing outlives its owner even when the sandbox itself died; the owner's JVM
 * exiting first (Ctrl-C, SIGTERM) does the same ({@link Shutdown}).
 */
public final class SandboxProcess implements AutoCloseable {

  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

  private final Path home;
  private final Path stateDir;
  private final int port;
  private final List<String> extraArgs;
  private final List<String> jvmFlags;
  private ManagedProcess process;
  private Shutdown.Registration onExit;

  private SandboxProcess(Path home, Path stateDir, int port, List<String> jvmFlags, List<String> extraArgs) {
    this.jvmFlags = List.copyOf(jvmFlags);
    this.home = home;
    this.stateDir = stateDir;
    this.port = port;
    this.extraArgs = List.copyOf(extraArgs);
  }

  /** Starts a sandbox on a free port with its state in {@code stateDir}; returns once it answers. */
  public static SandboxProcess start(Path stateDir, String... extraArgs) {
    return start(stateDir, List.of(), extraArgs);
  }

  /** The same, the sandbox's JVM also given {@code jvmFlags} (e.g. {@code -XX:ActiveProcessorCount=1}: a smaller host). */
  public static SandboxProcess start(Path stateDir, List<String> jvmFlags, String... extraArgs) {
    SandboxProcess sandbox = new SandboxProcess(FleetvoteHome.dir(), stateDir, FreePorts.pick(), jvmFlags,
        List.of(extraArgs));
    sandbox.launch();
    sandbox.onExit = Shutdown.onExit("stop the sandbox and its instances", sandbox::close);
    return sandbox;
  }

  public URI endpoint() {
    return URI.create("http://127.0.0.1:" + port);
  }

  public Path stateDir() {
    return stateDir;
  }

  /** The certificate of the sandbox's instance identity signatures (PEM), which coordinators verify agents with. */
  public Path identityCertificate() {
    return stateDir.resolve("identity-certificate.pem");
  }

  /**
   * A coordinator's {@code gateway} options (JSON) for agents of this sandbox: on 127.0.0.1 and a free port,
   * verifying their identity documents with this sandbox's certificate.
   */
  public JsonObject agentGateway() {
    return new JsonObject().put("host", "127.0.0.1").put("port", FreePorts.pick())
        .put("identityCertificate", admin().identityCertificate()).put("region", "us-east-1");
  }

  /** The same for a coordinator process: its {@code --agent-port} and {@code --identity-certificate} options. */
  public List<String> agentGatewayArgs() {
    return List.of("--agent-host", "127.0.0.1", "--agent-port", Integer.toString(FreePorts.pick()),
        "--identity-certificate", identityCertificate().toString());
  }

  public long pid() {
    return process.pid();
  }

  public SandboxAdmin admin() {
    return new SandboxAdmin(endpoint());
  }

  /** SIGKILL: the sandbox dies as in a crash; its instances keep running. */
  public void kill() {
    process.kill();
  }

  /** SIGTERM: the sandbox stops cleanly; its instances keep running. */
  public void stop() {
    process.stop();
  }

  /** Starts the sandbox again on the same port and state directory. */
  public void restart() {
    process.close();
    launch();
  }

  @Override
  public synchronized void close() {
    if (onExit != null) {
      onExit.cancel();
    }
    try {
      if (process.alive()) {
        admin().terminateAll();
      }
    } catch (RuntimeException e) {
      System.err.println("sandbox: terminate-all failed (" + e.getMessage() + "); killing its processes by pid");
    } finally {
      process.close();
      killLeftovers();
    }
  }

  private void launch() {
    List<String> args = new ArrayList<>(List.of("--port", Integer.toString(port), "--state-dir", stateDir.toString()));
    args.addAll(extraArgs);
    process = ManagedProcess.start("sandbox", ManagedProcess.java(home, "sandbox/target/fleetvote-sandbox.jar",
            "io.fleetvote.sandbox.SandboxMain", Stream.of(JvmFlags.LOCAL.stream(),
                Stream.of("-Xmx" + System.getProperty("fleetvote.sandbox.heap", "256m")), jvmFlags.stream())
                .flatMap(f -> f).toList(), args),
        stateDir.resolve("sandbox.log"), endpoint().resolve("/_sandbox/health"), START_TIMEOUT);
  }

  /** Kills every live process that an instance's pid file names (the sandbox writes one per process it starts). */
  private void killLeftovers() {
    Path instances = stateDir.resolve("instances");
    if (!Files.isDirectory(instances)) {
      return;
    }
    List<Map.Entry<Path, ProcessHandle>> left = new ArrayList<>();
    try (Stream<Path> files = Files.walk(instances, 2)) {
      files.filter(f -> f.getFileName().toString().endsWith(".pid")).forEach(file -> PidRecord.read(file)
          .flatMap(PidRecord::live).ifPresent(handle -> left.add(Map.entry(file, handle))));
    } catch (IOException | UncheckedIOException e) {
      System.err.println("sandbox: cannot scan " + instances + " to clean up: " + e.getMessage());
    }
    if (left.isEmpty()) {
      return;
    }
    // The process tree read once (ProcessHandle.descendants reads every process's parent for each call: with
    // thousands of instances left, that was minutes).
    Map<Long, List<ProcessHandle>> children = ProcessHandle.allProcesses().collect(Collectors.groupingBy(
        h -> h.parent().map(ProcessHandle::pid).orElse(0L)));
    System.err.println("sandbox: killing " + left.size() + " left-over process(es), e.g. " + left.get(0).getValue().pid()
        + " (" + left.get(0).getKey() + ")");
    for (Map.Entry<Path, ProcessHandle> process : left) {
      destroyTree(process.getValue(), children);
    }
  }

  private static void destroyTree(ProcessHandle handle, Map<Long, List<ProcessHandle>> children) {
    for (ProcessHandle child : children.getOrDefault(handle.pid(), List.of())) {
      destroyTree(child, children);
    }
    handle.destroyForcibly();
  }
}
