package io.fleetvote.common.imds;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** A device name resolved to where its files are: the sandbox's directory, EC2's mount point, or why neither. */
class BlockDevicesTest {

  @TempDir
  Path dir;

  @Test
  void aDeviceThatIsADirectoryIsItsOwnFiles() throws IOException {
    Path volume = Files.createDirectories(dir.resolve("volumes/vol-1"));
    Path devices = Files.createDirectories(dir.resolve("dev"));
    Files.createSymbolicLink(devices.resolve("sdf"), volume);
    BlockDevices.Resolution resolved = BlockDevices.resolve(devices, "/dev/sdf", mounts(""));
    assertThat(resolved.path()).contains(devices.resolve("sdf"));
    assertThat(BlockDevices.resolve(devices, "sdf", mounts("")).device()).isEqualTo("/dev/sdf");
  }

  @Test
  void aBlockDeviceIsFoundWhereItIsMountedAndOneThatIsNotSaysSo() throws IOException {
    Path devices = Files.createDirectories(dir.resolve("dev"));
    Files.writeString(devices.resolve("nvme1n1"), "");
    Files.createSymbolicLink(devices.resolve("sdf"), devices.resolve("nvme1n1"));
    Path table = mounts("/dev/root / ext4 rw 0 0\n" + devices.resolve("nvme1n1").toRealPath()
        + " /var/lib/fleet\\040data ext4 rw 0 0\n");
    assertThat(BlockDevices.resolve(devices, "/dev/sdf", table).path()).contains(Path.of("/var/lib/fleet data"));
    BlockDevices.Resolution unmounted = BlockDevices.resolve(devices, "/dev/sdf", mounts("/dev/root / ext4 rw 0 0\n"));
    assertThat(unmounted.path()).isEmpty();
    assertThat(unmounted.why()).contains("attached but not mounted");
  }

  @Test
  void aMissingOrMalformedDeviceIsNamed() throws IOException {
    Path devices = Files.createDirectories(dir.resolve("dev"));
    assertThat(BlockDevices.resolve(devices, "/dev/sdh", mounts("")).why()).contains("not attached yet");
    assertThat(BlockDevices.resolve(devices, "../../etc", mounts("")).why()).contains("not an EBS device name");
    assertThat(BlockDevices.resolve(devices, "/dev/sdf/../../x", mounts("")).path()).isEmpty();
  }

  private Path mounts(String text) throws IOException {
    return Files.writeString(dir.resolve("mounts-" + text.hashCode()), text);
  }
}
