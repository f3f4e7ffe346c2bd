package io.fleetvote.sandbox;

import io.fleetvote.common.imds.BlockDevices;
import io.fleetvote.sandbox.capacity.CpuQuota;
import io.fleetvote.sandbox.capacity.InstanceTypes;
import io.fleetvote.sandbox.identity.IdentitySigner;
import io.fleetvote.sandbox.imds.MetadataServers;
import io.fleetvote.sandbox.process.ProcessSpec;
import io.fleetvote.sandbox.process.ProcessSupervisor;
import io.fleetvote.sandbox.process.RunningProcess;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * What runs behind the sandbox's instances: an instance's metadata endpoint, its cgroups with its type's CPU quota,
 * and the processes its image names, booted in order and stopped in reverse; processes that outlived a sandbox are
 * adopted again. Every move it finishes goes back to {@link CloudState} and is saved. Runs on the sandbox verticle's
 * event loop; process and cgroup work happens on worker threads.
 */
final class InstanceRuntime {

  private static final Logger LOG = LoggerFactory.getLogger(InstanceRuntime.class);
  private static final int GROUP_REMOVAL_ATTEMPTS = 40;
  private static final long GROUP_REMOVAL_RETRY_MILLIS = 50;

  private final Vertx vertx;
  private final SandboxOptions options;
  private final ImageCatalog images;
  private final CloudState state;
  private final CpuQuota quota;
  private final Clock clock;
  private final Runnable save;
  private final ProcessSupervisor processes;
  private final MetadataServers metadata;

  /** @param save writes the cloud's state (after every change this makes) */
  InstanceRuntime(Vertx vertx, SandboxOptions options, ImageCatalog images, CloudState state, CpuQuota quota,
                  IdentitySigner signer, Clock clock, Runnable save) {
    this.vertx = vertx;
    this.options = options;
    this.images = images;
    this.state = state;
    this.quota = quota;
    this.clock = clock;
    this.save = save;
    this.processes = new ProcessSupervisor(vertx);
    this.metadata = new MetadataServers(vertx, state::find, id -> state.volumes().attachedTo(id), options.region(),
        ImageCatalog.OWNER_ID, signer);
  }

  /** Boots the instance after whatever it is doing now (after {@code delayMillis}): endpoint, cgroups, processes. */
  void boot(Instance instance, long delayMillis) {
    instance.activity(instance.activity().transform(x -> booting(instance, delayMillis)));
  }

  /**
   * Stops the instance after whatever it is doing now, then moves it to {@code end}, unless a later call moved it on
   * meanwhile (terminated while it was stopping: that move ends it). A forced stop kills its processes with SIGKILL.
   */
  void halt(Instance instance, InstanceState end) {
    InstanceState passing = instance.state();
    boolean force = instance.stopForced();
    if (force && !instance.activity().isComplete()) {
      // Not after the stop under way (its processes may take minutes to heed SIGTERM) or the boot: SIGKILL now.
      List<RunningProcess> alive = instance.processes().stream().filter(p -> !p.exited()).toList();
      LOG.info("instance {}: forced stop: SIGKILL to {} now", instance.id(), named(alive));
      processes.killAll(alive);
    }
    instance.activity(instance.activity()
        .transform(x -> stopProcessesAndMetadata(instance, force))
        .transform(x -> {
          if (instance.state() == passing) {
            finishMove(instance, end);
          }
          return Future.succeededFuture();
        }));
  }

  /** Kills these processes with SIGKILL, as a crash would. */
  Future<Void> kill(Instance instance, List<RunningProcess> alive) {
    LOG.warn("instance {}: killing {} with SIGKILL (fault injection)", instance.id(), named(alive));
    return processes.killAll(alive).onComplete(x -> {
      alive.forEach(p -> p.markExited(clock.millis()));
      save.run();
    });
  }

  /** The names of the processes the instance's image runs, in start order. */
  List<String> processNames(Instance instance) {
    return images.find(instance.imageId()).map(image -> image.processes().stream().map(ProcessSpec::name).toList())
        .orElseGet(() -> instance.processes().stream().map(RunningProcess::name).distinct().toList());
  }

