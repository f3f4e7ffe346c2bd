package io.fleetvote.sandbox;

import io.fleetvote.common.net.FreePorts;
import io.fleetvote.sandbox.capacity.CpuQuota;
import io.fleetvote.sandbox.capacity.InstanceTypes;
import io.fleetvote.sandbox.capacity.InstanceTypes.InstanceType;
import io.fleetvote.sandbox.ec2.Ec2Exception;
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
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The sandbox cloud: instances, reservations and client tokens, their lifecycle, and the faults to inject.
 * Every method runs on the sandbox verticle's event loop, so the state needs no locks; process work happens
 * on worker threads through {@link ProcessSupervisor}. Every change is saved through {@link StateStore}.
 */
public final class Cloud {

  private static final Logger LOG = LoggerFactory.getLogger(Cloud.class);
  private static final int MAX_TAGS = 50;
  /** Slack for sums of vCPU fractions given on the command line (the types' own are exact in binary). */
  private static final double EPSILON = 1e-9;
  private static final int GROUP_REMOVAL_ATTEMPTS = 40;
  private static final long GROUP_REMOVAL_RETRY_MILLIS = 50;
  private static final DateTimeFormatter REASON_TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'GMT'").withZone(ZoneOffset.UTC);

  /** A validated RunInstances call. */
  public record LaunchRequest(String imageId, int minCount, int maxCount, InstanceType instanceType, String userData,
                              Map<String, String> tags, String availabilityZone, String keyName, String subnetId,
                              List<String> securityGroupIds, String clientToken, String fingerprint) {
  }

  /** One instance's move, as Terminate/Stop/StartInstances report it. */
  public record StateChange(String instanceId, InstanceState previous, InstanceState current) {
  }

  private final Vertx vertx;
  private final SandboxOptions options;
  private final ImageCatalog images;
  private final StateStore store;
  private final ProcessSupervisor processes;
  private final MetadataServers metadata;
  private final CpuQuota quota;
  private final Clock clock;
  private final Map<String, Instance> instances = new LinkedHashMap<>();
  private final Map<String, Reservation> reservations = new LinkedHashMap<>();
  private final Map<String, Reservation> byToken = new HashMap<>();
  private final Set<Integer> allocatedPorts = new HashSet<>();
  private final Faults faults = new Faults();
  private final SecureRandom random = new SecureRandom();
  private final int hostCores = SandboxOptions.hostCores();
  private long nextSeq = 1;

  public Cloud(Vertx vertx, SandboxOptions options, ImageCatalog images, StateStore store, CpuQuota quota,
               Clock clock) {
    this.vertx = vertx;
    this.options = options;
    this.images = images;
    this.store = store;
    this.quota = quota;
    this.clock = clock;
    this.processes = new ProcessSupervisor(vertx);
    this.metadata = new MetadataServers(vertx, this::find, options.region(), ImageCatalog.OWNER_ID);
  }

  public ImageCatalog images() {
    return images;
  }

  public SandboxOptions options() {
    return options;
  }

  public Faults faults() {
    return faults;
  }

  // ---------------------------------------------------------------- RunInstances

