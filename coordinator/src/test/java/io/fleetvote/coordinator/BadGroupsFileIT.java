package io.fleetvote.coordinator;

import io.fleetvote.common.cluster.JvmFlags;
import io.fleetvote.sandbox.SandboxOptions;
import io.fleetvote.sandbox.client.ManagedProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** A coordinator given a bad groups file does not start: it exits at once, naming the file and the field. */
class BadGroupsFileIT {

  @TempDir
  Path dir;

  @Test
  void aBadGroupsFileStopsTheCoordinatorAtStartNamingTheField() throws Exception {
    Path groups = dir.resolve("groups.json");
    Files.writeString(groups, "{\"groups\": [{\"name\": \"web\", \"imageId\": \"ami-0123456789abcdef0\", \"min\": 3, "
        + "\"max\": 2}]}");
    Path output = dir.resolve("coordinator.out");
    Process coordinator = new ProcessBuilder(ManagedProcess.java(SandboxOptions.defaultHome(),
        "coordinator/target/fleetvote-coordinator.jar", "io.fleetvote.coordinator.CoordinatorMain", JvmFlags.HAZELCAST,
        List.of("--groups", groups.toString(), "--ec2-endpoint", "http://127.0.0.1:9")))
        .redirectErrorStream(true).redirectOutput(output.toFile()).start();
    try {
      assertThat(coordinator.waitFor(60, TimeUnit.SECONDS)).isTrue();
    } finally {
      coordinator.destroyForcibly();
    }
    String text = Files.readString(output);
    assertThat(coordinator.exitValue()).as(text).isEqualTo(2);
    assertThat(text).contains(groups + ": groups[0].max: 2 is below min (3)");
  }
}