  /** Records the processes of running instances that exited on their own; whether any did. */
  boolean noticeExits(Collection<Instance> instances) {
    boolean changed = false;
    long now = clock.millis();
    for (Instance instance : instances) {
      if (instance.state() == InstanceState.RUNNING) {
        for (RunningProcess process : instance.processes()) {
          if (!process.exited() && processes.exitNoticed(process)) {
            process.markExited(now);
            changed = true;
            LOG.warn("instance {}: process {} (pid {}) exited on its own", instance.id(), process.name(), process.pid());
          }
        }
      }
    }
    return changed;
  }

  /** The local facts behind an instance, for the admin API: its processes (alive or not), cgroups, directory. */
  JsonObject localView(Instance instance) {
    JsonArray procs = new JsonArray();
    for (RunningProcess process : instance.processes()) {
      procs.add(process.toJson().put("alive", processes.alive(process)));
    }
    return new JsonObject()
        .put("cgroups", new JsonArray(quota.groups(instance.id()).stream().map(Path::toString).toList()))
        .put("metadataEndpoint", instance.imdsPort() == 0 ? null : "http://127.0.0.1:" + instance.imdsPort())
        .put("dir", instanceDir(instance).toString())
        .put("processes", procs);
  }

  /** Takes back one restored instance: adopts its live processes, finishes the move it was in. */
  Future<Void> adopt(Instance instance) {
    adoptFromPidFiles(instance);
    switch (instance.state()) {
      case PENDING -> {
        LOG.info("instance {} was booting when the sandbox stopped: booting it again", instance.id());
        List<RunningProcess> stale = List.copyOf(instance.processes());
        instance.activity(processes.killAll(stale).transform(x -> {
          instance.processes().clear();
          return Future.succeededFuture();
        }));
        boot(instance, 0);
      }
      case RUNNING -> {
        return metadata.open(instance.id(), instance.imdsPort())
            .onSuccess(port -> LOG.info("instance {} adopted: {} live process(es), metadata on port {}", instance.id(),
                instance.processes().stream().filter(processes::alive).count(), port))
            .onFailure(err -> LOG.error("instance {}: cannot reopen its metadata endpoint on port {}: {}",
                instance.id(), instance.imdsPort(), err.getMessage()))
            .mapEmpty();
      }
      case STOPPING -> halt(instance, InstanceState.STOPPED);
      case SHUTTING_DOWN -> halt(instance, InstanceState.TERMINATED);
      default -> {
      }
    }
    return Future.succeededFuture();
  }

  /**
   * Removes the empty cgroups of instances that are not {@code live} (a sandbox that died while one stopped leaves
   * them), and says which groups of no live instance still hold processes; and, without waiting, those of other
   * sandboxes that are gone.
   */
  Future<Void> removeAbandonedGroups(Set<String> live) {
    // Other sandboxes' leftovers in the background: thousands of groups take a while, and are no reason to wait.
    vertx.executeBlocking(quota::removeForsaken, false)
        .onSuccess(removed -> {
          if (!removed.isEmpty()) {
            LOG.info("removed the cgroups of {} sandbox(es) that are gone: {}", removed.size(), removed);
          }
        })
        .onFailure(err -> LOG.warn("cannot remove the cgroups of sandboxes that are gone: {}", err.getMessage()));
    return vertx.executeBlocking(() -> quota.removeAbandoned(live), false)
        .onSuccess(kept -> kept.forEach(group -> LOG.warn("cgroup {} belongs to no live instance but still holds "
            + "processes; left in place", group)))
        .<Void>mapEmpty()
        .recover(err -> {
          LOG.error("cannot clean up the instances' cgroups: {}", err.getMessage());
          return Future.succeededFuture();
        });
  }

  /** Closes the instances' metadata endpoints; then, once {@code flushed}, the cgroups' base if it is empty. */
  Future<Void> close(Collection<String> instanceIds, Function<Void, Future<Void>> flushed) {
    List<Future<Void>> closing = new ArrayList<>();
    instanceIds.forEach(id -> closing.add(metadata.close(id)));
    return Future.join(closing).transform(x -> flushed.apply(null))
        .transform(x -> vertx.<Void>executeBlocking(() -> {
          quota.removeBasesIfEmpty();
          return null;
        }, false))
        .recover(err -> {
          LOG.error("cannot remove the sandbox's cgroup base: {}", err.getMessage());
          return Future.succeededFuture();
        });
  }

