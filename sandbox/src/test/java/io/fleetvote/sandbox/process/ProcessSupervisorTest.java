package io.fleetvote.sandbox.process;

import static org.assertj.core.api.Assertions.assertThat;

import io.fleetvote.testkit.Await;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcessSupervisorTest {

  @TempDir
  Path dir;
  private final Vertx vertx = Vertx.vertx();
  private final ProcessSupervisor supervisor = new ProcessSupervisor(vertx);

  @AfterEach
  void close() {
    vertx.close().await();
  }

  @Test
  void aChildThatExitsOnItsOwnIsNoticedWithoutReadingProcAndOneThatRunsIsNot() {
    RunningProcess quick = supervisor.spawn(dir.resolve("quick"), "quick", List.of("true"), Map.of(), List.of())
        .await();
    RunningProcess running = supervisor.spawn(dir.resolve("long"), "long", List.of("sleep", "60"), Map.of(), List.of())
        .await();
    try {
      assertThat(quick.watched()).isTrue();
      Await.until("the quick child's exit noticed", Duration.ofSeconds(10), () -> supervisor.exitNoticed(quick));
      assertThat(supervisor.alive(quick)).isFalse();
      assertThat(supervisor.exitNoticed(running)).isFalse();
      assertThat(supervisor.alive(running)).isTrue();

      // One read back from its pid file (a restarted sandbox adopts it) is not its child: /proc says.
      RunningProcess adopted = ProcessSupervisor.fromPidFile(dir.resolve("long"), "long").orElseThrow();
      assertThat(adopted.watched()).isFalse();
      assertThat(supervisor.exitNoticed(adopted)).isFalse();
      supervisor.killAll(List.of(running)).await();
      assertThat(supervisor.exitNoticed(adopted)).isTrue();
      Await.until("the killed child's exit noticed", Duration.ofSeconds(10), () -> supervisor.exitNoticed(running));
    } finally {
      supervisor.kill(running);
    }
  }

  @Test
  void aRunningChildHoldsNoDescriptorOfTheSandbox() throws IOException {
    int children = 5;
    long before = pipes();
    List<RunningProcess> running = new ArrayList<>();
    try {
      for (int i = 0; i < children; i++) {
        running.add(supervisor.spawn(dir.resolve("c" + i), "c", List.of("sh", "-c", "echo out; echo err >&2; sleep 60"),
            Map.of(), List.of()).await());
      }
      // Each a pipe for its life with redirectErrorStream(true): 5,000 instances ran the sandbox out of descriptors.
      assertThat(pipes()).isLessThan(before + children);
      Await.until("both streams in the child's log", Duration.ofSeconds(10),
          () -> read(dir.resolve("c0").resolve("c.log")), log -> log.contains("out") && log.contains("err"));
    } finally {
      supervisor.killAll(running).await();
    }
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException notYet) {
      return "";
    }
  }

  private static long pipes() throws IOException {
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.filter(fd -> {
        try {
          return Files.readSymbolicLink(fd).toString().startsWith("pipe:");
        } catch (IOException gone) {
          return false;
        }
      }).count();
    }
  }
}
