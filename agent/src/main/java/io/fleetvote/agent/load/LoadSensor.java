package io.fleetvote.agent.load;

import java.util.function.Supplier;

/**
 * Measures how busy this instance is, as CPU used since the previous reading. {@link HostLoadSensor} measures the
 * whole host (a VM of its own); {@link ProcessTreeLoadSensor} one process and its descendants (an instance that
 * shares its host); {@link CgroupLoadSensor} the cgroup of one process against its CPU quota (an instance with a
 * capacity of its own on a shared host: the sandbox, a container).
 * <p>
 * {@link #sample()} reads {@code /proc}, so callers run it on a worker thread. A condition of the machine (a dead
 * process, an unreadable file) is not an exception: it gives a {@link LoadSample#missing missing} sample that
 * says what is wrong. The first reading only records a baseline and is missing too. Implementations are
 * thread-safe; {@code toString()} says what they measure, for logs.
 */
public interface LoadSensor {

  LoadSample sample();

  /**
   * A sensor made by {@code make} at its first reading, and described by {@code description} until then: a fallback
   * that most agents never use (the process tree behind a cgroup's quota) costs nothing until it is needed (OSHI
   * loads JNA and some hundred classes).
   */
  static LoadSensor lazy(String description, Supplier<? extends LoadSensor> make) {
    return new LoadSensor() {
      private LoadSensor made;

      @Override
      public synchronized LoadSample sample() {
        if (made == null) {
          made = make.get();
        }
        return made.sample();
      }

      @Override
      public String toString() {
        return description;
      }
    };
  }
}