  /** Launches instances (they boot in the background) or returns the reservation an earlier call with the token made. */
  public Reservation launch(LaunchRequest request) {
    if (request.clientToken() != null) {
      Reservation earlier = byToken.get(request.clientToken());
      if (earlier != null) {
        if (!earlier.fingerprint().equals(request.fingerprint())) {
          throw new Ec2Exception(400, "IdempotentParameterMismatch", "The client token '"
              + Ec2Exception.abbreviate(request.clientToken()) + "' was already used with different parameters.");
        }
        LOG.info("RunInstances with client token {} repeated: reservation {} again, nothing launched",
            request.clientToken(), earlier.id());
        return earlier;
      }
    }
    Image image = images.find(request.imageId()).orElseThrow(() -> new Ec2Exception(400, "InvalidAMIID.NotFound",
        "The image id '[" + request.imageId() + "]' does not exist"));
    String zone = request.availabilityZone() == null ? options.zones().get(0) : request.availabilityZone();
    if (!options.zones().contains(zone)) {
      throw Ec2Exception.invalidValue("Invalid availability zone: [" + Ec2Exception.abbreviate(zone) + "]");
    }
    InstanceType type = request.instanceType();
    int room = options.maxInstances() - (int) instances.values().stream()
        .filter(i -> i.state() != InstanceState.TERMINATED).count();
    if (faults.takeCapacityRefusal() || room < request.minCount()) {
      throw capacityRefusal(image.name() + " x" + request.minCount() + " (room for " + room + " instances)",
          "We currently do not have sufficient " + type.name() + " capacity in the Availability Zone you requested ("
              + zone + ").");
    }
    int count = Math.min(request.maxCount(), Math.min(room, vcpuRoom(type, request.minCount())));
    String reservationId = newId("r-", reservations.keySet());
    List<Instance> launched = new ArrayList<>();
    Instant now = clock.instant();
    for (int index = 0; index < count; index++) {
      Instance instance = new Instance(newId("i-", instances.keySet()), nextSeq++, image.id(), reservationId, index,
          type.name(), zone, "127.0.0.1", now, request.clientToken(), request.keyName(),
          request.subnetId(), request.securityGroupIds(), request.userData(), request.tags(), allocatePorts(image),
          faults.takeBootDelay());
      instances.put(instance.id(), instance);
      launched.add(instance);
    }
    Reservation reservation = new Reservation(reservationId, launched.stream().map(Instance::id).toList(),
        request.clientToken(), request.fingerprint());
    reservations.put(reservation.id(), reservation);
    if (request.clientToken() != null) {
      byToken.put(request.clientToken(), reservation);
    }
    save();
    for (Instance instance : launched) {
      LOG.info("instance {} launched from {} ({}), reservation {}", instance.id(), image.name(), image.id(), reservationId);
      boot(instance, instance.bootDelayMillis());
    }
    return reservation;
  }

  // ---------------------------------------------------------------- reads

  public Optional<Instance> find(String id) {
    return Optional.ofNullable(instances.get(id));
  }

  /** All describable instances in launch order. */
  public List<Instance> instances() {
    return List.copyOf(instances.values());
  }

  public Optional<Reservation> reservation(String id) {
    return Optional.ofNullable(reservations.get(id));
  }

  /** The instances with these ids, or InvalidInstanceID.NotFound naming every unknown one. */
  public List<Instance> require(List<String> ids) {
    List<String> missing = new ArrayList<>();
    List<Instance> found = new ArrayList<>();
    for (String id : new LinkedHashSet<>(ids)) {
      Instance instance = instances.get(id);
      if (instance == null) {
        missing.add(id);
      } else {
        found.add(instance);
      }
    }
    if (!missing.isEmpty()) {
      throw Ec2Exception.instancesNotFound(missing);
    }
    return found;
  }

  // ---------------------------------------------------------------- transitions

  public List<StateChange> terminate(List<String> ids) {
    List<StateChange> changes = new ArrayList<>();
    for (Instance instance : require(ids)) {
      InstanceState previous = instance.state();
      if (previous != InstanceState.TERMINATED && previous != InstanceState.SHUTTING_DOWN) {
        instance.moveTo(InstanceState.SHUTTING_DOWN, clock.instant(),
            "User initiated (" + REASON_TIME.format(clock.instant()) + ")");
        LOG.info("instance {} shutting down (was {})", instance.id(), previous.ec2Name());
        halt(instance, InstanceState.TERMINATED);
      }
      changes.add(new StateChange(instance.id(), previous, instance.state()));
    }
    save();
    return changes;
  }

