package io.fleetvote.common.cluster;

import java.util.List;

/** Flags every JVM that runs Hazelcast needs on Java 17 (module access), for code that starts such a JVM. */
public final class JvmFlags {

  private JvmFlags() {
  }

  public static final List<String> HAZELCAST = List.of("--add-modules", "java.se",
      "--add-exports", "java.base/jdk.internal.ref=ALL-UNNAMED",
      "--add-opens", "java.base/java.lang=ALL-UNNAMED",
      "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
      "--add-opens", "java.management/sun.management=ALL-UNNAMED",
      "--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED");
}
