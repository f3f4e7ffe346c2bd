package io.fleetvote.sandbox.process;

import static org.assertj.core.api.Assertions.assertThat;

import io.fleetvote.testkit.Await;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
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
}