  public List<StateChange> stop(List<String> ids) {
    List<Instance> targets = require(ids);
    for (Instance instance : targets) {
      if (instance.state() == InstanceState.SHUTTING_DOWN || instance.state() == InstanceState.TERMINATED) {
        throw incorrectState(instance, "stopped");
      }
    }
    List<StateChange> changes = new ArrayList<>();
    for (Instance instance : targets) {
      InstanceState previous = instance.state();
      if (previous == InstanceState.RUNNING || previous == InstanceState.PENDING) {
        instance.moveTo(InstanceState.STOPPING, clock.instant(),
            "User initiated (" + REASON_TIME.format(clock.instant()) + ")");
        LOG.info("instance {} stopping (was {})", instance.id(), previous.ec2Name());
        halt(instance, InstanceState.STOPPED);
      }
      changes.add(new StateChange(instance.id(), previous, instance.state()));
    }
    save();
    return changes;
  }

  public List<StateChange> start(List<String> ids) {
    List<Instance> targets = require(ids);
    for (Instance instance : targets) {
      InstanceState state = instance.state();
      if (state != InstanceState.STOPPED && state != InstanceState.PENDING && state != InstanceState.RUNNING) {
        throw incorrectState(instance, "started");
      }
    }
    double starting = targets.stream().filter(i -> i.state() == InstanceState.STOPPED).mapToDouble(Cloud::vcpus).sum();
    if (committedVcpus() + starting > options.maxVcpus() + EPSILON) {
      throw capacityRefusal("StartInstances " + targets.size() + " instance(s)", "Instances already have "
          + InstanceTypes.format(committedVcpus()) + " of the sandbox's " + InstanceTypes.format(options.maxVcpus())
          + " vCPUs (--max-vcpus); starting these asks for " + InstanceTypes.format(starting) + " more.");
    }
    List<StateChange> changes = new ArrayList<>();
    for (Instance instance : targets) {
      InstanceState previous = instance.state();
      if (previous == InstanceState.STOPPED) {
        instance.processes().clear();
        instance.moveTo(InstanceState.PENDING, clock.instant(), null);
        LOG.info("instance {} starting", instance.id());
        boot(instance, 0);
      }
      changes.add(new StateChange(instance.id(), previous, instance.state()));
    }
    save();
    return changes;
  }

  public void createTags(List<String> ids, Map<String, String> tags) {
    List<Instance> targets = require(ids);
    for (Instance instance : targets) {
      Set<String> keys = new HashSet<>(instance.tags().keySet());
      keys.addAll(tags.keySet());
      if (keys.size() > MAX_TAGS) {
        throw new Ec2Exception(400, "TagLimitExceeded",
            "The maximum number of tags (" + MAX_TAGS + ") for resource '" + instance.id() + "' has been reached.");
      }
    }
    targets.forEach(instance -> instance.tags().putAll(tags));
    save();
  }

  // ---------------------------------------------------------------- admin

  /** Kills the instance's processes with SIGKILL, as a crash would; EC2 keeps reporting it running. */
  public Future<Void> kill(String id) {
    Instance instance = require(List.of(id)).get(0);
    return kill(instance, instance.processes().stream().filter(p -> !p.exited()).toList());
  }

  /**
   * Kills one of the instance's processes and its descendants with SIGKILL, as a crash of that program would (the
   * app dies, its agent lives on); {@code name} is one of {@link #processNames}.
   */
  public Future<Void> kill(String id, String name) {
    Instance instance = require(List.of(id)).get(0);
    return kill(instance, instance.processes().stream().filter(p -> !p.exited() && p.name().equals(name)).toList());
  }

  private Future<Void> kill(Instance instance, List<RunningProcess> alive) {
    LOG.warn("instance {}: killing {} with SIGKILL (fault injection)", instance.id(),
        alive.stream().map(p -> p.name() + " (pid " + p.pid() + ")").toList());
    return processes.killAll(alive).onComplete(x -> {
      alive.forEach(p -> p.markExited(clock.millis()));
      save();
    });
  }

