package io.fleetvote.sandbox;

import io.fleetvote.common.imds.BlockDevices;
import io.fleetvote.sandbox.ec2.Ec2Exception;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * EC2's rules over the sandbox's EBS volumes, as pure state: CreateVolume (with its client token), Attach, Detach and
 * DeleteVolume, the states they pass through and the errors EC2 answers their misuse with. Each call moves a volume
 * into a passing state (creating, attaching, detaching, deleting); {@link #settle} ends it, when the caller's timer
 * says so. It touches no file: {@link Cloud} makes and removes the directories.
 */
public final class Volumes {

  private static final Logger LOG = LoggerFactory.getLogger(Volumes.class);
  private static final int MAX_TAGS = 50;
  /** How long a volume stays in a passing state (creating, attaching, detaching, deleting). */
  public static final long SETTLE_MILLIS = 200;

  /** One volume type: its size range in GiB, and its IOPS and throughput when provisioned. */
  record VolumeType(String name, int minGib, int maxGib, int minIops, int maxIops, boolean iopsRequired,
                    int defaultIops, int minThroughput, int maxThroughput) {

    boolean takesIops() {
      return maxIops > 0;
    }

    boolean takesThroughput() {
      return maxThroughput > 0;
    }
  }

  static final Map<String, VolumeType> TYPES = types();
  /** EC2's default when CreateVolume names no type. */
  static final String DEFAULT_TYPE = "gp2";

  /** A validated CreateVolume call. */
  public record CreateRequest(int sizeGib, String availabilityZone, String volumeType, Integer iops,
                              Integer throughput, String snapshotId, Map<String, String> tags, String clientToken,
                              String fingerprint) {
  }

  private final List<String> zones;
  private final Clock clock;
  private final Map<String, Volume> volumes = new LinkedHashMap<>();
  private final Map<String, Volume> byToken = new HashMap<>();
  private final SecureRandom random = new SecureRandom();
  private long nextSeq = 1;

  public Volumes(List<String> zones, Clock clock) {
    this.zones = List.copyOf(zones);
    this.clock = clock;
  }

  // ---------------------------------------------------------------- CreateVolume

  /** A new volume in {@code creating}, or the one an earlier call with the same client token made. */
  public Volume create(CreateRequest request) {
    if (request.clientToken() != null) {
      Volume earlier = byToken.get(request.clientToken());
      if (earlier != null) {
        if (!earlier.fingerprint().equals(request.fingerprint())) {
          throw new Ec2Exception(400, "IdempotentParameterMismatch", "The client token '"
              + Ec2Exception.abbreviate(request.clientToken()) + "' was already used with different parameters.");
        }
        return earlier;
      }
    }
    if (!zones.contains(request.availabilityZone())) {
      throw Ec2Exception.invalidValue("Invalid availability zone: [" + Ec2Exception.abbreviate(
          request.availabilityZone()) + "]");
    }
    String typeName = request.volumeType() == null ? DEFAULT_TYPE : request.volumeType();
    VolumeType type = TYPES.get(typeName);
    if (type == null) {
      throw Ec2Exception.invalidValue("VolumeType", typeName, "It must be one of " + TYPES.keySet() + ".");
    }
    if (request.snapshotId() != null) {
      throw new Ec2Exception(400, "InvalidSnapshot.NotFound", "The snapshot '"
          + Ec2Exception.abbreviate(request.snapshotId()) + "' does not exist.");
    }
    if (request.sizeGib() < type.minGib() || request.sizeGib() > type.maxGib()) {
      throw Ec2Exception.invalidValue("Size", Integer.toString(request.sizeGib()), "A " + type.name()
          + " volume must be between " + type.minGib() + " and " + type.maxGib() + " GiB.");
    }
    int iops = iops(type, request);
    int throughput = throughput(type, request);
    if (request.tags().size() > MAX_TAGS) {
      throw new Ec2Exception(400, "TagLimitExceeded", "The maximum number of tags (" + MAX_TAGS
          + ") for a volume has been exceeded.");
    }
    Volume volume = new Volume(newId(), nextSeq++, request.sizeGib(), request.availabilityZone(), type.name(), iops,
        throughput, null, clock.instant(), request.clientToken(), request.fingerprint(), request.tags());
    volumes.put(volume.id(), volume);
    if (request.clientToken() != null) {
      byToken.put(request.clientToken(), volume);
    }
    LOG.info("volume {} creating: {} GiB {} in {}", volume.id(), volume.sizeGib(), volume.volumeType(),
        volume.availabilityZone());
    return volume;
  }

  private static int iops(VolumeType type, CreateRequest request) {
    if (request.iops() == null) {
      if (type.iopsRequired()) {
        throw Ec2Exception.missingParameter("Iops");
      }
      return type.name().equals("gp2") ? Math.max(100, Math.min(16_000, 3 * request.sizeGib())) : type.defaultIops();
    }
    if (!type.takesIops()) {
      throw new Ec2Exception(400, "InvalidParameterCombination", "The parameter iops is not supported for "
          + type.name() + " volumes.");
    }
    if (request.iops() < type.minIops() || request.iops() > type.maxIops()) {
      throw Ec2Exception.invalidValue("Iops", request.iops().toString(), "A " + type.name() + " volume takes "
          + type.minIops() + " to " + type.maxIops() + " IOPS.");
    }
    return request.iops();
  }

  private static int throughput(VolumeType type, CreateRequest request) {
    if (request.throughput() == null) {
      return type.takesThroughput() ? type.minThroughput() : 0;
    }
    if (!type.takesThroughput()) {
      throw new Ec2Exception(400, "InvalidParameterCombination", "The parameter throughput is not supported for "
          + type.name() + " volumes.");
    }
    if (request.throughput() < type.minThroughput() || request.throughput() > type.maxThroughput()) {
      throw Ec2Exception.invalidValue("Throughput", request.throughput().toString(), "A " + type.name()
          + " volume takes " + type.minThroughput() + " to " + type.maxThroughput() + " MiB/s.");
    }
    return request.throughput();
  }

  // ---------------------------------------------------------------- reads

  public Optional<Volume> find(String id) {
    return Optional.ofNullable(volumes.get(id));
  }

  /** Every volume not deleted, in creation order. */
  public List<Volume> all() {
    return List.copyOf(volumes.values());
  }

  /** The volumes with these ids, or InvalidVolume.NotFound naming every unknown one. */
  public List<Volume> require(List<String> ids) {
    List<String> missing = new ArrayList<>();
    List<Volume> found = new ArrayList<>();
    for (String id : new LinkedHashSet<>(ids)) {
      Volume volume = volumes.get(id);
      if (volume == null) {
        missing.add(id);
      } else {
        found.add(volume);
      }
    }
    if (missing.size() == 1) {
      throw new Ec2Exception(400, "InvalidVolume.NotFound", "The volume '" + missing.get(0) + "' does not exist.");
    }
    if (!missing.isEmpty()) {
      throw new Ec2Exception(400, "InvalidVolume.NotFound", "The volumes '" + String.join(", ", missing)
          + "' do not exist.");
    }
    return found;
  }

  /** The volumes attached (not attaching, not detaching) to the instance, in the order they were attached. */
  public List<Volume> attachedTo(String instanceId) {
    return volumes.values().stream().filter(v -> v.attachment() != null
            && v.attachment().instanceId().equals(instanceId) && v.attachment().state() == Volume.AttachState.ATTACHED)
        .sorted(Comparator.comparing((Volume v) -> v.attachment().attachTime()).thenComparing(Volume::seq))
        .toList();
  }

  // ---------------------------------------------------------------- Attach / Detach / Delete

  /**
   * Attaches an available volume to a running or stopped instance of its zone at {@code device}: in-use, attaching.
   * {@code instance} is the instance as the caller found it (or empty: InvalidInstanceID.NotFound).
   */
  public Volume attach(String volumeId, Optional<Instance> instance, String instanceId, String device) {
    Volume volume = require(List.of(volumeId)).get(0);
    Instance target = instance.orElseThrow(() -> Ec2Exception.instancesNotFound(List.of(instanceId)));
    if (!BlockDevices.EBS_DEVICE.matcher(device).matches()) {
      throw Ec2Exception.invalidValue("Value (" + Ec2Exception.abbreviate(device) + ") for parameter device is "
          + "invalid. " + Ec2Exception.abbreviate(device) + " is not a valid EBS device name.");
    }
    if (volume.attachment() != null) {
      throw new Ec2Exception(400, "VolumeInUse", volume.id() + " is already attached to an instance");
    }
    if (volume.state() != Volume.State.AVAILABLE) {
      throw incorrectState(volume);
    }
    if (target.state() != InstanceState.RUNNING && target.state() != InstanceState.STOPPED) {
      throw new Ec2Exception(400, "IncorrectInstanceState", "Instance '" + target.id() + "' is not 'running'.");
    }
    if (!target.availabilityZone().equals(volume.availabilityZone())) {
      throw new Ec2Exception(400, "InvalidVolume.ZoneMismatch", "The volume '" + volume.id() + "' is not in the "
          + "same availability zone as instance '" + target.id() + "'");
    }
    boolean taken = volumes.values().stream().anyMatch(v -> v.attachment() != null
        && v.attachment().instanceId().equals(target.id()) && v.attachment().device().equals(device));
    if (taken) {
      throw Ec2Exception.invalidValue("Attachment point " + device + " is already in use");
    }
    volume.moveTo(Volume.State.IN_USE);
    volume.attach(new Volume.Attachment(target.id(), device, Volume.AttachState.ATTACHING, clock.instant()));
    LOG.info("volume {} attaching to {} at {}", volume.id(), target.id(), device);
    return volume;
  }

  /**
   * Detaches a volume from its instance (detaching); {@code instanceId} and {@code device}, when given, must name its
   * attachment. {@code force} is accepted as EC2 does: the sandbox has no cache to flush, so it detaches the same way.
   */
  public Volume detach(String volumeId, String instanceId, String device, boolean force) {
    Volume volume = require(List.of(volumeId)).get(0);
    Volume.Attachment attachment = volume.attachment();
    if (attachment == null) {
      throw new Ec2Exception(400, "IncorrectState", "Volume '" + volume.id() + "' is in the '"
          + volume.state().ec2Name() + "' state.");
    }
    if ((instanceId != null && !instanceId.equals(attachment.instanceId()))
        || (device != null && !device.equals(attachment.device()))) {
      throw new Ec2Exception(400, "InvalidAttachment.NotFound", "The volume '" + volume.id()
          + "' is not attached to instance '" + Ec2Exception.abbreviate(instanceId == null ? attachment.instanceId()
          : instanceId) + "'" + (device == null ? "" : " at " + Ec2Exception.abbreviate(device)) + ".");
    }
    if (attachment.state() == Volume.AttachState.DETACHING) {
      return volume;
    }
    volume.attach(attachment.moveTo(Volume.AttachState.DETACHING));
    LOG.info("volume {} detaching from {}{}", volume.id(), attachment.instanceId(), force ? " (forced)" : "");
    return volume;
  }

  /** Deletes an available (or failed) volume: deleting; then, once settled, gone. */
  public Volume delete(String volumeId) {
    Volume volume = require(List.of(volumeId)).get(0);
    if (volume.attachment() != null) {
      throw new Ec2Exception(400, "VolumeInUse", "Volume " + volume.id() + " is currently attached to "
          + volume.attachment().instanceId());
    }
    if (volume.state() == Volume.State.DELETING) {
      return volume;
    }
    if (volume.state() != Volume.State.AVAILABLE && volume.state() != Volume.State.ERROR) {
      throw incorrectState(volume);
    }
    volume.moveTo(Volume.State.DELETING);
    LOG.info("volume {} deleting", volume.id());
    return volume;
  }

  /**
   * Ends the passing state the volume is in: creating -> available, attaching -> attached, detaching -> available
   * (attached to nothing), deleting -> deleted (and forgotten: DescribeVolumes no longer knows it). What it was, for the
   * caller's files; empty when nothing was passing.
   */
  public Optional<String> settle(String volumeId) {
    Volume volume = volumes.get(volumeId);
    if (volume == null) {
      return Optional.empty();
    }
    Volume.Attachment attachment = volume.attachment();
    if (volume.state() == Volume.State.CREATING) {
      volume.moveTo(Volume.State.AVAILABLE);
      return Optional.of("created");
    }
    if (volume.state() == Volume.State.DELETING) {
      volume.moveTo(Volume.State.DELETED);
      volumes.remove(volume.id());
      byToken.values().remove(volume);
      return Optional.of("deleted");
    }
    if (attachment != null && attachment.state() == Volume.AttachState.ATTACHING) {
      volume.attach(attachment.moveTo(Volume.AttachState.ATTACHED));
      return Optional.of("attached");
    }
    if (attachment != null && attachment.state() == Volume.AttachState.DETACHING) {
      volume.attach(null);
      volume.moveTo(Volume.State.AVAILABLE);
      return Optional.of("detached");
    }
    return Optional.empty();
  }

  /** The instance is terminated: its volumes are detached at once (they outlive it, as EC2's attached ones do). */
  public List<Volume> instanceGone(String instanceId) {
    List<Volume> freed = new ArrayList<>();
    for (Volume volume : volumes.values()) {
      if (volume.attachment() != null && volume.attachment().instanceId().equals(instanceId)) {
        volume.attach(null);
        volume.moveTo(Volume.State.AVAILABLE);
        freed.add(volume);
        LOG.info("volume {} detached: instance {} terminated", volume.id(), instanceId);
      }
    }
    return freed;
  }

  /** Whether the tags fit on the volume; CreateTags adds them. */
  public void tag(List<Volume> targets, Map<String, String> tags) {
    for (Volume volume : targets) {
      Set<String> keys = new LinkedHashSet<>(volume.tags().keySet());
      keys.addAll(tags.keySet());
      if (keys.size() > MAX_TAGS) {
        throw new Ec2Exception(400, "TagLimitExceeded", "The maximum number of tags (" + MAX_TAGS
            + ") for resource '" + volume.id() + "' has been reached.");
      }
    }
    targets.forEach(volume -> volume.tags().putAll(tags));
  }

  /** The attributes DescribeVolumes filters on, besides tags. */
  public static Map<String, Function<Volume, List<String>>> filters() {
    Map<String, Function<Volume, List<String>>> by = new LinkedHashMap<>();
    by.put("volume-id", v -> List.of(v.id()));
    by.put("status", v -> List.of(v.state().ec2Name()));
    by.put("size", v -> List.of(Integer.toString(v.sizeGib())));
    by.put("availability-zone", v -> List.of(v.availabilityZone()));
    by.put("volume-type", v -> List.of(v.volumeType()));
    by.put("snapshot-id", v -> v.snapshotId() == null ? List.of() : List.of(v.snapshotId()));
    by.put("create-time", v -> List.of(v.createTime().toString()));
    by.put("encrypted", v -> List.of("false"));
    by.put("attachment.instance-id", v -> v.attachment() == null ? List.of() : List.of(v.attachment().instanceId()));
    by.put("attachment.device", v -> v.attachment() == null ? List.of() : List.of(v.attachment().device()));
    by.put("attachment.status", v -> v.attachment() == null ? List.of() : List.of(v.attachment().state().ec2Name()));
    by.put("attachment.delete-on-termination", v -> v.attachment() == null ? List.of() : List.of("false"));
    return by;
  }

  // ---------------------------------------------------------------- persistence

  public JsonObject toJson() {
    JsonArray array = new JsonArray();
    volumes.values().forEach(v -> array.add(v.toJson()));
    return new JsonObject().put("nextSeq", nextSeq).put("volumes", array);
  }

  /** Takes back what {@link #toJson} saved; volumes caught passing are settled by the caller. */
  public void restore(JsonObject saved) {
    if (saved == null) {
      return;
    }
    nextSeq = saved.getLong("nextSeq", 1L);
    saved.getJsonArray("volumes", new JsonArray()).forEach(json -> {
      Volume volume = Volume.fromJson((JsonObject) json);
      volumes.put(volume.id(), volume);
      if (volume.clientToken() != null) {
        byToken.put(volume.clientToken(), volume);
      }
    });
  }

  // ---------------------------------------------------------------- helpers

  private static Ec2Exception incorrectState(Volume volume) {
    return new Ec2Exception(400, "IncorrectState", "The volume '" + volume.id() + "' is not 'available'; it is '"
        + volume.state().ec2Name() + "'.");
  }

  private String newId() {
    String id;
    do {
      byte[] bytes = new byte[9];
      random.nextBytes(bytes);
      id = "vol-" + HexFormat.of().formatHex(bytes).substring(0, 17);
    } while (volumes.containsKey(id));
    return id;
  }

  private static Map<String, VolumeType> types() {
    Map<String, VolumeType> types = new LinkedHashMap<>();
    for (VolumeType type : List.of(
        new VolumeType("standard", 1, 1024, 0, 0, false, 0, 0, 0),
        new VolumeType("gp2", 1, 16_384, 0, 0, false, 0, 0, 0),
        new VolumeType("gp3", 1, 16_384, 3000, 16_000, false, 3000, 125, 1000),
        new VolumeType("io1", 4, 16_384, 100, 64_000, true, 0, 0, 0),
        new VolumeType("io2", 4, 16_384, 100, 256_000, true, 0, 0, 0),
        new VolumeType("st1", 125, 16_384, 0, 0, false, 0, 0, 0),
        new VolumeType("sc1", 125, 16_384, 0, 0, false, 0, 0, 0))) {
      types.put(type.name(), type);
    }
    return Collections.unmodifiableMap(types);
  }
}
