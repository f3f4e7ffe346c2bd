package io.fleetvote.sandbox.capacity;

import io.fleetvote.common.cgroup.CgroupLayout;
import io.fleetvote.common.process.ProcessProbe;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Gives each instance the CPU of its type: a cgroup per instance with a CPU quota, which the instance's processes
 * join when they start (see {@link io.fleetvote.sandbox.process.ProcessSupervisor}). The layout is found at start
 * ({@code reference/overload-and-capacity.md} (d)): cgroup v2 when its hierarchy offers the {@code cpu} controller
 * ({@code cpu.max}), else the v1 {@code cpu} hierarchy ({@code cpu.cfs_quota_us}) with the v1 {@code cpuacct} one for
 * the accounting, else none, and then the sandbox runs without quotas and says why.
 * <p>
 * The groups live under a base of this sandbox's own, {@code fleetvote-sandbox-<hash of the state dir>}, below the
 * sandbox's own group in each hierarchy, one child per instance id. Nothing outside that base is written, except
 * {@code +cpu} in the sandbox's own group's {@code cgroup.subtree_control} on v2 when the controller is not enabled
 * there yet. The methods do file I/O: call them off the event loop.
 */
public final class CpuQuota {

  /**
   * The CFS period: 20 ms rather than the kernel's 100 ms. A 0.25 vCPU instance may run 5 ms of each period, then
   * waits for the next one; with 100 ms it would run 25 ms and then stall for 75 ms, and a request that lands in the
   * stall waits that long although the instance is far from busy.
   */
  public static final long PERIOD_MICROS = 20_000;
  /** Begins the base's names. */
  private static final String BASE_PREFIX = "fleetvote-sandbox-";
  /**
   * Begins the name of the empty group in a base that says which process owns it: {@code owner-PID-STARTMILLIS}. A
   * sandbox killed with SIGKILL leaves its base behind, a benchmark's 5,000 groups each time; v1 sets every quota
   * after a walk over all groups, so a machine that had collected 30,000 of them booted instances a hundred times
   * slower. A sandbox removes, at start, the bases whose owner is gone.
   */
  private static final String OWNER_PREFIX = "owner-";
  /** A base without an owner's group (a sandbox that died while creating it) is left alone this long. */
  private static final Duration UNCLAIMED_GRACE = Duration.ofMinutes(10);
  /** The kernel refuses quotas below 1 ms. */
  private static final long MIN_QUOTA_MICROS = 1_000;

  /** How the quota is set. */
  public enum Layout {
    V1, V2, NONE
  }

  private final Layout layout;
  /** The bases the processes join: the quota's hierarchy first, then the v1 cpuacct one when it is apart. */
  private final List<Path> bases;
  private final String why;

  private CpuQuota(Layout layout, List<Path> bases, String why) {
    this.layout = layout;
    this.bases = List.copyOf(bases);
    this.why = why;
  }

  /** Finds the layout under {@code root} ({@code /} on a real machine) and prepares this sandbox's base groups. */
  public static CpuQuota detect(Path root, Path stateDir) {
    String base = baseName(stateDir);
    CgroupLayout cgroups;
    CgroupLayout.Membership self;
    try {
      cgroups = CgroupLayout.read(root);
      self = cgroups.membershipOf("self");
    } catch (IOException e) {
      return none("the cgroup layout cannot be read (" + reason(e) + ")");
    }
    Optional<CgroupLayout.Group> unified = self.v2();
    List<String> v2Controllers = unified.map(g -> controllers(g.dir())).orElse(List.of());
    if (v2Controllers.contains("cpu")) {
      return v2(unified.get().dir(), base);
    }
    Optional<CgroupLayout.Group> cpu = self.v1("cpu");
    if (cpu.isPresent()) {
      return v1(cpu.get().dir(), self.v1("cpuacct").map(CgroupLayout.Group::dir), base);
    }
    return none("no cpu controller: " + unified.map(g -> "cgroup v2 at " + g.dir() + " offers only " + v2Controllers)
        .orElse("cgroup v2 is not mounted") + " and no cgroup v1 cpu hierarchy is mounted");
  }

  /** The base's name: one per state dir, so two sandboxes on one host keep apart. */
  static String baseName(Path stateDir) {
    return BASE_PREFIX + shortHash(stateDir.toAbsolutePath().normalize().toString());
  }

  private static CpuQuota v2(Path own, String name) {
    Path base = own.resolve(name);
    try {
      enableCpu(own);
      Files.createDirectories(base);
      enableCpu(base);
      write(base.resolve("cpu.max"), "max");
      claim(base);
    } catch (IOException e) {
      String hint = reason(e).contains("busy") ? "; cgroup v2 enables a controller only for a group without "
          + "processes of its own: run the sandbox in a delegated unit (systemd-run --scope -p Delegate=yes)" : "";
      return none("cgroup v2 under " + own + " refuses the cpu controller (" + reason(e) + hint + ")");
    }
    return new CpuQuota(Layout.V2, List.of(base), "cgroup v2 cpu.max in " + base);
  }

