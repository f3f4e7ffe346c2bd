package io.fleetvote.agent.load;

import oshi.SystemInfo;
import oshi.hardware.CentralProcessor;

import java.time.Clock;
import java.time.Instant;

/**
 * The load of the whole host, for an instance that has a VM to itself: the system CPU load between two readings
 * of the kernel's CPU ticks (all logical processors, so 100 = every core busy), and the 1-minute load average per
 * logical processor. Reads {@code /proc/stat} and {@code /proc/loadavg} through OSHI.
 */
public final class HostLoadSensor implements LoadSensor {

  private final CentralProcessor processor;
  private final Clock clock;
  private long[] previousTicks;

  /** Reads the processor's description once (OSHI's setup): call it off the event loop. */
  public HostLoadSensor(Clock clock) {
    this.processor = new SystemInfo().getHardware().getProcessor();
    this.clock = clock;
  }

  @Override
  public synchronized LoadSample sample() {
    Instant when = clock.instant();
    long[] ticks = processor.getSystemCpuLoadTicks();
    long[] previous = previousTicks;
    previousTicks = ticks;
    if (previous == null) {
      return LoadSample.missing(when, "first reading of the host's CPU ticks, kept as the baseline");
    }
    double loadAverage = processor.getSystemLoadAverage(1)[0];
    return LoadSample.measured(100 * processor.getSystemCpuLoadBetweenTicks(previous, ticks),
        loadAverage < 0 ? Double.NaN : loadAverage / processor.getLogicalProcessorCount(), when);
  }

  @Override
  public String toString() {
    return "host CPU (" + processor.getLogicalProcessorCount() + " logical processors)";
  }
}
