package io.fleetvote.agent;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * The agent's own footprint on {@code /metrics}, read from {@code /proc/self} at each scrape: its resident memory
 * ({@code fleetvote_agent_resident_memory_bytes}), the CPU it has used ({@code fleetvote_agent_cpu_seconds_total}),
 * and its Java heap in use ({@code fleetvote_agent_heap_used_bytes}). Micrometer's JVM metrics would say more, but
 * they go through the JVM's management beans, which cost the agent some 500 classes and several MiB. Where
 * {@code /proc} cannot be read (not Linux), the first two are NaN.
 */
final class ProcessMetrics {

  /** Linux reports utime and stime in USER_HZ ticks, 100 a second on every architecture it runs on. */
  static final double TICKS_PER_SECOND = 100;

  private final Path status;
  private final Path stat;

  ProcessMetrics(Path procSelf) {
    this.status = procSelf.resolve("status");
    this.stat = procSelf.resolve("stat");
  }

  /**
   * Micrometer keeps only a weak reference to a meter's object, and nothing else holds this one: the first gauge
   * holds it strongly, for itself and the counter.
   */
  void bindTo(MeterRegistry registry) {
    Gauge.builder("fleetvote.agent.resident.memory", this, m -> m.residentBytes().orElse(Double.NaN))
        .baseUnit("bytes").description("The agent's resident memory (VmRSS)").strongReference(true)
        .register(registry);
    FunctionCounter.builder("fleetvote.agent.cpu", this, m -> m.cpuSeconds().orElse(Double.NaN))
        .baseUnit("seconds").description("CPU the agent has used, user and system").register(registry);
    Gauge.builder("fleetvote.agent.heap.used", Runtime.getRuntime(), r -> r.totalMemory() - r.freeMemory())
        .baseUnit("bytes").description("The agent's Java heap in use").register(registry);
  }

  /** VmRSS of {@code status}, in bytes. */
  OptionalDouble residentBytes() {
    try {
      for (String line : Files.readAllLines(status)) {
        if (line.startsWith("VmRSS:")) {
          String[] fields = line.substring("VmRSS:".length()).trim().split("\\s+");
          return OptionalDouble.of(Long.parseLong(fields[0]) * 1024.0);
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux, or a status line not as documented (proc(5)): no value rather than a wrong one
    }
    return OptionalDouble.empty();
  }

  /** utime + stime of {@code stat} (fields 14 and 15, counted after the command name in parentheses), in seconds. */
  OptionalDouble cpuSeconds() {
    OptionalLong ticks = cpuTicks();
    return ticks.isPresent() ? OptionalDouble.of(ticks.getAsLong() / TICKS_PER_SECOND) : OptionalDouble.empty();
  }

  private OptionalLong cpuTicks() {
    try {
      String line = Files.readString(stat);
      String[] fields = line.substring(line.lastIndexOf(')') + 2).trim().split(" ");
      // fields[0] is field 3 (state): utime is field 14, stime 15
      return OptionalLong.of(Long.parseLong(fields[11]) + Long.parseLong(fields[12]));
    } catch (IOException | RuntimeException e) {
      return OptionalLong.empty();
    }
  }
}
