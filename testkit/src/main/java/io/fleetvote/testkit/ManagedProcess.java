package io.fleetvote.testkit;

import io.fleetvote.common.net.FreePorts;
import io.fleetvote.common.process.Sessions;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A Fleetvote process started by a tool (a test, the demo, a benchmark): output appended to a log file, ready when
 * its health URL answers 200, stopped by pid (SIGTERM, then SIGKILL) when its owner is done, or when its owner's JVM
 * exits before (a benchmark stopped by Ctrl-C or SIGTERM: {@link Shutdown}).
 */
public final class ManagedProcess implements AutoCloseable {

  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(20);

  private final String name;
  private final Process process;
  private final Path log;
  private Shutdown.Registration onExit;

  private ManagedProcess(String name, Process process, Path log) {
    this.name = name;
    this.process = process;
    this.log = log;
  }

  /** The command line of {@code java} running {@code mainClass} from a Fleetvote jar under {@code home}. */
  public static List<String> java(Path home, String jar, String mainClass, List<String> jvmFlags, List<String> args) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Dfleetvote.home=" + home);
    command.addAll(FreePorts.sliceFlags());
    command.addAll(jvmFlags);
    command.add("-cp");
    command.add(home.resolve(jar).toString());
    command.add(mainClass);
    command.addAll(args);
    return command;
  }

  /** Starts {@code command} and returns once {@code health} answers 200; fails if the process exits or times out. */
  public static ManagedProcess start(String name, List<String> command, Path log, URI health, Duration timeout) {
    Process process;
    try {
      Files.createDirectories(log.toAbsolutePath().getParent());
      // Its own session: a Ctrl-C in the owner's terminal reaches only the owner, which then stops this in order.
      process = new ProcessBuilder(Sessions.inOwnSession(command)).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the " + name + ": " + command, e);
    }
    ManagedProcess managed = new ManagedProcess(name, process, log);
    managed.onExit = Shutdown.onExit("stop the " + name, managed::close);
    try {
      managed.awaitHealthy(health, timeout);
    } catch (RuntimeException e) {
      managed.onExit.cancel();
      throw e;
    }
    return managed;
  }

  public long pid() {
    return process.pid();
  }

  public boolean alive() {
    return process.isAlive();
  }

  /** SIGTERM, and SIGKILL if it has not exited within 20 s. */
  public synchronized void stop() {
    process.destroy();
    waitForExit();
  }

  /** SIGKILL, as in a crash. */
  public void kill() {
    process.destroyForcibly();
    waitForExit();
  }

  @Override
  public synchronized void close() {
    if (process.isAlive()) {
      stop();
    }
    if (onExit != null) {
      onExit.cancel();
    }
  }

  private void awaitHealthy(URI health, Duration timeout) {
    HttpRequest.Builder request = Http.request(health).timeout(Duration.ofSeconds(2));
    try {
      Await.until("the " + name + " to answer " + health + " (see " + log + ")", timeout, Duration.ofMillis(100),
          () -> {
            if (!process.isAlive()) {
              throw new IllegalStateException("the " + name + " exited with " + process.exitValue() + "; see " + log);
            }
            return Http.answer(request).map(HttpReply::status).orElse(0);
          }, status -> status == 200);
    } catch (AssertionError e) {
      process.destroyForcibly();
      throw new IllegalStateException(e.getMessage(), e);
    } catch (RuntimeException e) {
      process.destroyForcibly();
      throw e;
    }
  }

  private void waitForExit() {
    try {
      if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
