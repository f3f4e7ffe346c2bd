package io.fleetvote.sandbox;

import io.fleetvote.common.net.FreePorts;
import io.fleetvote.sandbox.capacity.InstanceTypes;
import io.fleetvote.sandbox.capacity.InstanceTypes.InstanceType;
import io.fleetvote.sandbox.ec2.Ec2Exception;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.IntSupplier;

/**
 * EC2's rules over the sandbox's resources, as pure state: instances, reservations and client tokens, the moves
 * RunInstances, Terminate/Stop/StartInstances and CreateTags make and the errors EC2 answers them with, capacity
 * (instances and vCPUs), and what is saved. It starts and stops nothing: {@link Cloud} hands the instances it moved
 * to the {@link InstanceRuntime}. Volumes and snapshots join here as resources of their own.
 */
public final class CloudState {

  private static final Logger LOG = LoggerFactory.getLogger(CloudState.class);
  private static final int MAX_TAGS = 50;
  /** Slack for sums of vCPU fractions given on the command line (the types' own are exact in binary). */
  private static final double EPSILON = 1e-9;
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

  /**
   * What a call did: the changes to report, and the instances that moved (to be booted, or halted to {@code end}).
   * A launch that repeats a client token moved nothing.
   */
  public record Moves(List<StateChange> changes, List<Instance> moved) {
  }

  /** What RunInstances did: the reservation, and the instances it launched (none when it repeated a token). */
  public record Launch(Reservation reservation, List<Instance> launched) {
  }

  private final SandboxOptions options;
  private final ImageCatalog images;
  private final Faults faults;
  private final Clock clock;
  private final int hostCores;
  private final IntSupplier freePort;
  private final Map<String, Instance> instances = new LinkedHashMap<>();
  private final Map<String, Reservation> reservations = new LinkedHashMap<>();
  private final Map<String, Reservation> byToken = new HashMap<>();
  private final Set<Integer> allocatedPorts = new HashSet<>();
  private final SecureRandom random = new SecureRandom();
  private final Volumes volumes;
  private long nextSeq = 1;

  /** @param freePort picks a port for an instance (the sandbox's: a free one on 127.0.0.1) */
  public CloudState(SandboxOptions options, ImageCatalog images, Faults faults, Clock clock, int hostCores,
                    IntSupplier freePort) {
    this.options = options;
    this.images = images;
    this.faults = faults;
    this.clock = clock;
    this.hostCores = hostCores;
    this.freePort = freePort;
    this.volumes = new Volumes(options.zones(), clock);
  }

  /** The EBS volumes, with EC2's rules over them. */
  public Volumes volumes() {
    return volumes;
  }

  /** The sandbox's state: the host's cores, free ports on 127.0.0.1. */
  public CloudState(SandboxOptions options, ImageCatalog images, Faults faults, Clock clock) {
    this(options, images, faults, clock, SandboxOptions.hostCores(), FreePorts::pick);
  }

  // ---------------------------------------------------------------- RunInstances