  /** The names of the processes the instance's image runs, in start order. */
  public List<String> processNames(String id) {
    Instance instance = require(List.of(id)).get(0);
    return images.find(instance.imageId()).map(image -> image.processes().stream().map(ProcessSpec::name).toList())
        .orElseGet(() -> instance.processes().stream().map(RunningProcess::name).distinct().toList());
  }

  /** Terminates every instance that is not terminated yet and completes when all are. */
  public Future<Void> terminateAll() {
    List<String> ids = instances.values().stream().filter(i -> i.state() != InstanceState.TERMINATED)
        .map(Instance::id).toList();
    if (!ids.isEmpty()) {
      terminate(ids);
    }
    return Future.join(ids.stream().map(id -> instances.get(id).activity()).toList()).mapEmpty();
  }

  /** Records processes that exited on their own, and forgets instances terminated longer ago than the retention. */
  public void sweep() {
    boolean changed = false;
    long now = clock.millis();
    for (Instance instance : instances.values()) {
      if (instance.state() == InstanceState.RUNNING) {
        for (RunningProcess process : instance.processes()) {
          if (!process.exited() && !processes.alive(process)) {
            process.markExited(now);
            changed = true;
            LOG.warn("instance {}: process {} (pid {}) exited on its own", instance.id(), process.name(), process.pid());
          }
        }
      }
    }
    List<String> expired = instances.values().stream()
        .filter(i -> i.state() == InstanceState.TERMINATED
            && now - i.stateSince().toEpochMilli() > options.terminatedRetentionMillis())
        .map(Instance::id).toList();
    if (!expired.isEmpty()) {
      expired.forEach(instances::remove);
      reservations.values().removeIf(r -> r.instanceIds().stream().noneMatch(instances::containsKey));
      byToken.values().removeIf(r -> !reservations.containsKey(r.id()));
      changed = true;
    }
    if (changed) {
      save();
    }
  }

  /** What the admin API shows of an instance: the EC2 facts and the local ones behind them. */
  public JsonObject adminView(Instance instance) {
    JsonArray procs = new JsonArray();
    for (RunningProcess process : instance.processes()) {
      procs.add(process.toJson().put("alive", processes.alive(process)));
    }
    return new JsonObject()
        .put("instanceId", instance.id())
        .put("state", instance.state().ec2Name())
        .put("imageId", instance.imageId())
        .put("image", images.find(instance.imageId()).map(Image::name).orElse(null))
        .put("instanceType", instance.instanceType())
        .put("vcpus", vcpus(instance))
        .put("cgroups", new JsonArray(quota.groups(instance.id()).stream().map(Path::toString).toList()))
        .put("reservationId", instance.reservationId())
        .put("privateIp", instance.privateIp())
        .put("ports", new JsonObject(new LinkedHashMap<>(instance.ports())))
        .put("metadataEndpoint", instance.imdsPort() == 0 ? null : "http://127.0.0.1:" + instance.imdsPort())
        .put("dir", instanceDir(instance).toString())
        .put("launchTime", instance.launchTime().toString())
        .put("runningAt", instance.runningAt() == null ? null : instance.runningAt().toString())
        .put("stateReason", instance.stateReason())
        .put("tags", new JsonObject(new LinkedHashMap<>(instance.tags())))
        .put("processes", procs);
  }

  /** What {@code GET /_sandbox/capacity} shows: whether quotas are enforced and how, and the vCPUs committed. */
  public JsonObject capacity() {
    return quota.toJson().put("hostCores", hostCores).put("maxVcpus", options.maxVcpus())
        .put("committedVcpus", committedVcpus()).put("types", InstanceTypes.toJson());
  }

  // ---------------------------------------------------------------- persistence

