package io.fleetvote.coordinator;

import io.fleetvote.common.FleetvoteHome;
import io.fleetvote.common.cluster.JvmFlags;
import io.fleetvote.testkit.ManagedProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** A coordinator given a bad groups or users file does not start: it exits at once, naming the file and the field. */
class BadGroupsFileIT {

  @TempDir
  Path dir;

  @Test
  void aBadGroupsFileStopsTheCoordinatorAtStartNamingTheField() throws Exception {
    Path groups = dir.resolve("groups.json");
    Files.writeString(groups, "{\"groups\": [{\"name\": \"web\", \"imageId\": \"ami-0123456789abcdef0\", \"min\": 3, "
        + "\"max\": 2}]}");
    String text = run(List.of("--no-auth", "--groups", groups.toString(), "--ec2-endpoint", "http://127.0.0.1:9"), 2);
    assertThat(text).contains(groups + ": groups[0].max: 2 is below min (3)");
  }

  @Test
  void aBadUsersFileStopsTheCoordinatorAtStartNamingTheField() throws Exception {
    Path users = dir.resolve("users.json");
    Files.writeString(users, "{\"tokenSecret\": \"" + Base64.getEncoder().encodeToString(new byte[32])
        + "\", \"users\": [{\"name\": \"ops\", \"role\": \"operator\", \"passwordHash\": \"hunter2\"}]}");
    String text = run(List.of("--users", users.toString()), 2);
    assertThat(text).contains(users + ": users[0].passwordHash: is not a hash from ./fleetvote hash-password");
  }

  private String run(List<String> args, int expectedExit) throws Exception {
    Path output = dir.resolve("coordinator.out");
    Process coordinator = new ProcessBuilder(ManagedProcess.java(FleetvoteHome.dir(),
        "coordinator/target/fleetvote-coordinator.jar", "io.fleetvote.coordinator.CoordinatorMain", JvmFlags.HAZELCAST,
        args)).redirectErrorStream(true).redirectOutput(output.toFile()).start();
    try {
      assertThat(coordinator.waitFor(60, TimeUnit.SECONDS)).isTrue();
    } finally {
      coordinator.destroyForcibly();
    }
    String text = Files.readString(output);
    assertThat(coordinator.exitValue()).as(text).isEqualTo(expectedExit);
    return text;
  }
}