  private Future<Void> booting(Instance instance, long delayMillis) {
    Optional<Image> image = images.find(instance.imageId());
    if (image.isEmpty()) {
      return failBoot(instance, "image " + instance.imageId() + " is no longer registered");
    }
    Future<Void> delay = delayMillis > 0 ? vertx.timer(delayMillis).mapEmpty() : Future.succeededFuture();
    return delay
        .compose(x -> !pending(instance) ? Future.succeededFuture() : openMetadata(instance).map(port -> {
          instance.imdsPort(port);
          return null;
        }))
        .compose(x -> pending(instance) ? createGroups(instance) : Future.succeededFuture(List.<Path>of()))
        .compose(groups -> spawnFrom(instance, image.get(), 0, groups))
        .compose(x -> {
          if (pending(instance)) {
            instance.moveTo(InstanceState.RUNNING, clock.instant(), null);
            save.run();
            LOG.info("instance {} running: {} process(es), metadata on port {}", instance.id(),
                instance.processes().size(), instance.imdsPort());
          }
          return Future.<Void>succeededFuture();
        })
        .recover(err -> failBoot(instance, err.getMessage()));
  }

  /**
   * The metadata endpoint of a booting instance, on the port it had if it had one. The processes it boots are told the
   * port when they start, so a stopped instance whose port was taken meanwhile may as well get another.
   */
  private Future<Integer> openMetadata(Instance instance) {
    int before = instance.imdsPort();
    return metadata.open(instance.id(), before).recover(err -> {
      if (before == 0) {
        return Future.failedFuture(err);
      }
      LOG.warn("instance {}: cannot open its metadata endpoint on port {} again ({}): on another port",
          instance.id(), before, err.getMessage());
      return metadata.open(instance.id(), 0);
    });
  }

  /** The instance's cgroups with its type's quota, for the processes within its capacity; none when not enforced. */
  private Future<List<Path>> createGroups(Instance instance) {
    if (!quota.enforced()) {
      return Future.succeededFuture(List.of());
    }
    return vertx.executeBlocking(() -> quota.create(instance.id(), CloudState.vcpus(instance)), false);
  }

