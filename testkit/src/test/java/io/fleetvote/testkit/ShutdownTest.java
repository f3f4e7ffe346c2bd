package io.fleetvote.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.fleetvote.common.net.FreePorts;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tool's JVM stopped by SIGTERM (a benchmark's Ctrl-C) stops the processes it started: an owner JVM starts an HTTP
 * server as a {@link ManagedProcess}, says its pid, and is sent SIGTERM; the server is gone once the owner is.
 */
class ShutdownTest {

  @TempDir
  Path dir;

  @Test
  void anOwnerStoppedBySigtermStopsTheProcessItStarted() throws Exception {
    Path said = dir.resolve("child.pid");
    Process owner = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), Owner.class.getName(), dir.toString(), said.toString())
        .redirectErrorStream(true).redirectOutput(dir.resolve("owner.out").toFile()).start();
    try {
      Await.until("the owner's process up", Duration.ofSeconds(60), () -> Files.exists(said) || !owner.isAlive());
      assertThat(owner.isAlive()).as(Files.readString(dir.resolve("owner.out"))).isTrue();
      ProcessHandle child = ProcessHandle.of(Long.parseLong(Files.readString(said).strip())).orElseThrow();
      assertThat(child.isAlive()).isTrue();

      owner.destroy();
      assertThat(owner.waitFor(60, TimeUnit.SECONDS)).as("the owner exits on SIGTERM").isTrue();
      assertThat(child.isAlive()).as("the process it started, stopped at its exit").isFalse();
    } finally {
      owner.destroyForcibly();
    }
  }

  /** Starts a process as a tool does and waits to be stopped. */
  public static final class Owner {
    public static void main(String[] args) throws Exception {
      int port = FreePorts.pick();
      ManagedProcess server = ManagedProcess.start("http server", List.of("python3", "-m", "http.server", "--bind",
              "127.0.0.1", Integer.toString(port)), Path.of(args[0], "server.log"),
          URI.create("http://127.0.0.1:" + port + "/"), Duration.ofSeconds(30));
      Path said = Path.of(args[1]);
      Files.writeString(said.resolveSibling("partial"), Long.toString(server.pid()));
      Files.move(said.resolveSibling("partial"), said);
      Thread.sleep(Long.MAX_VALUE);
    }
  }
}
