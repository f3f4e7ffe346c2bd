package io.fleetvote.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A real network cut between some processes and one TCP port on this machine, as a partition makes it: the kernel
 * drops every packet the members' sockets send to the port (an nftables rule on the sockets' cgroup v2), so their
 * connections to it time out, while every other process still reaches the port and the members still reach every
 * other port. The members join a cgroup of the cut's own; nothing else on the machine is moved or filtered, and
 * {@link #close()} puts the members back where they were and removes the rule and the cgroup (also those a killed
 * test run left, at the next cut's creation).
 * <p>
 * Needs root and {@code nft} ({@code ./fleetvote test} installs nftables). nft resolves a cgroup path under
 * {@code /sys/fs/cgroup}; where the machine mounts cgroup v2 elsewhere (a hybrid layout, {@code
 * /sys/fs/cgroup/unified}), the rule is written from a private mount namespace that mounts it there.
 */
public final class NetworkCut implements AutoCloseable {

  private static final String PREFIX = "fleetvote-cut-";
  private static final String TABLE_PREFIX = "fleetvote_cut_";
  private static final Pattern OWNED = Pattern.compile("fleetvote[-_]cut[-_](\\d+)[-_].*");

  private final Path cgroupRoot;
  private final String name;
  private final String table;
  /** Each member's pid and the cgroup (relative to the root) it came from. */
  private final Map<Long, String> members = new LinkedHashMap<>();
  private boolean cut;

  private NetworkCut(Path cgroupRoot, String name) {
    this.cgroupRoot = cgroupRoot;
    this.name = name;
    this.table = name.replace('-', '_');
  }

  /** A cut of no process yet, named after {@code purpose} (letters and digits), its cgroup made. */
  public static NetworkCut create(String purpose) {
    if (!purpose.matches("[a-z0-9]{1,20}")) {
      throw new IllegalArgumentException("a cut's purpose is 1 to 20 lowercase letters and digits: " + purpose);
    }
    Path root = cgroup2Root();
    removeLeftovers(root);
    String name = PREFIX + ProcessHandle.current().pid() + "-" + purpose;
    try {
      Files.createDirectories(root.resolve(name));
    } catch (IOException e) {
      throw new IllegalStateException("cannot make the cut's cgroup " + root.resolve(name) + " (root needed): "
          + e.getMessage(), e);
    }
    return new NetworkCut(root, name);
  }

  /** The process and its descendants join the cut (their sockets made from now on). */
  public void join(long pid) {
    ProcessHandle process = ProcessHandle.of(pid).orElseThrow(() -> new IllegalArgumentException("no process " + pid));
    List<ProcessHandle> tree = new ArrayList<>(List.of(process));
    process.descendants().forEach(tree::add);
    for (ProcessHandle p : tree) {
      members.putIfAbsent(p.pid(), cgroupOf(p.pid()));
      move(p.pid(), name);
    }
  }

  /** From now on, every packet the members send to {@code port} (TCP, IPv4 or IPv6) is dropped. */
  public void cut(int port) {
    heal();
    nft("add table inet " + table + "\n"
        + "add chain inet " + table + " out { type filter hook output priority 0; policy accept; }\n"
        + "add rule inet " + table + " out socket cgroupv2 level 1 \"" + name + "\" tcp dport " + port + " drop\n");
    cut = true;
  }

  /** The port reachable by the members again. */
  public void heal() {
    if (cut) {
      nft("delete table inet " + table + "\n");
      cut = false;
    }
  }

  /** Healed; the members still alive back in their cgroups; the cut's cgroup removed. */
  @Override
  public void close() {
    try {
      heal();
    } finally {
      members.forEach((pid, from) -> {
        if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
          move(pid, from);
        }
      });
      removeCgroup(cgroupRoot.resolve(name));
    }
  }

  /** Where this machine mounts cgroup v2 (the unified hierarchy), from {@code /proc/self/mountinfo}. */
  static Path cgroup2Root() {
    try (Stream<String> lines = Files.lines(Path.of("/proc/self/mountinfo"))) {
      // mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER
      return lines.map(l -> l.split(" "))
          .filter(f -> {
            int dash = List.of(f).indexOf("-");
            return dash > 0 && dash + 1 < f.length && f[dash + 1].equals("cgroup2") && f[3].equals("/");
          })
          .map(f -> Path.of(f[4])).findFirst()
          .orElseThrow(() -> new IllegalStateException("no cgroup v2 hierarchy is mounted on this machine"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String cgroupOf(long pid) {
    try {
      return Files.readAllLines(Path.of("/proc/" + pid + "/cgroup")).stream().filter(l -> l.startsWith("0::"))
          .map(l -> l.substring(3)).findFirst().orElse("/");
    } catch (IOException e) {
      throw new IllegalStateException("cannot read the cgroup of process " + pid + ": " + e.getMessage(), e);
    }
  }

  private void move(long pid, String cgroup) {
    Path procs = cgroupRoot.resolve(cgroup.startsWith("/") ? cgroup.substring(1) : cgroup).resolve("cgroup.procs");
    try {
      Files.writeString(procs, Long.toString(pid));
    } catch (IOException e) {
      if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
        throw new IllegalStateException("cannot move process " + pid + " into " + procs + ": " + e.getMessage(), e);
      }
    }
  }

  /** Tables and cgroups of cuts whose test process is gone: their members are back in the root cgroup. */
  private static void removeLeftovers(Path root) {
    try (Stream<Path> dirs = Files.list(root)) {
      for (Path dir : dirs.filter(d -> ownerGone(d.getFileName().toString())).toList()) {
        for (String pid : Files.readAllLines(dir.resolve("cgroup.procs"))) {
          Files.writeString(root.resolve("cgroup.procs"), pid);
        }
        removeCgroup(dir);
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot list the cgroups under " + root + ": " + e.getMessage(), e);
    }
    for (String line : run(List.of("nft", "list", "tables"), "").split("\n")) {
      String[] words = line.strip().split(" ");
      if (words.length == 3 && words[2].startsWith(TABLE_PREFIX) && ownerGone(words[2])) {
        run(List.of("nft", "delete", "table", words[1], words[2]), "");
      }
    }
  }

  private static boolean ownerGone(String name) {
    Matcher m = OWNED.matcher(name);
    return m.matches() && ProcessHandle.of(Long.parseLong(m.group(1))).map(p -> !p.isAlive()).orElse(true);
  }

  private static void removeCgroup(Path dir) {
    try {
      Files.deleteIfExists(dir);
    } catch (IOException e) {
      throw new IllegalStateException("cannot remove the cut's cgroup " + dir + " (a process still in it?): "
          + e.getMessage(), e);
    }
  }

  private void nft(String script) {
    boolean standard = cgroupRoot.equals(Path.of("/sys/fs/cgroup"));
    run(standard ? List.of("nft", "-f", "-")
        : List.of("unshare", "--mount", "sh", "-c", "mount -t cgroup2 none /sys/fs/cgroup && exec nft -f -"), script);
  }

  private static String run(List<String> command, String input) {
    try {
      return Commands.run(command, input);
    } catch (IllegalStateException e) {
      throw new IllegalStateException(e.getMessage() + " (a network cut needs root and nftables; ./fleetvote test "
          + "installs nftables)", e);
    }
  }
}
