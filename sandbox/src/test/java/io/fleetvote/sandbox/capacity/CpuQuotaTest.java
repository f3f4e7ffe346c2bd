package io.fleetvote.sandbox.capacity;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Layout detection against fake {@code /proc/self} and {@code /sys/fs/cgroup} trees. A fake tree is plain
 * directories, so what the kernel would create by itself (a group's control files) is written by the test.
 */
class CpuQuotaTest {

  private static final String V1_CPU = "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n";
  private static final String V1_CPUACCT =
      "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n";
  private static final String V2_UNIFIED = "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

  @TempDir
  Path root;
  @TempDir
  Path stateDir;

  @Test
  void aPureV2HostGetsCpuMaxUnderTheSandboxsOwnGroup() throws IOException {
    fakeProc("35 24 0:30 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n", "0::/services/sandbox\n");
    Path own = group("sys/fs/cgroup/services/sandbox");
    Files.writeString(own.resolve("cgroup.controllers"), "cpuset cpu io memory pids\n");
    Files.writeString(own.resolve("cgroup.subtree_control"), "\n");
    Path base = group(own.resolve(baseName()));
    Files.writeString(base.resolve("cgroup.subtree_control"), "\n");

    CpuQuota quota = CpuQuota.detect(root, stateDir);

    assertThat(quota.enforced()).as(quota.why()).isTrue();
    assertThat(quota.layout()).isEqualTo(CpuQuota.Layout.V2);
    assertThat(Files.readString(own.resolve("cgroup.subtree_control"))).isEqualTo("+cpu");
    assertThat(Files.readString(base.resolve("cgroup.subtree_control"))).isEqualTo("+cpu");
    assertThat(quota.create("i-0123456789abcdef0", 0.25)).containsExactly(base.resolve("i-0123456789abcdef0"));
    assertThat(Files.readString(base.resolve("i-0123456789abcdef0/cpu.max"))).isEqualTo("5000 20000");
    assertThat(quota.toJson().getString("layout")).isEqualTo("v2");
  }

  @Test
  void aHybridHostWithCpuAndCpuacctApartSetsTheQuotaInCpuAndJoinsBoth() throws IOException {
    fakeProc(V1_CPU + V1_CPUACCT + V2_UNIFIED, "2:cpuacct:/\n1:cpu:/\n0::/\n");
    Files.writeString(group("sys/fs/cgroup/unified").resolve("cgroup.controllers"), "hugetlb\n");
    group("sys/fs/cgroup/cpu");
    group("sys/fs/cgroup/cpuacct");

    CpuQuota quota = CpuQuota.detect(root, stateDir);

    assertThat(quota.enforced()).as(quota.why()).isTrue();
    assertThat(quota.layout()).isEqualTo(CpuQuota.Layout.V1);
    Path cpu = root.resolve("sys/fs/cgroup/cpu").resolve(baseName()).resolve("i-1");
    Path cpuacct = root.resolve("sys/fs/cgroup/cpuacct").resolve(baseName()).resolve("i-1");
    assertThat(quota.create("i-1", 0.125)).containsExactly(cpu, cpuacct);
    assertThat(Files.readString(cpu.resolve("cpu.cfs_period_us"))).isEqualTo("20000");
    assertThat(Files.readString(cpu.resolve("cpu.cfs_quota_us"))).isEqualTo("2500");
    assertThat(Files.isDirectory(cpuacct)).isTrue();
    assertThat(quota.why()).contains("cpu.cfs_quota_us", "accounting in " + cpuacct.getParent());
  }

  @Test
  void aCombinedCpuCpuacctHierarchyIsJoinedOnce() throws IOException {
    fakeProc("25 20 0:22 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n", "4:cpu,cpuacct:/lab\n");
    group("sys/fs/cgroup/cpu,cpuacct/lab");

    CpuQuota quota = CpuQuota.detect(root, stateDir);

    assertThat(quota.layout()).as(quota.why()).isEqualTo(CpuQuota.Layout.V1);
    assertThat(quota.groups("i-1")).containsExactly(root.resolve("sys/fs/cgroup/cpu,cpuacct/lab")
        .resolve(baseName()).resolve("i-1"));
  }

  @Test
  void withoutACpuControllerTheSandboxSaysSoAndEnforcesNothing() throws IOException {
    fakeProc(V2_UNIFIED + "40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd\n",
        "9:name=systemd:/\n0::/\n");
    Files.writeString(group("sys/fs/cgroup/unified").resolve("cgroup.controllers"), "hugetlb\n");

    CpuQuota quota = CpuQuota.detect(root, stateDir);

    assertThat(quota.enforced()).isFalse();
    assertThat(quota.layout()).isEqualTo(CpuQuota.Layout.NONE);
    assertThat(quota.why()).isEqualTo("no cpu controller: cgroup v2 at " + root.resolve("sys/fs/cgroup/unified")
        + " offers only [hugetlb] and no cgroup v1 cpu hierarchy is mounted");
    assertThat(quota.groups("i-1")).isEmpty();
    assertThat(quota.toJson().getString("layout")).isEqualTo("none");
  }

  @Test
  void aHierarchyThatCannotBeWrittenIsNamedWithTheReason() throws IOException {
    fakeProc(V1_CPU, "1:cpu:/\n");
    Files.writeString(group("sys/fs/cgroup/cpu").resolve(baseName()), "a file where the base would go");

    CpuQuota quota = CpuQuota.detect(root, stateDir);

    assertThat(quota.enforced()).isFalse();
    assertThat(quota.why()).startsWith("cgroup v1 under " + root.resolve("sys/fs/cgroup/cpu") + " cannot be written (");
  }

  @Test
  void anUnreadableLayoutIsNotEnforced() {
    CpuQuota quota = CpuQuota.detect(root, stateDir);
    assertThat(quota.enforced()).isFalse();
    assertThat(quota.why()).startsWith("the cgroup layout cannot be read (").contains("mountinfo");
  }

  @Test
  void quotasAreTheVcpusOfTwentyMillisecondsAndNeverBelowOne() {
    assertThat(CpuQuota.quotaMicros(0.25)).isEqualTo(5_000);
    assertThat(CpuQuota.quotaMicros(2)).isEqualTo(40_000);
    assertThat(CpuQuota.quotaMicros(0.01)).isEqualTo(1_000);
  }

  @Test
  void eachStateDirHasItsOwnBase() throws IOException {
    fakeProc(V1_CPU, "1:cpu:/\n");
    group("sys/fs/cgroup/cpu");
    Path other = Files.createDirectories(root.resolve("other-state"));
    List<Path> mine = CpuQuota.detect(root, stateDir).groups("i-1");
    List<Path> theirs = CpuQuota.detect(root, other).groups("i-1");
    assertThat(mine.get(0).getParent()).isNotEqualTo(theirs.get(0).getParent());
    assertThat(mine.get(0).getParent().getFileName().toString()).matches("fleetvote-sandbox-[0-9a-f]{10}");
  }

  @Test
  void theBasesOfSandboxesThatAreGoneAreRemovedWithTheirGroupsAndNoOtherIs() throws IOException {
    fakeProc(V1_CPU + V1_CPUACCT, "2:cpuacct:/\n1:cpu:/\n");
    Path cpu = group("sys/fs/cgroup/cpu");
    Path cpuacct = group("sys/fs/cgroup/cpuacct");
    ProcessHandle self = ProcessHandle.current();
    long started = self.info().startInstant().orElseThrow().toEpochMilli();
    // Killed: its owner's pid is no process; groups in both hierarchies, one only in cpuacct.
    Path killed = base(cpu, "fleetvote-sandbox-dead000001", "owner-999999999-" + started, "i-1", "i-2");
    Path killedAcct = base(cpuacct, "fleetvote-sandbox-dead000001", "i-1", "i-2", "i-3");
    // Alive: owned by this JVM.
    Path alive = base(cpu, "fleetvote-sandbox-a11fe00001", "owner-" + self.pid() + "-" + started, "i-1");
    // Gone, but a process is still in one of its groups.
    Path busy = base(cpu, "fleetvote-sandbox-b05e000001", "owner-999999999-" + started, "i-1");
    Files.writeString(busy.resolve("i-1/cgroup.procs"), "4242\n");
    // No owner said yet: too young to judge.
    Path unclaimed = base(cpu, "fleetvote-sandbox-0e0000001", "i-1");
    // Not a sandbox's.
    Path foreign = group(cpu.resolve("system.slice"));

    CpuQuota quota = CpuQuota.detect(root, stateDir);
    Path own = root.resolve("sys/fs/cgroup/cpu").resolve(baseName());
    assertThat(ownerOf(own)).isEqualTo("owner-" + self.pid() + "-" + started);
    quota.create("i-9", 0.5);

    assertThat(quota.removeForsaken()).containsExactly(killed);
    assertThat(killed).doesNotExist();
    assertThat(killedAcct).doesNotExist();
    assertThat(alive.resolve("i-1")).isDirectory();
    assertThat(busy.resolve("i-1")).isDirectory();
    assertThat(unclaimed.resolve("i-1")).isDirectory();
    assertThat(foreign).isDirectory();
    assertThat(own.resolve("i-9")).isDirectory();

    // An owner's marker is no instance's group, and goes with the base when the sandbox stops.
    assertThat(quota.removeAbandoned(Set.of("i-9"))).isEmpty();
    Files.delete(own.resolve("i-9/cpu.cfs_period_us"));
    Files.delete(own.resolve("i-9/cpu.cfs_quota_us"));
    assertThat(quota.tryRemove("i-9")).isTrue();
    Files.delete(own.resolve("cpu.cfs_quota_us"));
    quota.removeBasesIfEmpty();
    assertThat(own).doesNotExist();
  }

  private static Path base(Path hierarchy, String name, String... groups) throws IOException {
    Path base = group(hierarchy.resolve(name));
    for (String g : groups) {
      group(base.resolve(g));
    }
    return base;
  }

  private static String ownerOf(Path base) throws IOException {
    try (Stream<Path> entries = Files.list(base)) {
      return entries.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("owner-")).findFirst()
          .orElse(null);
    }
  }

  private void fakeProc(String mountinfo, String cgroup) throws IOException {
    Path self = Files.createDirectories(root.resolve("proc/self"));
    Files.writeString(self.resolve("mountinfo"), mountinfo);
    Files.writeString(self.resolve("cgroup"), cgroup);
  }

  private Path group(String path) throws IOException {
    return group(root.resolve(path));
  }

  private static Path group(Path dir) throws IOException {
    return Files.createDirectories(dir);
  }

  private String baseName() {
    return CpuQuota.baseName(stateDir);
  }
}