  /**
   * New instances in {@code pending} (the caller boots them), or the reservation an earlier call with the same client
   * token made (nothing moved); a repeat with other parameters is IdempotentParameterMismatch.
   */
  public Launch launch(LaunchRequest request) {
    if (request.clientToken() != null) {
      Reservation earlier = byToken.get(request.clientToken());
      if (earlier != null) {
        if (!earlier.fingerprint().equals(request.fingerprint())) {
          throw new Ec2Exception(400, "IdempotentParameterMismatch", "The client token '"
              + Ec2Exception.abbreviate(request.clientToken()) + "' was already used with different parameters.");
        }
        LOG.info("RunInstances with client token {} repeated: reservation {} again, nothing launched",
            request.clientToken(), earlier.id());
        return new Launch(earlier, List.of());
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
    Instant now = clock.instant();
    List<Instance> created = new ArrayList<>();
    for (int index = 0; index < count; index++) {
      Instance instance = new Instance(newId("i-", instances.keySet()), nextSeq++, image.id(), reservationId, index,
          type.name(), zone, "127.0.0.1", now, request.clientToken(), request.keyName(),
          request.subnetId(), request.securityGroupIds(), request.userData(), request.tags(), allocatePorts(image),
          faults.takeBootDelay());
      instances.put(instance.id(), instance);
      created.add(instance);
      LOG.info("instance {} launched from {} ({}), reservation {}", instance.id(), image.name(), image.id(),
          reservationId);
    }
    Reservation reservation = new Reservation(reservationId, created.stream().map(Instance::id).toList(),
        request.clientToken(), request.fingerprint());
    reservations.put(reservation.id(), reservation);
    if (request.clientToken() != null) {
      byToken.put(request.clientToken(), reservation);
    }
    return new Launch(reservation, List.copyOf(created));
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

  /** Every instance not already going or gone moves to shutting-down; the moved ones are to halt, terminated. */
  public Moves terminate(List<String> ids) {
    List<StateChange> changes = new ArrayList<>();
    List<Instance> moved = new ArrayList<>();
    for (Instance instance : require(ids)) {
      InstanceState previous = instance.state();
      if (previous != InstanceState.TERMINATED && previous != InstanceState.SHUTTING_DOWN) {
        instance.moveTo(InstanceState.SHUTTING_DOWN, clock.instant(), userInitiated());
        LOG.info("instance {} shutting down (was {})", instance.id(), previous.ec2Name());
        moved.add(instance);
      }
      changes.add(new StateChange(instance.id(), previous, instance.state()));
    }
    return new Moves(changes, moved);
  }

  /**
   * Pending and running instances move to stopping (to halt, stopped); any going or gone refuses the whole call.
   * {@code force} (EC2's Force) has their processes killed at once, and moves stopping ones again: a graceful stop
   * under way is cut short, as on EC2, where Force is how an instance stuck in stopping is stopped.
   */
  public Moves stop(List<String> ids, boolean force) {
    List<Instance> targets = require(ids);
    for (Instance instance : targets) {
      if (instance.state() == InstanceState.SHUTTING_DOWN || instance.state() == InstanceState.TERMINATED) {
        throw incorrectState(instance, "stopped");
      }
    }
    List<StateChange> changes = new ArrayList<>();
    List<Instance> moved = new ArrayList<>();
    for (Instance instance : targets) {
      InstanceState previous = instance.state();
      boolean stops = previous == InstanceState.RUNNING || previous == InstanceState.PENDING;
      if (stops || (force && previous == InstanceState.STOPPING && !instance.stopForced())) {
        if (stops) {
          instance.moveTo(InstanceState.STOPPING, clock.instant(), userInitiated());
        }
        if (force) {
          instance.forceStop();
        }
        LOG.info("instance {} stopping (was {}){}", instance.id(), previous.ec2Name(), force ? ", forced" : "");
        moved.add(instance);
      }
      changes.add(new StateChange(instance.id(), previous, instance.state()));
    }
    return new Moves(changes, moved);
  }

  /** Stopped instances move to pending (to boot), if their vCPUs fit; any stopping or gone refuses the call. */
  public Moves start(List<String> ids) {
    List<Instance> targets = require(ids);
    for (Instance instance : targets) {
      InstanceState state = instance.state();
      if (state != InstanceState.STOPPED && state != InstanceState.PENDING && state != InstanceState.RUNNING) {
        throw incorrectState(instance, "started");
      }
    }
    double starting = targets.stream().filter(i -> i.state() == InstanceState.STOPPED)
        .mapToDouble(CloudState::vcpus).sum();
    if (committedVcpus() + starting > options.maxVcpus() + EPSILON) {
      throw capacityRefusal("StartInstances " + targets.size() + " instance(s)", "Instances already have "
          + InstanceTypes.format(committedVcpus()) + " of the sandbox's " + InstanceTypes.format(options.maxVcpus())
          + " vCPUs (--max-vcpus); starting these asks for " + InstanceTypes.format(starting) + " more.");
    }
    List<StateChange> changes = new ArrayList<>();
    List<Instance> moved = new ArrayList<>();
    for (Instance instance : targets) {
      InstanceState previous = instance.state();
      if (previous == InstanceState.STOPPED) {
        instance.processes().clear();
        instance.moveTo(InstanceState.PENDING, clock.instant(), null);
        LOG.info("instance {} starting", instance.id());
        moved.add(instance);
      }
      changes.add(new StateChange(instance.id(), previous, instance.state()));
    }
    return new Moves(changes, moved);
  }

  public void createTags(List<String> ids, List<String> volumeIds, Map<String, String> tags) {
    List<Instance> targets = require(ids);
    List<Volume> tagged = volumes.require(volumeIds);
    for (Instance instance : targets) {
      Set<String> keys = new HashSet<>(instance.tags().keySet());
      keys.addAll(tags.keySet());
      if (keys.size() > MAX_TAGS) {
        throw new Ec2Exception(400, "TagLimitExceeded",
            "The maximum number of tags (" + MAX_TAGS + ") for resource '" + instance.id() + "' has been reached.");
      }
    }
    volumes.tag(tagged, tags);
    targets.forEach(instance -> instance.tags().putAll(tags));
  }

  /** An instance has reached the end of its move: terminated ones give their ports back. */
  public void finished(Instance instance, InstanceState end) {
    instance.moveTo(end, clock.instant(), null);
    if (end == InstanceState.TERMINATED) {
      allocatedPorts.removeAll(instance.ports().values());
      volumes.instanceGone(instance.id());
    }
  }

  /** Forgets instances terminated longer ago than the retention (and their reservations); whether any went. */
  public boolean forgetExpired(long now) {
    List<String> expired = instances.values().stream()
        .filter(i -> i.state() == InstanceState.TERMINATED
            && now - i.stateSince().toEpochMilli() > options.terminatedRetentionMillis())
        .map(Instance::id).toList();
    if (expired.isEmpty()) {
      return false;
    }
    expired.forEach(instances::remove);
    reservations.values().removeIf(r -> r.instanceIds().stream().noneMatch(instances::containsKey));
    byToken.values().removeIf(r -> !reservations.containsKey(r.id()));
    return true;
  }

  // ---------------------------------------------------------------- capacity

  /** The vCPUs of the instances that are neither stopped nor terminated: what their quotas promise. */
  public double committedVcpus() {
    return instances.values().stream().filter(CloudState::holdsCapacity).mapToDouble(CloudState::vcpus).sum();
  }

  /** What {@code GET /_sandbox/capacity} adds to the quota's view: the host, the limit, what is committed. */
  public JsonObject capacity() {
    return new JsonObject().put("hostCores", hostCores).put("maxVcpus", options.maxVcpus())
        .put("committedVcpus", committedVcpus()).put("types", InstanceTypes.toJson());
  }

  /** Neither stopped nor terminated: its vCPUs are committed and its cgroups may exist. */
  public static boolean holdsCapacity(Instance instance) {
    return instance.state() != InstanceState.TERMINATED && instance.state() != InstanceState.STOPPED;
  }

  /**
   * The capacity of the instance's type. A type the sandbox does not offer can only come from a state saved before
   * types were checked; it counts as the default type.
   */
  public static double vcpus(Instance instance) {
    return InstanceTypes.find(instance.instanceType()).orElse(InstanceTypes.DEFAULT).vcpus();
  }

  // ---------------------------------------------------------------- persistence

  public JsonObject toJson() {
    JsonArray instanceArray = new JsonArray();
    instances.values().forEach(i -> instanceArray.add(i.toJson()));
    JsonArray reservationArray = new JsonArray();
    reservations.values().forEach(r -> reservationArray.add(r.toJson()));
    return new JsonObject().put("version", 1).put("nextSeq", nextSeq)
        .put("instances", instanceArray).put("reservations", reservationArray).put("volumes", volumes.toJson());
  }

  /** Takes back what {@link #toJson} saved; the caller adopts the instances' processes. */
  public void restore(JsonObject saved) {
    nextSeq = saved.getLong("nextSeq", 1L);
    volumes.restore(saved.getJsonObject("volumes"));
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
  }

  // ---------------------------------------------------------------- helpers

  private String userInitiated() {
    return "User initiated (" + REASON_TIME.format(clock.instant()) + ")";
  }

  private Map<String, Integer> allocatePorts(Image image) {
    Map<String, Integer> ports = new LinkedHashMap<>();
    for (String name : image.ports()) {
      int port;
      do {
        port = freePort.getAsInt();
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