  private static CpuQuota v1(Path cpu, Optional<Path> cpuacct, String name) {
    List<Path> bases = new ArrayList<>(List.of(cpu.resolve(name)));
    cpuacct.filter(acct -> !acct.equals(cpu)).ifPresent(acct -> bases.add(acct.resolve(name)));
    try {
      for (Path base : bases) {
        Files.createDirectories(base);
      }
      // The base itself stays unlimited: writing that proves the quota files can be written.
      write(bases.get(0).resolve("cpu.cfs_quota_us"), "-1");
      claim(bases.get(0));
    } catch (IOException e) {
      return none("cgroup v1 under " + cpu + " cannot be written (" + reason(e) + ")");
    }
    return new CpuQuota(Layout.V1, bases, "cgroup v1 cpu.cfs_quota_us in " + bases.get(0)
        + (bases.size() > 1 ? ", accounting in " + bases.get(1) : ""));
  }

  private static CpuQuota none(String why) {
    return new CpuQuota(Layout.NONE, List.of(), why);
  }

  public boolean enforced() {
    return layout != Layout.NONE;
  }

  public Layout layout() {
    return layout;
  }

  /** How the quota is set, or why it cannot be. */
  public String why() {
    return why;
  }

  /** The groups of an instance, the quota's first; none when quotas are not enforced. */
  public List<Path> groups(String instanceId) {
    return bases.stream().map(base -> base.resolve(instanceId)).toList();
  }

  /** Creates the instance's groups (or takes the existing ones) with a quota of {@code vcpus}; returns them. */
  public List<Path> create(String instanceId, double vcpus) throws IOException {
    List<Path> groups = groups(instanceId);
    long quota = quotaMicros(vcpus);
    try {
      for (Path group : groups) {
        Files.createDirectories(group);
      }
      if (layout == Layout.V2) {
        write(groups.get(0).resolve("cpu.max"), quota + " " + PERIOD_MICROS);
      } else {
        write(groups.get(0).resolve("cpu.cfs_period_us"), Long.toString(PERIOD_MICROS));
        write(groups.get(0).resolve("cpu.cfs_quota_us"), Long.toString(quota));
      }
    } catch (IOException e) {
      throw new IOException("cannot give " + instanceId + " its CPU quota in " + groups.get(0) + " (" + reason(e) + ")",
          e);
    }
    return groups;
  }

  /** The quota of {@code vcpus} per {@link #PERIOD_MICROS}. */
  public static long quotaMicros(double vcpus) {
    return Math.max(MIN_QUOTA_MICROS, Math.round(vcpus * PERIOD_MICROS));
  }

  /**
   * SIGKILL to every process still in the instance's groups once its own processes are stopped: an orphan that left
   * the process tree (a double fork) is still in the group. Returns their pids.
   */
  public List<Long> killStragglers(String instanceId) throws IOException {
    List<Long> pids = new ArrayList<>();
    for (Path group : groups(instanceId)) {
      for (long pid : processes(group)) {
        if (!pids.contains(pid)) {
          pids.add(pid);
          ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
      }
    }
    return pids;
  }

  /** Removes the instance's groups; false while one is busy (a killed process not gone yet). */
  public boolean tryRemove(String instanceId) throws IOException {
    boolean removed = true;
    for (Path group : groups(instanceId)) {
      removed &= remove(group);
    }
    return removed;
  }

  /**
   * At start: removes the empty groups under the bases that belong to no live instance (left by a sandbox that died
   * while one stopped). Returns those kept because processes are still in them.
   */
  public List<Path> removeAbandoned(Set<String> live) throws IOException {
    List<Path> kept = new ArrayList<>();
    for (Path base : bases) {
      for (Path group : children(base)) {
        if (live.contains(group.getFileName().toString())) {
          continue;
        }
        if (!processes(group).isEmpty() || !remove(group)) {
          kept.add(group);
        }
      }
    }
    return kept;
  }

  /** When the sandbox stops: removes the bases that hold no instance's group. */
  public void removeBasesIfEmpty() throws IOException {
    for (Path base : bases) {
      if (Files.isDirectory(base) && children(base).isEmpty()) {
        for (Path owner : owners(base)) {
          remove(owner);
        }
        remove(base);
      }
    }
  }

  /**
   * At start, off the event loop: removes the bases of other sandboxes that are gone (their owner's process is not
   * running, or they never said who owns them and are older than {@link #UNCLAIMED_GRACE}) and hold no process, with
   * all their groups. Returns the bases removed.
   */
  public List<Path> removeForsaken() throws IOException {
    List<Path> removed = new ArrayList<>();
    if (bases.isEmpty()) {
      return removed;
    }
    String own = bases.get(0).getFileName().toString();
    Set<String> names = new TreeSet<>();
    for (Path base : bases) {
      try (Stream<Path> siblings = Files.list(base.getParent())) {
        siblings.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(BASE_PREFIX) && !n.equals(own))
            .forEach(names::add);
      }
    }
    for (String name : names) {
      List<Path> dirs = bases.stream().map(b -> b.resolveSibling(name)).filter(Files::isDirectory).toList();
      if (!dirs.isEmpty() && forsaken(dirs.get(0)) && removeIfIdle(dirs)) {
        removed.add(dirs.get(0));
      }
    }
    return removed;
  }

