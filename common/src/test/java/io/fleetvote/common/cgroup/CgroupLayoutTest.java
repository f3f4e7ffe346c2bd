package io.fleetvote.common.cgroup;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** Mount tables and /proc/PID/cgroup texts as the kinds of machine Fleetvote runs on show them. */
class CgroupLayoutTest {

  /** This project's 2-core VM: v1 cpu and cpuacct mounted apart, v2 at unified (reference: overload-and-capacity). */
  static final String HYBRID = """
      31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
      32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
      33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
      34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
      40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
      41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
      """;

  @TempDir
  Path root;

  @Test
  void aHybridMachineHasItsCpuAndCpuacctHierarchiesApartAndV2Beside() {
    CgroupLayout layout = CgroupLayout.parse(HYBRID, root);
    assertThat(layout.hierarchies()).hasSize(5);
    CgroupLayout.Membership groups = layout.membership("""
        3:cpuset:/
        2:cpuacct:/fleetvote/i-1
        1:cpu:/fleetvote/i-1
        9:name=systemd:/
        0::/
        """);
    assertThat(groups.v1("cpu")).get().satisfies(g -> {
      assertThat(g.dir()).isEqualTo(root.resolve("sys/fs/cgroup/cpu/fleetvote/i-1"));
      assertThat(g.isRoot()).isFalse();
    });
    assertThat(groups.v1("cpuacct")).get().extracting(CgroupLayout.Group::dir)
        .isEqualTo(root.resolve("sys/fs/cgroup/cpuacct/fleetvote/i-1"));
    assertThat(groups.v1("cpuset")).get().extracting(CgroupLayout.Group::dir)
        .isEqualTo(root.resolve("sys/fs/cgroup/cpuset"));
    assertThat(groups.v2()).get().satisfies(g -> {
      assertThat(g.dir()).isEqualTo(root.resolve("sys/fs/cgroup/unified"));
      assertThat(g.isRoot()).isTrue();
    });
  }

  @Test
  void aCombinedCpuCpuacctHierarchyServesBothControllers() {
    CgroupLayout layout = CgroupLayout.parse(
        "25 20 0:22 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct\n", root);
    CgroupLayout.Membership groups = layout.membership("4:cpu,cpuacct:/x\n");
    Path dir = root.resolve("sys/fs/cgroup/cpu,cpuacct/x");
    assertThat(groups.v1("cpu")).get().extracting(CgroupLayout.Group::dir).isEqualTo(dir);
    assertThat(groups.v1("cpuacct")).get().extracting(CgroupLayout.Group::dir).isEqualTo(dir);
    assertThat(groups.v2()).isEmpty();
  }

  @Test
  void aContainerThatSeesOnlyItsOwnGroupFindsItAtTheMountPoint() {
    CgroupLayout layout = CgroupLayout.parse(
        "700 690 0:30 /docker/abc /sys/fs/cgroup ro,nosuid - cgroup2 cgroup2 rw,nsdelegate\n", root);
    assertThat(layout.membership("0::/docker/abc/app\n").v2()).get().extracting(CgroupLayout.Group::dir)
        .isEqualTo(root.resolve("sys/fs/cgroup/app"));
    assertThat(layout.membership("0::/docker/other\n").groups()).as("a group the mount does not show").isEmpty();
  }

  @Test
  void escapedSpacesInMountPointsAreRead() {
    CgroupLayout layout = CgroupLayout.parse("32 31 0:29 / /mnt/my\\040cgroups rw - cgroup cgroup rw,cpu\n", root);
    assertThat(layout.hierarchies().get(0).mountPoint()).isEqualTo(root.resolve("mnt/my cgroups"));
  }

  @Test
  void aMachineWithoutCgroupMountsHasNoGroups() {
    CgroupLayout layout = CgroupLayout.parse("22 1 8:1 / / rw - ext4 /dev/sda1 rw\n", root);
    assertThat(layout.hierarchies()).isEmpty();
    assertThat(layout.membership("1:cpu:/\n0::/\n").groups()).isEmpty();
  }

  @Test
  void theMountTableAndAProcessAreReadUnderTheRoot() throws IOException {
    Files.createDirectories(root.resolve("proc/self"));
    Files.createDirectories(root.resolve("proc/42"));
    Files.writeString(root.resolve("proc/self/mountinfo"), HYBRID);
    Files.writeString(root.resolve("proc/42/cgroup"), "1:cpu:/a\n2:cpuacct:/a\n0::/\n");
    CgroupLayout layout = CgroupLayout.read(root);
    assertThat(layout.membershipOf("42").v1("cpu")).get().extracting(CgroupLayout.Group::path).isEqualTo("/a");
  }
}
