package io.fleetvote.common.net;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Ports for processes to bind later: free, never twice, and never where outbound connections take theirs. */
class FreePortsTest {

  @Test
  void picksAreBindableDistinctAndOutsideTheEphemeralRange() throws IOException {
    int[] ephemeral = FreePorts.ephemeralRange(Path.of("/proc/sys/net/ipv4/ip_local_port_range"));
    Set<Integer> picked = new HashSet<>();
    for (int i = 0; i < 300; i++) {
      int port = FreePorts.pick();
      assertThat(port).isBetween(FreePorts.FLOOR, 65_535);
      assertThat(port < ephemeral[0] || port > ephemeral[1]).as("%d outside %d-%d", port, ephemeral[0], ephemeral[1])
          .isTrue();
      assertThat(picked.add(port)).as("%d handed out twice", port).isTrue();
    }
    int port = FreePorts.pick();
    try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
      assertThat(socket.getLocalPort()).isEqualTo(port);
    }
  }

  @Test
  void candidatesCoverBothSidesOfTheRangeAndNothingElse() {
    assertThat(FreePorts.candidate(32_768, 60_999, 0)).isEqualTo(10_000);
    assertThat(FreePorts.candidate(32_768, 60_999, 22_767)).isEqualTo(32_767);
    assertThat(FreePorts.candidate(32_768, 60_999, 22_768)).isEqualTo(61_000);
    assertThat(FreePorts.candidate(32_768, 60_999, 22_768 + 4536 - 1)).isEqualTo(65_535);
    assertThat(FreePorts.candidate(32_768, 60_999, 22_768 + 4536)).as("wraps around").isEqualTo(10_000);
    assertThat(FreePorts.candidate(32_768, 60_999, -1)).isEqualTo(65_535);
  }

  @Test
  void aSliceIsKOfNAndABadOneIsNamed() {
    assertThat(FreePorts.slice(null)).containsExactly(1, 1);
    assertThat(FreePorts.slice("2/2")).containsExactly(2, 2);
    for (String bad : new String[] {"3/2", "0/2", "2", "a/b", "1/2/3"}) {
      assertThatThrownBy(() -> FreePorts.slice(bad)).hasMessageContaining("fleetvote.ports.slice must be k/n");
    }
  }

  @Test
  void anUnreadableRangeIsLinuxsDefault(@TempDir Path dir) throws IOException {
    assertThat(FreePorts.ephemeralRange(dir.resolve("missing"))).containsExactly(32_768, 60_999);
    Files.writeString(dir.resolve("odd"), "nonsense");
    assertThat(FreePorts.ephemeralRange(dir.resolve("odd"))).containsExactly(32_768, 60_999);
    Files.writeString(dir.resolve("range"), "40000\t50000\n");
    assertThat(FreePorts.ephemeralRange(dir.resolve("range"))).containsExactly(40_000, 50_000);
  }
}
