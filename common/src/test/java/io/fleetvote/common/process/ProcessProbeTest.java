package io.fleetvote.common.process;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The one-read liveness check against the JDK's own view of the same processes. */
class ProcessProbeTest {

  @Test
  void aLiveProcessIsAliveOnlyWithItsOwnStartTime() throws Exception {
    Process sleeper = new ProcessBuilder("sleep", "60").start();
    try {
      long started = ProcessProbe.startMillis(sleeper.toHandle()).orElseThrow();

      assertThat(ProcessProbe.alive(sleeper.pid(), started)).isTrue();
      assertThat(ProcessProbe.find(sleeper.pid(), started)).isPresent();
      // The same pid with another start time is another process: a recycled pid is not the one recorded.
      assertThat(ProcessProbe.alive(sleeper.pid(), started - 5_000)).isFalse();
      assertThat(ProcessProbe.alive(sleeper.pid(), started + 5_000)).isFalse();
    } finally {
      sleeper.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void anExitedProcessAndAPidThatNeverWasAreNotAlive() throws Exception {
    Process quick = new ProcessBuilder("true").start();
    long started = quick.info().startInstant().map(Instant::toEpochMilli).orElse(System.currentTimeMillis());
    assertThat(quick.waitFor(10, TimeUnit.SECONDS)).isTrue();

    assertThat(ProcessProbe.alive(quick.pid(), started)).isFalse();
    assertThat(ProcessProbe.alive(Long.MAX_VALUE / 2, started)).isFalse();
  }

  @Test
  void aProcessStartsBetweenTheMomentsAroundItsSpawnNotUpToASecondEarlier() throws Exception {
    // The JDK's start instant counts from btime, whole seconds: it can be up to a second early.
    long before = System.currentTimeMillis();
    Process sleeper = new ProcessBuilder("sleep", "60").start();
    long after = System.currentTimeMillis();
    try {
      long started = ProcessProbe.startMillis(sleeper.toHandle()).orElseThrow();
      // One clock tick (10 ms) and the boot time's own 10 ms of rounding either way.
      assertThat(started).isBetween(before - 20, after + 20);
      assertThat(ProcessProbe.alive(sleeper.pid(), started)).isTrue();
    } finally {
      sleeper.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void thisProcessIsAliveAsTheJdkSeesIt() {
    ProcessHandle self = ProcessHandle.current();
    long started = self.info().startInstant().map(Instant::toEpochMilli).orElseThrow();

    assertThat(ProcessProbe.alive(self.pid(), started)).isEqualTo(ProcessProbe.find(self.pid(), started).isPresent())
        .isTrue();
  }
}
