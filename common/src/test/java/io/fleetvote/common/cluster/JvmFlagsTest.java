package io.fleetvote.common.cluster;

import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;

import static org.assertj.core.api.Assertions.assertThat;

class JvmFlagsTest {

  @Test
  void theArgumentFilesAreReadAsTheJavaLauncherReadsThem() {
    assertThat(JvmFlags.parse("# why\n--add-opens a=ALL-UNNAMED   # what\n\n  -XX:+UseSerialGC\n"))
        .containsExactly("--add-opens", "a=ALL-UNNAMED", "-XX:+UseSerialGC");
  }

  @Test
  void theFlagsComeFromTheArgumentFilesOfJvm() {
    assertThat(JvmFlags.HAZELCAST).startsWith("--add-modules", "java.se")
        .contains("--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED");
    assertThat(JvmFlags.LOCAL).containsExactly("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");
  }

  @Test
  void theTestJvmWasStartedWithTheSameFiles() {
    assertThat(ManagementFactory.getRuntimeMXBean().getInputArguments())
        .contains("-XX:TieredStopAtLevel=1", "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED");
  }
}