  private static boolean forsaken(Path base) throws IOException {
    List<Path> owners = owners(base);
    if (owners.isEmpty()) {
      return Files.getLastModifiedTime(base).toInstant().isBefore(Instant.now().minus(UNCLAIMED_GRACE));
    }
    for (Path owner : owners) {
      String[] parts = owner.getFileName().toString().substring(OWNER_PREFIX.length()).split("-");
      try {
        if (parts.length == 2 && ProcessProbe.alive(Long.parseLong(parts[0]), Long.parseLong(parts[1]))) {
          return false;
        }
      } catch (NumberFormatException e) {
        // Not a name this class writes: it proves no owner alive.
      }
    }
    return true;
  }

  /** Removes a base in each hierarchy, groups first, unless a process is in one. */
  private static boolean removeIfIdle(List<Path> all) throws IOException {
    for (Path b : all) {
      for (Path group : children(b)) {
        if (!processes(group).isEmpty()) {
          return false;
        }
      }
    }
    for (Path b : all) {
      for (Path group : children(b)) {
        remove(group);
      }
      for (Path owner : owners(b)) {
        remove(owner);
      }
      if (!remove(b)) {
        return false;
      }
    }
    return true;
  }

  /** Says in the base which process owns it now: this one. */
  private static void claim(Path base) throws IOException {
    for (Path owner : owners(base)) {
      remove(owner);
    }
    ProcessHandle self = ProcessHandle.current();
    long started = self.info().startInstant().map(Instant::toEpochMilli).orElse(System.currentTimeMillis());
    Files.createDirectories(base.resolve(OWNER_PREFIX + self.pid() + "-" + started));
  }

  private static List<Path> owners(Path base) throws IOException {
    try (Stream<Path> entries = Files.list(base)) {
      return entries.filter(p -> p.getFileName().toString().startsWith(OWNER_PREFIX) && Files.isDirectory(p)).toList();
    }
  }

  /** What {@code GET /_sandbox/capacity} shows of it. */
  public JsonObject toJson() {
    return new JsonObject().put("enforced", enforced()).put("layout", layout.name().toLowerCase(Locale.ROOT))
        .put("why", why).put("periodMicros", PERIOD_MICROS)
        .put("bases", new JsonArray(bases.stream().map(Path::toString).toList()));
  }

  private static void enableCpu(Path group) throws IOException {
    Path control = group.resolve("cgroup.subtree_control");
    if (!List.of(Files.readString(control).trim().split(" ")).contains("cpu")) {
      write(control, "+cpu");
    }
  }

  private static List<String> controllers(Path group) {
    try {
      return List.of(Files.readString(group.resolve("cgroup.controllers")).trim().split(" "));
    } catch (IOException e) {
      return List.of();
    }
  }

  private static List<Long> processes(Path group) throws IOException {
    try {
      return Files.readAllLines(group.resolve("cgroup.procs")).stream().map(String::trim).filter(l -> !l.isEmpty())
          .map(Long::parseLong).toList();
    } catch (NoSuchFileException e) {
      return List.of();
    }
  }

  private static List<Path> children(Path base) throws IOException {
    if (!Files.isDirectory(base)) {
      return List.of();
    }
    try (Stream<Path> entries = Files.list(base)) {
      return entries.filter(p -> Files.isDirectory(p) && !p.getFileName().toString().startsWith(OWNER_PREFIX))
          .toList();
    }
  }

  /** rmdir: a group's control files go with it. False while the group is busy. */
  private static boolean remove(Path group) throws IOException {
    try {
      Files.deleteIfExists(group);
      return true;
    } catch (FileSystemException e) {
      if (reason(e).contains("busy")) {
        return false;
      }
      throw e;
    }
  }

  /** Writes a control file; the kernel's refusal comes from write(2), which the JDK reports without the file. */
  private static void write(Path file, String value) throws IOException {
    try {
      Files.writeString(file, value, StandardCharsets.US_ASCII);
    } catch (FileSystemException e) {
      throw e;
    } catch (IOException e) {
      throw new FileSystemException(file.toString(), null, e.getMessage());
    }
  }

  /** The system's words for a failed file operation: "Device or resource busy", "Read-only file system", ... */
  private static String reason(IOException e) {
    if (e instanceof FileSystemException fs && fs.getReason() != null) {
      return fs.getFile() + ": " + fs.getReason();
    }
    return e.toString();
  }

  private static String shortHash(String text) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest).substring(0, 10);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
