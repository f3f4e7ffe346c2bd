package io.fleetvote.coordinator;

import io.fleetvote.sandbox.SandboxOptions;
import io.fleetvote.sandbox.client.ManagedProcess;
import io.fleetvote.sandbox.process.ProcessProbe;
import io.fleetvote.sandbox.process.ProcessSupervisor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** The README's demo command: it runs the whole system, reports it every second, and leaves nothing running. */
class DemoIT {

  private static final Pattern CLUSTER = Pattern.compile("cluster 127\\.0\\.0\\.1:(\\d+)");
  private static final Pattern LAUNCHED = Pattern.compile("RunInstances: launched \\[(i-[0-9a-f]+), (i-[0-9a-f]+)]");

  @TempDir
  Path dir;

  @Test
  void theDemoLaunchesAGroupThatJoinsTheCoordinatorAndCleansUpAfterItself() throws Exception {
    Path home = SandboxOptions.defaultHome();
    Path output = dir.resolve("demo.out");
    Process demo = new ProcessBuilder(ManagedProcess.java(home, "sandbox/target/fleetvote-sandbox.jar",
        "io.fleetvote.sandbox.demo.DemoMain", List.of(), List.of("--duration", "15", "--state-dir",
            dir.resolve("sandbox").toString())))
        .redirectErrorStream(true).redirectOutput(output.toFile()).start();
    try {
      assertThat(demo.waitFor(120, TimeUnit.SECONDS)).as("the demo ends after --duration").isTrue();
    } finally {
      demo.destroyForcibly();
    }
    String text = Files.readString(output);
    assertThat(demo.exitValue()).as(text).isZero();
    Matcher launched = LAUNCHED.matcher(text);
    assertThat(launched.find()).as(text).isTrue();
    assertThat(text).contains("group web: 2 running, registry 2 live", launched.group(1) + " running app 200",
        launched.group(2) + " running app 200", "agent 200", launched.group(1) + " terminated",
        "coordinator and sandbox stopped");
    Matcher cluster = CLUSTER.matcher(text);
    assertThat(cluster.find()).as(text).isTrue();
    assertThat(ProcessHandle.allProcesses().map(p -> p.info().commandLine().orElse(""))
        .filter(line -> line.contains(dir.toString()) || line.contains("--cluster-port " + cluster.group(1))))
        .as("sandbox or coordinator left running").isEmpty();
    try (Stream<Path> pidFiles = Files.walk(dir.resolve("sandbox/instances"))) {
      assertThat(pidFiles.filter(f -> f.toString().endsWith(".pid")).map(f -> ProcessSupervisor.fromPidFile(f.getParent(),
              f.getFileName().toString().replace(".pid", "")).orElseThrow()))
          .as("instance processes").hasSize(4).allSatisfy(p -> assertThat(ProcessProbe.alive(p.pid(),
              p.startedAtMillis())).isFalse());
    }
  }
}
