package io.fleetvote.common.imds;

import io.vertx.core.Future;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * An instance's EBS volumes as its agent finds them, the same way on EC2 and in the sandbox: the device names from
 * the instance metadata's block-device mapping ({@code ebs1} -> {@code sdf}), each resolved under the device
 * directory ({@code /dev} on EC2; the sandbox names its own in {@link #DEVICE_DIR_ENV}) to where its files are: the
 * directory itself when the device is one (the sandbox), else where the block device is mounted ({@code /proc/mounts};
 * mounting it is the image's work, as with any EBS volume).
 */
public final class BlockDevices {

  /** The variable in which the sandbox names an instance's device directory. */
  public static final String DEVICE_DIR_ENV = "FLEETVOTE_DEVICE_DIR";
  private static final Path EC2_DEVICE_DIR = Path.of("/dev");
  private static final Pattern EBS = Pattern.compile("ebs[1-9][0-9]{0,2}");
  /**
   * An EBS data volume's device name on a Linux instance, as AttachVolume takes it and the agents' options name it
   * ({@code /dev/sdf}, {@code /dev/xvdf}, {@code /dev/xvdba}); the root's ({@code sda}, {@code xvda}) is not one.
   */
  public static final Pattern EBS_DEVICE = Pattern.compile("/dev/(sd|xvd)[b-z][a-z]?[1-9]?");

  private BlockDevices() {
  }

  /** Where a device resolved to, or why it did not. */
  public record Resolution(String device, Optional<Path> path, String why) {

    static Resolution found(String device, Path path) {
      return new Resolution(device, Optional.of(path), "");
    }

    static Resolution not(String device, String why) {
      return new Resolution(device, Optional.empty(), why);
    }
  }

  /** The device directory: {@link #DEVICE_DIR_ENV} when set, else EC2's {@code /dev}. */
  public static Path deviceDir() {
    String configured = System.getenv(DEVICE_DIR_ENV);
    return configured == null || configured.isBlank() ? EC2_DEVICE_DIR : Path.of(configured.trim());
  }

  /** The EBS device names the instance metadata lists ({@code /dev/sdf}, ...), in its order. */
  public static Future<List<String>> ebsDevices(InstanceMetadataClient imds) {
    return imds.get("meta-data/block-device-mapping").compose(listing -> {
      List<String> names = listing == null ? List.of()
          : listing.lines().map(String::trim).filter(n -> EBS.matcher(n).matches()).toList();
      List<Future<String>> devices = names.stream().map(n -> imds.get("meta-data/block-device-mapping/" + n)).toList();
      return Future.all(devices).map(all -> {
        List<String> found = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
          String device = all.resultAt(i);
          if (device != null && EBS_DEVICE.matcher(canonical(device.trim())).matches()) {
            found.add(canonical(device.trim()));
          }
        }
        return found;
      });
    });
  }

  /**
   * Where {@code device} ({@code /dev/sdf} or {@code sdf}) has its files, under {@code deviceDir}, with
   * {@code mounts} the mount table ({@code /proc/mounts}). Blocking (file reads).
   */
  public static Resolution resolve(Path deviceDir, String device, Path mounts) {
    String name = canonical(device);
    if (!EBS_DEVICE.matcher(name).matches()) {
      return Resolution.not(device, "'" + device + "' is not an EBS device name");
    }
    Path path = deviceDir.resolve(name.substring("/dev/".length()));
    if (!Files.exists(path)) {
      return Resolution.not(name, path + " does not exist (the volume is not attached yet)");
    }
    if (Files.isDirectory(path)) {
      return Resolution.found(name, path);
    }
    try {
      Path real = path.toRealPath();
      for (String line : Files.readAllLines(mounts)) {
        String[] fields = line.split(" ");
        if (fields.length >= 2 && (fields[0].equals(path.toString()) || fields[0].equals(real.toString()))) {
          return Resolution.found(name, Path.of(unescape(fields[1])));
        }
      }
    } catch (IOException e) {
      return Resolution.not(name, "cannot read " + mounts + " or " + path + ": " + e.getMessage());
    }
    return Resolution.not(name, path + " is attached but not mounted");
  }

  /** {@code /dev/sdf} for {@code sdf} or {@code /dev/sdf}. */
  static String canonical(String device) {
    return device.startsWith("/dev/") ? device : "/dev/" + device;
  }

  /** /proc/mounts writes a space in a path as {@code \040}. */
  private static String unescape(String field) {
    return field.replace("\\040", " ").replace("\\011", "\t").replace("\\134", "\\");
  }
}
