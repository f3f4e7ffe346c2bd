package io.fleetvote.testkit;

import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real cut: a shell in it cannot connect to the cut port (its SYN is dropped: the connection times out) while this
 * process, outside it, can; the shell still reaches another port; healed, it reaches the port again; closed, the
 * shell is back in its own cgroup and the cut's cgroup and rule are gone.
 */
class NetworkCutTest {

  @Test
  void aMemberCannotReachTheCutPortWhileOthersCanUntilHealed() throws Exception {
    try (ServerSocket cutPort = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
         ServerSocket otherPort = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      // One connection attempt per line read, with a 2 s bound: "ok" or "failed".
      Process shell = new ProcessBuilder("bash", "-c", "while read port; do if timeout 2 bash -c "
          + "\"exec 3<>/dev/tcp/127.0.0.1/$port\" 2>/dev/null; then echo ok; else echo failed; fi; done").start();
      String before = cgroup(shell.pid());
      Path cgroupDir;
      try (NetworkCut cut = NetworkCut.create("unittest");
           Writer in = shell.outputWriter();
           BufferedReader out = new BufferedReader(new InputStreamReader(shell.getInputStream()))) {
        cut.join(shell.pid());
        cgroupDir = NetworkCut.cgroup2Root().resolve(cgroup(shell.pid()).substring(1));
        assertThat(cgroup(shell.pid())).as("the shell in the cut's cgroup").contains("fleetvote-cut-")
            .isNotEqualTo(before);
        assertThat(attempt(in, out, cutPort.getLocalPort())).as("before the cut").isEqualTo("ok");

        cut.cut(cutPort.getLocalPort());
        assertThat(attempt(in, out, cutPort.getLocalPort())).as("a member to the cut port").isEqualTo("failed");
        assertThat(attempt(in, out, otherPort.getLocalPort())).as("a member to another port").isEqualTo("ok");
        try (Socket outside = new Socket()) {
          outside.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), cutPort.getLocalPort()), 2000);
          assertThat(outside.isConnected()).as("a process outside the cut to the cut port").isTrue();
        }

        cut.heal();
        assertThat(attempt(in, out, cutPort.getLocalPort())).as("healed").isEqualTo("ok");
        cut.cut(cutPort.getLocalPort());
      } finally {
        shell.destroy();
        shell.waitFor(10, TimeUnit.SECONDS);
      }
      assertThat(Files.exists(cgroupDir)).as("the cut's cgroup removed").isFalse();
    }
  }

  @Test
  void closedWithItsMemberAlivePutsItBack() throws Exception {
    Process sleeper = new ProcessBuilder("sleep", "60").start();
    try {
      String before = cgroup(sleeper.pid());
      try (NetworkCut cut = NetworkCut.create("unittest")) {
        cut.join(sleeper.pid());
        cut.cut(9);
      }
      assertThat(cgroup(sleeper.pid())).isEqualTo(before);
      assertThat(new ProcessBuilder("nft", "list", "tables").start().inputReader().lines()
          .filter(l -> l.contains("fleetvote_cut_" + ProcessHandle.current().pid()))).as("no rule left").isEmpty();
    } finally {
      sleeper.destroy();
      sleeper.waitFor(10, TimeUnit.SECONDS);
    }
  }

  private static String attempt(Writer in, BufferedReader out, int port) throws IOException {
    in.write(port + "\n");
    in.flush();
    return out.readLine();
  }

  private static String cgroup(long pid) throws IOException {
    return Files.readAllLines(Path.of("/proc/" + pid + "/cgroup")).stream().filter(l -> l.startsWith("0::"))
        .map(l -> l.substring(3)).findFirst().orElseThrow();
  }
}
