package io.fleetvote.agent.load;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class HostLoadSensorTest {

  private final List<Process> burners = new ArrayList<>();

  @AfterEach
  void killBurners() throws InterruptedException {
    for (Process burner : burners) {
      burner.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void theFirstReadingIsOnlyTheBaseline() {
    LoadSample baseline = new HostLoadSensor(Clock.systemUTC()).sample();
    assertThat(baseline.isMissing()).isTrue();
    assertThat(baseline.problem()).isEqualTo("first reading of the host's CPU ticks, kept as the baseline");
  }

  @Test
  void everyCoreBusyReadsNearlyAllOfTheHostAndTheLoadAverageIsPerCore() throws IOException, InterruptedException {
    HostLoadSensor sensor = new HostLoadSensor(Clock.systemUTC());
    for (int i = 0; i < Runtime.getRuntime().availableProcessors(); i++) {
      burners.add(new ProcessBuilder("sh", "-c", "while :; do :; done").start());
    }
    sensor.sample();
    assertThat(burners.get(0).waitFor(700, TimeUnit.MILLISECONDS)).as("a burner exited").isFalse();
    LoadSample sample = sensor.sample();
    assertThat(sample.isMissing()).isFalse();
    assertThat(sample.cpuPercent()).isBetween(70.0, 100.0);
    assertThat(sample.loadPerCore()).isGreaterThanOrEqualTo(0.0);
  }
}