  /** Takes back the saved state: adopts live processes, reopens metadata endpoints, finishes interrupted moves. */
  public Future<Void> restore(JsonObject saved) {
    nextSeq = saved.getLong("nextSeq", 1L);
    saved.getJsonArray("instances", new JsonArray()).forEach(json -> {
      Instance instance = Instance.fromJson((JsonObject) json);
      instances.put(instance.id(), instance);
      if (instance.state() != InstanceState.TERMINATED) {
        allocatedPorts.addAll(instance.ports().values());
      }
    });
    saved.getJsonArray("reservations", new JsonArray()).forEach(json -> {
      Reservation reservation = Reservation.fromJson((JsonObject) json);
      reservations.put(reservation.id(), reservation);
      if (reservation.clientToken() != null) {
        byToken.put(reservation.clientToken(), reservation);
      }
    });
    List<Future<?>> reopened = new ArrayList<>();
    for (Instance instance : instances.values()) {
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
        case RUNNING -> reopened.add(metadata.open(instance.id(), instance.imdsPort())
            .onSuccess(port -> LOG.info("instance {} adopted: {} live process(es), metadata on port {}", instance.id(),
                instance.processes().stream().filter(processes::alive).count(), port))
            .onFailure(err -> LOG.error("instance {}: cannot reopen its metadata endpoint on port {}: {}",
                instance.id(), instance.imdsPort(), err.getMessage())));
        case STOPPING -> halt(instance, InstanceState.STOPPED);
        case SHUTTING_DOWN -> halt(instance, InstanceState.TERMINATED);
        default -> {
        }
      }
    }
    sweep();
    return Future.join(reopened).mapEmpty();
  }

  /**
   * At start, after {@link #restore}: removes the empty cgroups of instances that are gone (a sandbox that died while
   * one stopped leaves them), and says which groups of no live instance still hold processes.
   */
  public Future<Void> removeAbandonedGroups() {
    Set<String> live = new HashSet<>();
    instances.values().stream().filter(Cloud::holdsCapacity).forEach(i -> live.add(i.id()));
    return vertx.executeBlocking(() -> quota.removeAbandoned(live), false)
        .onSuccess(kept -> kept.forEach(group -> LOG.warn("cgroup {} belongs to no live instance but still holds "
            + "processes; left in place", group)))
        .<Void>mapEmpty()
        .recover(err -> {
          LOG.error("cannot clean up the instances' cgroups: {}", err.getMessage());
          return Future.succeededFuture();
        });
  }

  /**
   * Closes the metadata endpoints and flushes the state; instance processes keep running, in their cgroups. The base
   * of the cgroups goes when no instance's group is left in it.
   */
  public Future<Void> close() {
    List<Future<Void>> closing = new ArrayList<>();
    instances.keySet().forEach(id -> closing.add(metadata.close(id)));
    return Future.join(closing).transform(x -> store.flushed())
        .transform(x -> vertx.<Void>executeBlocking(() -> {
          quota.removeBasesIfEmpty();
          return null;
        }, false))
        .recover(err -> {
          LOG.error("cannot remove the sandbox's cgroup base: {}", err.getMessage());
          return Future.succeededFuture();
        });
  }

  private void save() {
    JsonArray instanceArray = new JsonArray();
    instances.values().forEach(i -> instanceArray.add(i.toJson()));
    JsonArray reservationArray = new JsonArray();
    reservations.values().forEach(r -> reservationArray.add(r.toJson()));
    store.save(new JsonObject().put("version", 1).put("nextSeq", nextSeq)
        .put("instances", instanceArray).put("reservations", reservationArray));
  }

  // ---------------------------------------------------------------- lifecycle

  private void boot(Instance instance, long delayMillis) {
    instance.activity(instance.activity().transform(x -> booting(instance, delayMillis)));
  }

  private Future<Void> booting(Instance instance, long delayMillis) {
    Optional<Image> image = images.find(instance.imageId());
    if (image.isEmpty()) {
      return failBoot(instance, "image " + instance.imageId() + " is no longer registered");
    }
    Future<Void> delay = delayMillis > 0 ? vertx.timer(delayMillis).mapEmpty() : Future.succeededFuture();
    return delay
        .compose(x -> !pending(instance) ? Future.succeededFuture() : metadata.open(instance.id(), instance.imdsPort())
            .map(port -> {
              instance.imdsPort(port);
              return null;
            }))
        .compose(x -> pending(instance) ? createGroups(instance) : Future.succeededFuture(List.<Path>of()))
        .compose(groups -> spawnFrom(instance, image.get(), 0, groups))
        .compose(x -> {
          if (pending(instance)) {
            instance.moveTo(InstanceState.RUNNING, clock.instant(), null);
            save();
            LOG.info("instance {} running: {} process(es), metadata on port {}", instance.id(),
                instance.processes().size(), instance.imdsPort());
          }
          return Future.<Void>succeededFuture();
        })
        .recover(err -> failBoot(instance, err.getMessage()));
  }

  /** The instance's cgroups with its type's quota, for the processes within its capacity; none when not enforced. */
  private Future<List<Path>> createGroups(Instance instance) {
    if (!quota.enforced()) {
      return Future.succeededFuture(List.of());
    }
    return vertx.executeBlocking(() -> quota.create(instance.id(), vcpus(instance)), false);
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
    spec.env().forEach((key, value) -> env.put(key, ImageCatalog.expand(value, variables)));
    List<Path> joined = spec.withinCapacity() ? groups : List.of();
    return processes.spawn(instanceDir(instance), spec.name(), command, env, joined).compose(process -> {
      instance.processes().add(process);
      save();
      LOG.info("instance {}: started {} (pid {}){}", instance.id(), spec.name(), process.pid(),
          joined.isEmpty() ? "" : " within its " + InstanceTypes.format(vcpus(instance)) + " vCPU");
      return spawnFrom(instance, image, index + 1, groups);
    });
  }

  private Future<Void> failBoot(Instance instance, String why) {
    if (!pending(instance)) {
      return Future.succeededFuture();
    }
    LOG.error("instance {} failed to boot: {}", instance.id(), why);
    instance.moveTo(InstanceState.SHUTTING_DOWN, clock.instant(), "Server.InternalError: " + why);
    save();
    return stopProcessesAndMetadata(instance).transform(x -> {
      finishMove(instance, InstanceState.TERMINATED);
      return Future.succeededFuture();
    });
  }

  /** Stops the instance after whatever it is doing now, then moves it to {@code end}. */
  private void halt(Instance instance, InstanceState end) {
    instance.activity(instance.activity()
        .transform(x -> stopProcessesAndMetadata(instance))
        .transform(x -> {
          finishMove(instance, end);
          return Future.succeededFuture();
        }));
  }

  private Future<Void> stopProcessesAndMetadata(Instance instance) {
    List<RunningProcess> running = new ArrayList<>(instance.processes().stream().filter(p -> !p.exited()).toList());
    Collections.reverse(running);
    Map<String, Long> graces = new HashMap<>();
    images.find(instance.imageId()).ifPresent(image ->
        image.processes().forEach(spec -> graces.put(spec.name(), spec.stopTimeoutMillis())));
    List<Long> grace = running.stream().map(p -> graces.getOrDefault(p.name(), 10_000L)).toList();
    return processes.stop(running, grace)
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
    instance.moveTo(end, clock.instant(), null);
    if (end == InstanceState.TERMINATED) {
      allocatedPorts.removeAll(instance.ports().values());
    }
    save();
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

  private static boolean pending(Instance instance) {
    return instance.state() == InstanceState.PENDING;
  }

  private Map<String, String> variables(Instance instance) {
    Map<String, String> variables = new HashMap<>();
    variables.put("java", options.java());
    variables.put("home", options.home().toString());
    variables.put("instance.id", instance.id());
    variables.put("instance.dir", instanceDir(instance).toString());
    variables.put("instance.vcpus", InstanceTypes.format(vcpus(instance)));
    variables.put("private-ip", instance.privateIp());
    variables.put("imds", "http://127.0.0.1:" + instance.imdsPort());
    instance.ports().forEach((name, port) -> variables.put("port." + name, Integer.toString(port)));
    return variables;
  }

  private Path instanceDir(Instance instance) {
    return options.stateDir().resolve("instances").resolve(instance.id());
  }

  private Map<String, Integer> allocatePorts(Image image) {
    Map<String, Integer> ports = new LinkedHashMap<>();
    for (String name : image.ports()) {
      int port;
      do {
        port = FreePorts.pick();
      } while (allocatedPorts.contains(port));
      allocatedPorts.add(port);
      ports.put(name, port);
    }
    return ports;
  }

  /**
   * How many instances of {@code type} fit in the vCPUs left: at least {@code minCount}, else
   * InsufficientInstanceCapacity. A type larger than the host, or a launch beyond {@code --max-vcpus}, would get CPU
   * quotas the host cannot honour, and its instances would read as less loaded than they are.
   */
  private int vcpuRoom(InstanceType type, int minCount) {
    if (type.vcpus() > hostCores) {
      throw capacityRefusal(type.name() + " (" + InstanceTypes.format(type.vcpus()) + " vCPUs) on " + hostCores
          + " cores", "The sandbox's host has " + hostCores + " cores; one " + type.name() + " asks for "
          + InstanceTypes.format(type.vcpus()) + " vCPUs.");
    }
    double committed = committedVcpus();
    int fits = (int) Math.floor((options.maxVcpus() - committed) / type.vcpus() + EPSILON);
    if (fits < minCount) {
      throw capacityRefusal(type.name() + " x" + minCount + " (" + InstanceTypes.format(committed) + " of "
          + InstanceTypes.format(options.maxVcpus()) + " vCPUs committed)", "Instances already have "
          + InstanceTypes.format(committed) + " of the sandbox's " + InstanceTypes.format(options.maxVcpus())
          + " vCPUs (--max-vcpus); this launch asks for at least " + minCount + " x " + type.name() + " = "
          + InstanceTypes.format(minCount * type.vcpus()) + " vCPUs.");
    }
    return fits;
  }

  /** The vCPUs of the instances that are neither stopped nor terminated: what their quotas promise. */
  private double committedVcpus() {
    return instances.values().stream().filter(Cloud::holdsCapacity).mapToDouble(Cloud::vcpus).sum();
  }

  /** Neither stopped nor terminated: its vCPUs are committed and its cgroups may exist. */
  private static boolean holdsCapacity(Instance instance) {
    return instance.state() != InstanceState.TERMINATED && instance.state() != InstanceState.STOPPED;
  }

  /**
   * The capacity of the instance's type. A type the sandbox does not offer can only come from a state saved before
   * types were checked; it counts as the default type.
   */
  private static double vcpus(Instance instance) {
    return InstanceTypes.find(instance.instanceType()).orElse(InstanceTypes.DEFAULT).vcpus();
  }

  private static Ec2Exception capacityRefusal(String logged, String message) {
    LOG.warn("refused for capacity: {}", logged);
    return new Ec2Exception(500, "InsufficientInstanceCapacity", message);
  }

  private String newId(String prefix, Set<String> taken) {
    String id;
    do {
      byte[] bytes = new byte[9];
      random.nextBytes(bytes);
      id = prefix + HexFormat.of().formatHex(bytes).substring(0, 17);
    } while (taken.contains(id));
    return id;
  }

  private static Ec2Exception incorrectState(Instance instance, String verb) {
    return new Ec2Exception(400, "IncorrectInstanceState", "This instance '" + instance.id()
        + "' is not in a state from which it can be " + verb + ".");
  }
}
