package io.fleetvote.sandbox.client;

import io.fleetvote.common.net.FreePorts;
import io.fleetvote.sandbox.SandboxOptions;
import io.fleetvote.sandbox.process.ProcessProbe;
import io.fleetvote.sandbox.process.ProcessSupervisor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A sandbox running as its own process ({@code java -jar sandbox/target/fleetvote-sandbox.jar}), for tests, the demo
 * and benchmarks. {@link #close()} terminates every instance, stops the sandbox, and kills by pid whatever the
 * state file still lists as running, so nothing outlives its owner even when the sandbox itself died.
 */
public final class SandboxProcess implements AutoCloseable {

  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

  private final Path home;
  private final Path stateDir;
  private final int port;
  private final List<String> extraArgs;
  private Process process;

  private SandboxProcess(Path home, Path stateDir, int port, List<String> extraArgs) {
    this.home = home;
    this.stateDir = stateDir;
    this.port = port;
    this.extraArgs = List.copyOf(extraArgs);
  }

  /** Starts a sandbox on a free port with its state in {@code stateDir}; returns once it answers. */
  public static SandboxProcess start(Path stateDir, String... extraArgs) {
    SandboxProcess sandbox = new SandboxProcess(SandboxOptions.defaultHome(), stateDir, FreePorts.pick(),
        List.of(extraArgs));
    sandbox.launch();
    return sandbox;
  }

  public URI endpoint() {
    return URI.create("http://127.0.0.1:" + port);
  }

  public Path stateDir() {
    return stateDir;
  }

  public long pid() {
    return process.pid();
  }

  public SandboxAdmin admin() {
    return new SandboxAdmin(endpoint());
  }

  /** SIGKILL: the sandbox dies as in a crash; its instances keep running. */
  public void kill() {
    process.destroyForcibly();
    waitFor(process);
  }

  /** SIGTERM: the sandbox stops cleanly; its instances keep running. */
  public void stop() {
    process.destroy();
    waitFor(process);
  }

  /** Starts the sandbox again on the same port and state directory. */
  public void restart() {
    if (process.isAlive()) {
      stop();
    }
    launch();
  }

  @Override
  public void close() {
    try {
      if (process.isAlive()) {
        admin().terminateAll();
      }
    } catch (RuntimeException e) {
      System.err.println("sandbox: terminate-all failed (" + e.getMessage() + "); killing its processes by pid");
    } finally {
      if (process.isAlive()) {
        stop();
      }
      killLeftovers();
    }
  }

  private void launch() {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Dfleetvote.home=" + home, "-XX:+UseSerialGC", "-Xmx256m",
        "-jar", home.resolve("sandbox/target/fleetvote-sandbox.jar").toString(),
        "--port", Integer.toString(port), "--state-dir", stateDir.toString()));
    command.addAll(extraArgs);
    try {
      Files.createDirectories(stateDir);
      process = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(stateDir.resolve("sandbox.log").toFile()))
          .start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the sandbox: " + command, e);
    }
    awaitHealthy();
  }

  private void awaitHealthy() {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();
    HttpRequest health = HttpRequest.newBuilder(endpoint().resolve("/_sandbox/health")).timeout(Duration.ofSeconds(2))
        .build();
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("the sandbox exited with " + process.exitValue() + "; see "
            + stateDir.resolve("sandbox.log"));
      }
      try {
        if (http.send(health, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for the sandbox", e);
      }
      try {
        process.waitFor(100, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for the sandbox", e);
      }
    }
    process.destroyForcibly();
    throw new IllegalStateException("the sandbox did not answer within " + START_TIMEOUT + "; see "
        + stateDir.resolve("sandbox.log"));
  }

  /** Kills every live process that an instance's pid file names (the sandbox writes one per process it starts). */
  private void killLeftovers() {
    Path instances = stateDir.resolve("instances");
    if (!Files.isDirectory(instances)) {
      return;
    }
    try (Stream<Path> files = Files.walk(instances, 2)) {
      files.filter(f -> f.getFileName().toString().endsWith(".pid")).forEach(file -> {
        String name = file.getFileName().toString().replaceFirst("\\.pid$", "");
        ProcessSupervisor.fromPidFile(file.getParent(), name)
            .flatMap(p -> ProcessProbe.find(p.pid(), p.startedAtMillis()))
            .ifPresent(handle -> {
              System.err.println("sandbox: killing left-over process " + handle.pid() + " (" + file + ")");
              handle.descendants().forEach(ProcessHandle::destroyForcibly);
              handle.destroyForcibly();
            });
      });
    } catch (IOException | UncheckedIOException e) {
      System.err.println("sandbox: cannot scan " + instances + " to clean up: " + e.getMessage());
    }
  }

  private static void waitFor(Process process) {
    try {
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
