package io.fleetvote.common.net;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Picks TCP ports on 127.0.0.1 that were free a moment ago, for processes that must be told their port up front.
 * Never from the kernel's ephemeral range ({@code /proc/sys/net/ipv4/ip_local_port_range}): that is where every
 * outbound connection takes its local port, so a port picked there (as port 0 would give) can be taken by someone's
 * connection before its process binds it, and the process then fails to start. Each port is handed out once per JVM
 * (among the last few thousand) and is bound once to check it is free.
 * <p>
 * JVMs that pick at the same time (test forks run in parallel, and the processes they start) each take their own
 * slice of the ports when {@value #SLICE_PROPERTY} says {@code k/n}: ports {@code p} with {@code p mod n == k - 1},
 * so that one never picks a port another picked and has not bound yet. {@link #sliceFlags} passes it on.
 */
public final class FreePorts {

  /** Below this: well-known and registered services' ports. */
  static final int FLOOR = 10_000;
  static final int DEFAULT_EPHEMERAL_LOW = 32_768;
  static final int DEFAULT_EPHEMERAL_HIGH = 60_999;
  private static final int REMEMBERED = 4096;
  private static final int ATTEMPTS = 500;
  private static final Set<Integer> HANDED_OUT = new LinkedHashSet<>();
  private static final int[] EPHEMERAL = ephemeralRange(Path.of("/proc/sys/net/ipv4/ip_local_port_range"));
  /** The system property naming this JVM's slice of the ports, {@code k/n} (1 <= k <= n). */
  public static final String SLICE_PROPERTY = "fleetvote.ports.slice";
  private static final int[] SLICE = slice(System.getProperty(SLICE_PROPERTY));

  private FreePorts() {
  }

  public static int pick() {
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
      int port = candidate(EPHEMERAL[0], EPHEMERAL[1], ThreadLocalRandom.current().nextInt(1 << 30));
      if (port % SLICE[1] == SLICE[0] - 1 && claim(port) && bindable(port)) {
        return port;
      }
    }
    throw new UncheckedIOException(new IOException("no free port on 127.0.0.1 outside the ephemeral range "
        + EPHEMERAL[0] + "-" + EPHEMERAL[1] + " after " + ATTEMPTS + " tries"));
  }

  /** The JVM flag that gives a process this JVM's slice of the ports; none when it has all of them. */
  public static List<String> sliceFlags() {
    String slice = System.getProperty(SLICE_PROPERTY);
    return slice == null ? List.of() : List.of("-D" + SLICE_PROPERTY + "=" + slice);
  }

  /** {@code k/n} as {k, n}; all the ports ({1, 1}) when absent; a bad one is named. */
  static int[] slice(String text) {
    if (text == null || text.isBlank()) {
      return new int[] {1, 1};
    }
    String[] parts = text.trim().split("/");
    try {
      int k = Integer.parseInt(parts[0]);
      int n = Integer.parseInt(parts[1]);
      if (parts.length == 2 && n >= 1 && n <= 16 && k >= 1 && k <= n) {
        return new int[] {k, n};
      }
    } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
      // named below
    }
    throw new IllegalArgumentException(SLICE_PROPERTY + " must be k/n with 1 <= k <= n <= 16, not '" + text + "'");
  }

  /** The {@code draw}-th port (mod their number) of [FLOOR, low) and (high, 65535]. */
  static int candidate(int low, int high, int draw) {
    int below = Math.max(0, low - FLOOR);
    int above = Math.max(0, 65_535 - high);
    int index = Math.floorMod(draw, below + above);
    return index < below ? FLOOR + index : high + 1 + (index - below);
  }

  /** The kernel's ephemeral range from {@code file} ("low high"), or Linux's default when it cannot be read. */
  static int[] ephemeralRange(Path file) {
    try {
      String[] parts = Files.readString(file).trim().split("\\s+");
      int low = Integer.parseInt(parts[0]);
      int high = Integer.parseInt(parts[1]);
      if (low > FLOOR && low <= high && high <= 65_535) {
        return new int[] {low, high};
      }
    } catch (IOException | RuntimeException e) {
      // not Linux, or unreadable: the default below
    }
    return new int[] {DEFAULT_EPHEMERAL_LOW, DEFAULT_EPHEMERAL_HIGH};
  }

  private static boolean claim(int port) {
    synchronized (HANDED_OUT) {
      if (!HANDED_OUT.add(port)) {
        return false;
      }
      if (HANDED_OUT.size() > REMEMBERED) {
        HANDED_OUT.remove(HANDED_OUT.iterator().next());
      }
      return true;
    }
  }

  private static boolean bindable(int port) {
    try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
