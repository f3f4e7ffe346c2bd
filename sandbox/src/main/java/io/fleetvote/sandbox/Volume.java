package io.fleetvote.sandbox;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * One EBS volume of the sandbox: what EC2 says about it ({@code <status>}, its attachment) and, behind it, a directory
 * of the sandbox's state dir that outlives every instance it is attached to. Touched only on the sandbox verticle's
 * event loop; {@link Volumes} holds EC2's rules over it.
 */
public final class Volume {

  /** EC2's volume states, as {@code <status>} carries them. */
  public enum State {
    CREATING("creating"), AVAILABLE("available"), IN_USE("in-use"), DELETING("deleting"), DELETED("deleted"),
    ERROR("error");

    private final String ec2Name;

    State(String ec2Name) {
      this.ec2Name = ec2Name;
    }

    public String ec2Name() {
      return ec2Name;
    }

    static State fromEc2Name(String name) {
      return byName(values(), State::ec2Name, name, "volume state");
    }
  }

  /** An attachment's states, as its {@code <status>} carries them. */
  public enum AttachState {
    ATTACHING("attaching"), ATTACHED("attached"), DETACHING("detaching");

    private final String ec2Name;

    AttachState(String ec2Name) {
      this.ec2Name = ec2Name;
    }

    public String ec2Name() {
      return ec2Name;
    }

    static AttachState fromEc2Name(String name) {
      return byName(values(), AttachState::ec2Name, name, "attachment state");
    }
  }

  /** The volume's attachment to an instance, at {@code device} ({@code /dev/sdf}). */
  public record Attachment(String instanceId, String device, AttachState state, Instant attachTime) {

    Attachment moveTo(AttachState next) {
      return new Attachment(instanceId, device, next, attachTime);
    }

    JsonObject toJson() {
      return new JsonObject().put("instanceId", instanceId).put("device", device).put("state", state.ec2Name())
          .put("attachTime", attachTime.toString());
    }

    static Attachment fromJson(JsonObject json) {
      return new Attachment(json.getString("instanceId"), json.getString("device"),
          AttachState.fromEc2Name(json.getString("state")), Instant.parse(json.getString("attachTime")));
    }
  }

  private static <E> E byName(E[] values, Function<E, String> name, String wanted, String what) {
    for (E value : values) {
      if (name.apply(value).equals(wanted)) {
        return value;
      }
    }
    throw new IllegalArgumentException("unknown " + what + " '" + wanted + "'");
  }

  private final String id;
  private final long seq;
  private final int sizeGib;
  private final String availabilityZone;
  private final String volumeType;
  private final int iops;
  private final int throughput;
  private final String snapshotId;
  private final Instant createTime;
  private final String clientToken;
  private final String fingerprint;
  private final Map<String, String> tags;
  private State state;
  private Attachment attachment;

  Volume(String id, long seq, int sizeGib, String availabilityZone, String volumeType, int iops, int throughput,
         String snapshotId, Instant createTime, String clientToken, String fingerprint, Map<String, String> tags) {
    this.id = id;
    this.seq = seq;
    this.sizeGib = sizeGib;
    this.availabilityZone = availabilityZone;
    this.volumeType = volumeType;
    this.iops = iops;
    this.throughput = throughput;
    this.snapshotId = snapshotId;
    this.createTime = createTime;
    this.clientToken = clientToken;
    this.fingerprint = fingerprint;
    this.tags = new LinkedHashMap<>(tags);
    this.state = State.CREATING;
  }

  public String id() {
    return id;
  }

  /** Its place in creation order (what DescribeVolumes pages by). */
  public long seq() {
    return seq;
  }

  public int sizeGib() {
    return sizeGib;
  }

  public String availabilityZone() {
    return availabilityZone;
  }

  public String volumeType() {
    return volumeType;
  }

  /** Provisioned IOPS; 0 for the types that have none (standard, st1, sc1). */
  public int iops() {
    return iops;
  }

  /** MiB/s; 0 but for gp3. */
  public int throughput() {
    return throughput;
  }

  /** The snapshot it was made from, or null. */
  public String snapshotId() {
    return snapshotId;
  }

  public Instant createTime() {
    return createTime;
  }

  public String clientToken() {
    return clientToken;
  }

  String fingerprint() {
    return fingerprint;
  }

  public Map<String, String> tags() {
    return tags;
  }

  public State state() {
    return state;
  }

  /** The attachment, or null when the volume is attached to nothing. */
  public Attachment attachment() {
    return attachment;
  }

  void moveTo(State next) {
    state = next;
  }

  void attach(Attachment next) {
    attachment = next;
  }

  JsonObject toJson() {
    return new JsonObject().put("id", id).put("seq", seq).put("sizeGib", sizeGib).put("availabilityZone", availabilityZone)
        .put("volumeType", volumeType).put("iops", iops).put("throughput", throughput).put("snapshotId", snapshotId)
        .put("createTime", createTime.toString()).put("clientToken", clientToken).put("fingerprint", fingerprint)
        .put("tags", new JsonObject(new LinkedHashMap<>(tags))).put("state", state.ec2Name())
        .put("attachment", attachment == null ? null : attachment.toJson());
  }

  static Volume fromJson(JsonObject json) {
    Map<String, String> tags = new LinkedHashMap<>();
    json.getJsonObject("tags", new JsonObject()).forEach(e -> tags.put(e.getKey(), (String) e.getValue()));
    Volume volume = new Volume(json.getString("id"), json.getLong("seq"), json.getInteger("sizeGib"), json.getString("availabilityZone"),
        json.getString("volumeType"), json.getInteger("iops", 0), json.getInteger("throughput", 0),
        json.getString("snapshotId"), Instant.parse(json.getString("createTime")), json.getString("clientToken"),
        json.getString("fingerprint", ""), tags);
    volume.state = State.fromEc2Name(json.getString("state"));
    JsonObject attachment = json.getJsonObject("attachment");
    volume.attachment = attachment == null ? null : Attachment.fromJson(attachment);
    return volume;
  }
}
