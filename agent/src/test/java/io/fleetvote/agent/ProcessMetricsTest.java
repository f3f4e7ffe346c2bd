package io.fleetvote.agent;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class ProcessMetricsTest {

  @TempDir
  Path proc;

  @Test
  void readsResidentMemoryAndCpuAsProcDocumentsThem() throws IOException {
    Files.writeString(proc.resolve("status"), "Name:\tjava\nVmPeak:\t 1300000 kB\nVmRSS:\t   65536 kB\nThreads:\t21\n");
    // A command name with a space and a parenthesis: fields are counted after the last ')'.
    Files.writeString(proc.resolve("stat"), "4242 (java (x) y) S 1 4242 4242 0 -1 4194560 9000 0 12 0 "
        + "250 130 0 0 20 0 21 0 123456 1300000000 16384 18446744073709551615\n");
    ProcessMetrics metrics = new ProcessMetrics(proc);

    assertThat(metrics.residentBytes()).hasValue(64.0 * 1024 * 1024);
    assertThat(metrics.cpuSeconds()).hasValue(3.8);
  }

  @Test
  void saysNothingRatherThanSomethingWrongWhenProcIsMissingOrMalformed() throws IOException {
    ProcessMetrics missing = new ProcessMetrics(proc.resolve("absent"));
    assertThat(missing.residentBytes()).isEmpty();
    assertThat(missing.cpuSeconds()).isEmpty();

    Files.writeString(proc.resolve("status"), "VmRSS:\tlots kB\n");
    Files.writeString(proc.resolve("stat"), "4242 (java) S 1\n");
    ProcessMetrics malformed = new ProcessMetrics(proc);
    assertThat(malformed.residentBytes()).isEmpty();
    assertThat(malformed.cpuSeconds()).isEmpty();
  }

  @Test
  void theRealProcessHasAFootprint() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    new ProcessMetrics(Path.of("/proc/self")).bindTo(registry);

    assertThat(registry.get("fleetvote.agent.resident.memory").gauge().value()).isGreaterThan(1024 * 1024);
    assertThat(registry.get("fleetvote.agent.cpu").functionCounter().count()).isGreaterThan(0);
    assertThat(registry.get("fleetvote.agent.heap.used").gauge().value()).isGreaterThan(0);
  }
}