  private Future<Void> spawnFrom(Instance instance, Image image, int index, List<Path> groups) {
    if (index >= image.processes().size() || !pending(instance)) {
      return Future.succeededFuture();
    }
    ProcessSpec spec = image.processes().get(index);
    Map<String, String> variables = variables(instance);
    List<String> command = spec.command().stream().map(t -> ImageCatalog.expand(t, variables)).toList();
    Map<String, String> env = new LinkedHashMap<>();
    env.put("PATH", System.getenv().getOrDefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
    env.put("LANG", "C.UTF-8");
    env.put("HOME", instanceDir(instance).toString());
    env.put("JAVA_HOME", System.getProperty("java.home"));
    env.put("AWS_EC2_METADATA_SERVICE_ENDPOINT", variables.get("imds"));
    env.put(BlockDevices.DEVICE_DIR_ENV, deviceDir(instance.id()).toString());
    spec.env().forEach((key, value) -> env.put(key, ImageCatalog.expand(value, variables)));
    List<Path> joined = spec.withinCapacity() ? groups : List.of();
    return processes.spawn(instanceDir(instance), spec.name(), command, env, joined).compose(process -> {
      instance.processes().add(process);
      save.run();
      LOG.info("instance {}: started {} (pid {}){}", instance.id(), spec.name(), process.pid(),
          joined.isEmpty() ? "" : " within its " + InstanceTypes.format(CloudState.vcpus(instance)) + " vCPU");
      return spawnFrom(instance, image, index + 1, groups);
    });
  }

  private Future<Void> failBoot(Instance instance, String why) {
    if (!pending(instance)) {
      return Future.succeededFuture();
    }
    LOG.error("instance {} failed to boot: {}", instance.id(), why);
    instance.moveTo(InstanceState.SHUTTING_DOWN, clock.instant(), "Server.InternalError: " + why);
    save.run();
    return stopProcessesAndMetadata(instance, false).transform(x -> {
      finishMove(instance, InstanceState.TERMINATED);
      return Future.succeededFuture();
    });
  }

  /** Stops the processes (in reverse start order, or all at once with SIGKILL when forced), then the metadata. */
  private Future<Void> stopProcessesAndMetadata(Instance instance, boolean force) {
    List<RunningProcess> running = new ArrayList<>(instance.processes().stream().filter(p -> !p.exited()).toList());
    Collections.reverse(running);
    Map<String, Long> graces = new HashMap<>();
    images.find(instance.imageId()).ifPresent(image ->
        image.processes().forEach(spec -> graces.put(spec.name(), spec.stopTimeoutMillis())));
    List<Long> grace = running.stream().map(p -> graces.getOrDefault(p.name(), 10_000L)).toList();
    return (force ? processes.killAll(running) : processes.stop(running, grace))
        .onComplete(x -> running.forEach(p -> {
          if (!processes.alive(p)) {
            p.markExited(clock.millis());
          }
        }))
        .transform(x -> removeGroups(instance, GROUP_REMOVAL_ATTEMPTS))
        .transform(x -> metadata.close(instance.id()));
  }

  /**
   * Once the instance's processes are stopped: SIGKILL to whatever is still in its cgroups (an orphan that left the
   * process tree), then removes them, trying again while the kernel still counts a dying process in one.
   */
  private Future<Void> removeGroups(Instance instance, int attempts) {
    if (!quota.enforced()) {
      return Future.succeededFuture();
    }
    return vertx.executeBlocking(() -> {
      List<Long> stragglers = quota.killStragglers(instance.id());
      if (!stragglers.isEmpty()) {
        LOG.warn("instance {}: SIGKILL to {} left in its cgroups after its processes stopped", instance.id(),
            stragglers);
      }
      return quota.tryRemove(instance.id());
    }, false).compose(removed -> {
      if (removed) {
        return Future.<Void>succeededFuture();
      }
      if (attempts <= 1) {
        LOG.error("instance {}: its cgroups {} are still busy; left in place", instance.id(),
            quota.groups(instance.id()));
        return Future.<Void>succeededFuture();
      }
      return vertx.timer(GROUP_REMOVAL_RETRY_MILLIS).compose(t -> removeGroups(instance, attempts - 1));
    }, err -> {
      LOG.error("instance {}: cannot remove its cgroups: {}", instance.id(), err.getMessage());
      return Future.succeededFuture();
    });
  }

  private void finishMove(Instance instance, InstanceState end) {
    state.finished(instance, end);
    save.run();
    LOG.info("instance {} {}", instance.id(), end.ec2Name());
  }

  private void adoptFromPidFiles(Instance instance) {
    images.find(instance.imageId()).ifPresent(image -> image.processes().forEach(spec ->
        ProcessSupervisor.fromPidFile(instanceDir(instance), spec.name()).ifPresent(fromFile -> {
          boolean known = instance.processes().stream().anyMatch(p -> p.pid() == fromFile.pid()
              && p.startedAtMillis() == fromFile.startedAtMillis());
          if (!known && instance.state() != InstanceState.TERMINATED && instance.state() != InstanceState.STOPPED) {
            LOG.info("instance {}: found {} (pid {}) through its pid file", instance.id(), spec.name(), fromFile.pid());
            instance.processes().add(fromFile);
          }
        })));
  }

  private static List<String> named(List<RunningProcess> processes) {
    return processes.stream().map(p -> p.name() + " (pid " + p.pid() + ")").toList();
  }

  private static boolean pending(Instance instance) {
    return instance.state() == InstanceState.PENDING;
  }

  private Map<String, String> variables(Instance instance) {
    Map<String, String> variables = new HashMap<>();
    variables.put("java", options.java());
    variables.put("home", options.home().toString());
    variables.put("instance.id", instance.id());
    variables.put("instance.dir", instanceDir(instance).toString());
    variables.put("instance.vcpus", InstanceTypes.format(CloudState.vcpus(instance)));
    variables.put("private-ip", instance.privateIp());
    variables.put("imds", "http://127.0.0.1:" + instance.imdsPort());
    instance.ports().forEach((name, port) -> variables.put("port." + name, Integer.toString(port)));
    return variables;
  }

  /**
   * Where the instance's processes find its block devices: {@code /dev} on EC2, here a directory of the instance's
   * in which an attached volume is a link named as its device ({@code sdf} for {@code /dev/sdf}) to the volume's
   * directory. The instance's processes are told it in {@link BlockDevices#DEVICE_DIR_ENV}.
   */
  Path deviceDir(String instanceId) {
    return options.stateDir().resolve("instances").resolve(instanceId).resolve("dev");
  }

  /** The link of a volume attached to the instance at {@code device} ({@code /dev/sdf}). */
  Path deviceLink(String instanceId, String device) {
    return deviceDir(instanceId).resolve(Path.of(device).getFileName().toString());
  }

  private Path instanceDir(Instance instance) {
    return options.stateDir().resolve("instances").resolve(instance.id());
  }
}
