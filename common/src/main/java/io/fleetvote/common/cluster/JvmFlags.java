package io.fleetvote.common.cluster;

import java.util.List;
import java.util.stream.Stream;

/** JVM flags for code that starts JVMs: what Hazelcast needs, and what a short-lived local process does best with. */
public final class JvmFlags {

  private JvmFlags() {
  }

  public static final List<String> HAZELCAST = List.of("--add-modules", "java.se",
      "--add-exports", "java.base/jdk.internal.ref=ALL-UNNAMED",
      "--add-opens", "java.base/java.lang=ALL-UNNAMED",
      "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
      "--add-opens", "java.management/sun.management=ALL-UNNAMED",
      "--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED");

  /**
   * For the sandbox, the demo's and the tests' coordinators: processes that live minutes on a machine of two cores
   * shared with everything else. C1 alone and the serial collector start them in far less CPU; C2's compiler threads
   * would cost more than their code saves. Not for production coordinators.
   */
  public static final List<String> LOCAL = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");

  /** {@link #HAZELCAST} and {@link #LOCAL}. */
  public static List<String> localHazelcast() {
    return Stream.concat(HAZELCAST.stream(), LOCAL.stream()).toList();
  }
}
