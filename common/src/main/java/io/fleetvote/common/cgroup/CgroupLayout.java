package io.fleetvote.common.cgroup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The cgroup hierarchies mounted here, from {@code /proc/self/mountinfo}, and where a process sits in them, from
 * {@code /proc/<pid>/cgroup}. The sandbox uses it to put an instance's processes under a CPU quota, the agent to
 * read that quota and the instance's CPU usage back ({@code reference/overload-and-capacity.md} (d)). Everything is
 * read under a root directory: {@code /} on a real machine, a fake tree in tests.
 */
public final class CgroupLayout {

  private static final Pattern OCTAL_ESCAPE = Pattern.compile("\\\\([0-7]{3})");

  /**
   * One mounted hierarchy.
   *
   * @param mountPoint where it is mounted (under the layout's root)
   * @param root       the group of the hierarchy that the mount shows at its mount point ({@code /}, or the
   *                   container's own group when the host bind-mounted only that)
   * @param v2         cgroup v2; else v1, with its controllers among {@code options}
   * @param options    the super options: for v1 its controllers ({@code cpu}, {@code cpuacct}) and names
   */
  public record Hierarchy(Path mountPoint, String root, boolean v2, Set<String> options) {

    public Hierarchy {
      options = Set.copyOf(options);
    }

    /** The directory of the group at {@code path} (as {@code /proc/<pid>/cgroup} names it), if this mount shows it. */
    public Optional<Path> dirOf(String path) {
      if (root.equals("/")) {
        return Optional.of(mountPoint.resolve(path.substring(1)));
      }
      if (path.equals(root)) {
        return Optional.of(mountPoint);
      }
      return path.startsWith(root + "/") ? Optional.of(mountPoint.resolve(path.substring(root.length() + 1)))
          : Optional.empty();
    }
  }

  /**
   * A group a process belongs to.
   *
   * @param hierarchy the hierarchy it is in
   * @param path      its path in the hierarchy, {@code /} for the root group
   * @param dir       its directory, where its control files are
   */
  public record Group(Hierarchy hierarchy, String path, Path dir) {

    public boolean isRoot() {
      return path.equals("/");
    }
  }

  /** The groups of one process, one per hierarchy that is mounted here. */
  public record Membership(List<Group> groups) {

    public Membership {
      groups = List.copyOf(groups);
    }

    /** Its group in the v1 hierarchy that holds {@code controller} (e.g. {@code cpu}). */
    public Optional<Group> v1(String controller) {
      return groups.stream().filter(g -> !g.hierarchy().v2() && g.hierarchy().options().contains(controller))
          .findFirst();
    }

    /** Its group in the v2 hierarchy. */
    public Optional<Group> v2() {
      return groups.stream().filter(g -> g.hierarchy().v2()).findFirst();
    }
  }

  private final Path root;
  private final List<Hierarchy> hierarchies;

  private CgroupLayout(Path root, List<Hierarchy> hierarchies) {
    this.root = root;
    this.hierarchies = List.copyOf(hierarchies);
  }

  /** Reads {@code ROOT/proc/self/mountinfo}. */
  public static CgroupLayout read(Path root) throws IOException {
    return parse(Files.readString(root.resolve("proc/self/mountinfo")), root);
  }

  /**
   * The cgroup mounts of a mountinfo text: each line is {@code ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS
   * [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTIONS}; spaces in paths are written {@code \040}.
   */
  public static CgroupLayout parse(String mountinfo, Path root) {
    List<Hierarchy> found = new ArrayList<>();
    for (String line : mountinfo.split("\n")) {
      int separator = line.indexOf(" - ");
      if (separator < 0) {
        continue;
      }
      String[] mount = line.substring(0, separator).split(" ");
      String[] filesystem = line.substring(separator + 3).split(" ");
      if (mount.length < 5 || filesystem.length < 3
          || !(filesystem[0].equals("cgroup") || filesystem[0].equals("cgroup2"))) {
        continue;
      }
      Path mountPoint = root.resolve(unescape(mount[4]).substring(1));
      found.add(new Hierarchy(mountPoint, unescape(mount[3]), filesystem[0].equals("cgroup2"),
          Set.of(filesystem[2].split(","))));
    }
    return new CgroupLayout(root, found);
  }

  public List<Hierarchy> hierarchies() {
    return hierarchies;
  }

  /** Where the process {@code pid} (a number, or {@code self}) sits: reads {@code ROOT/proc/PID/cgroup}. */
  public Membership membershipOf(String pid) throws IOException {
    return membership(Files.readString(root.resolve("proc").resolve(pid).resolve("cgroup")));
  }

  /**
   * The groups of a {@code /proc/<pid>/cgroup} text: lines {@code ID:CONTROLLERS:PATH}, where v2's line is
   * {@code 0::PATH}. A line whose hierarchy is not mounted here, or whose group the mount does not show, is left out.
   */
  public Membership membership(String procCgroup) {
    List<Group> groups = new ArrayList<>();
    for (String line : procCgroup.split("\n")) {
      String[] fields = line.split(":", 3);
      if (fields.length < 3 || !fields[2].startsWith("/")) {
        continue;
      }
      boolean v2 = fields[0].equals("0") && fields[1].isEmpty();
      List<String> controllers = Arrays.asList(fields[1].split(","));
      String path = fields[2];
      hierarchies.stream()
          .filter(h -> v2 ? h.v2() : !h.v2() && h.options().containsAll(controllers))
          .flatMap(h -> h.dirOf(path).map(dir -> new Group(h, path, dir)).stream())
          .findFirst()
          .ifPresent(groups::add);
    }
    return new Membership(groups);
  }

  private static String unescape(String field) {
    Matcher m = OCTAL_ESCAPE.matcher(field);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      m.appendReplacement(out, Matcher.quoteReplacement(String.valueOf((char) Integer.parseInt(m.group(1), 8))));
    }
    m.appendTail(out);
    return out.toString();
  }
}
