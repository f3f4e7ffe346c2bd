package io.fleetvote.sandbox;

import io.fleetvote.sandbox.process.RunningProcess;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One sandbox instance: what EC2 would say about it, plus the local facts behind it (its ports, its metadata
 * endpoint, its processes). Touched only on the sandbox verticle's event loop.
 */
public final class Instance {

  private final String id;
  private final long seq;
  private final String imageId;
  private final String reservationId;
  private final int launchIndex;
  private final String instanceType;
  private final String availabilityZone;
  private final String privateIp;
  private Instant launchTime;
  private final String clientToken;
  private final String keyName;
  private final String subnetId;
  private final List<String> securityGroupIds;
  private final String userData;
  private final Map<String, String> tags;
  private final Map<String, Integer> ports;
  private final long bootDelayMillis;
  private int imdsPort;
  private InstanceState state;
  private Instant stateSince;
  private Instant runningAt;
  private String stateReason;
  private boolean stopForced;
  private final List<RunningProcess> processes = new ArrayList<>();
  /** The boot or halt under way (or done); the next transition chains on it. Not persisted. */
  private Future<Void> activity = Future.succeededFuture();

  Instance(String id, long seq, String imageId, String reservationId, int launchIndex, String instanceType,
           String availabilityZone, String privateIp, Instant launchTime, String clientToken, String keyName,
           String subnetId, List<String> securityGroupIds, String userData, Map<String, String> tags,
           Map<String, Integer> ports, long bootDelayMillis) {
    this.id = id;
    this.seq = seq;
    this.imageId = imageId;
    this.reservationId = reservationId;
    this.launchIndex = launchIndex;
    this.instanceType = instanceType;
    this.availabilityZone = availabilityZone;
    this.privateIp = privateIp;
    this.launchTime = launchTime;
    this.clientToken = clientToken;
    this.keyName = keyName;
    this.subnetId = subnetId;
    this.securityGroupIds = List.copyOf(securityGroupIds);
    this.userData = userData;
    this.tags = new LinkedHashMap<>(tags);
    this.ports = new LinkedHashMap<>(ports);
    this.bootDelayMillis = bootDelayMillis;
    this.state = InstanceState.PENDING;
    this.stateSince = launchTime;
  }

  public String id() {
    return id;
  }

  public long seq() {
    return seq;
  }

  public String imageId() {
    return imageId;
  }

  public String reservationId() {
    return reservationId;
  }

  public int launchIndex() {
    return launchIndex;
  }

  public String instanceType() {
    return instanceType;
  }

  public String availabilityZone() {
    return availabilityZone;
  }

  public String privateIp() {
    return privateIp;
  }

  public String privateDnsName() {
    return "ip-" + privateIp.replace('.', '-') + ".ec2.internal";
  }

  /** When the instance was launched, or last started again (EC2 moves it at each StartInstances). */
  public Instant launchTime() {
    return launchTime;
  }

  public String clientToken() {
    return clientToken;
  }

  public String keyName() {
    return keyName;
  }

  public String subnetId() {
    return subnetId;
  }

  public List<String> securityGroupIds() {
    return securityGroupIds;
  }

  /** The user-data as the caller sent it (base64); null when none. */
  public String userData() {
    return userData;
  }

  /** Live view: CreateTags changes it, instance metadata reads it. */
  public Map<String, String> tags() {
    return tags;
  }

  public Map<String, Integer> ports() {
    return Map.copyOf(ports);
  }

  public long bootDelayMillis() {
    return bootDelayMillis;
  }

  public int imdsPort() {
    return imdsPort;
  }

  void imdsPort(int port) {
    this.imdsPort = port;
  }

  public InstanceState state() {
    return state;
  }

  public Instant stateSince() {
    return stateSince;
  }

  /** When the instance last reached running; null before. */
  public Instant runningAt() {
    return runningAt;
  }

  /** EC2's {@code stateTransitionReason}; null when there is none. */
  public String stateReason() {
    return stateReason;
  }

  /**
   * Whether the stop under way was asked with Force: its processes are killed at once (SIGKILL), a restarted sandbox
   * finishing it included.
   */
  public boolean stopForced() {
    return stopForced;
  }

  void forceStop() {
    this.stopForced = true;
  }

  void moveTo(InstanceState next, Instant at, String reason) {
    this.state = next;
    this.stateSince = at;
    if (next == InstanceState.PENDING) {
      this.launchTime = at;
    }
    if (next == InstanceState.RUNNING) {
      this.runningAt = at;
    }
    if (next != InstanceState.STOPPING) {
      this.stopForced = false;
    }
    if (reason != null) {
      this.stateReason = reason;
    }
  }

  public List<RunningProcess> processes() {
    return processes;
  }

  Future<Void> activity() {
    return activity;
  }

  void activity(Future<Void> next) {
    this.activity = next;
  }

  JsonObject toJson() {
    JsonObject json = new JsonObject()
        .put("id", id).put("seq", seq).put("imageId", imageId).put("reservationId", reservationId)
        .put("launchIndex", launchIndex).put("instanceType", instanceType).put("availabilityZone", availabilityZone)
        .put("privateIp", privateIp).put("launchTime", launchTime.toString()).put("clientToken", clientToken)
        .put("keyName", keyName).put("subnetId", subnetId).put("securityGroupIds", new JsonArray(securityGroupIds))
        .put("userData", userData).put("tags", new JsonObject(new LinkedHashMap<>(tags)))
        .put("ports", new JsonObject(new LinkedHashMap<>(ports))).put("bootDelayMillis", bootDelayMillis)
        .put("imdsPort", imdsPort).put("state", state.ec2Name()).put("stateSince", stateSince.toString())
        .put("runningAt", runningAt == null ? null : runningAt.toString()).put("stateReason", stateReason)
        .put("stopForced", stopForced);
    JsonArray procs = new JsonArray();
    processes.forEach(p -> procs.add(p.toJson()));
    return json.put("processes", procs);
  }

  @SuppressWarnings("unchecked")
  static Instance fromJson(JsonObject json) {
    Map<String, String> tags = new LinkedHashMap<>();
    json.getJsonObject("tags").forEach(e -> tags.put(e.getKey(), (String) e.getValue()));
    Map<String, Integer> ports = new LinkedHashMap<>();
    json.getJsonObject("ports").forEach(e -> ports.put(e.getKey(), ((Number) e.getValue()).intValue()));
    Instance instance = new Instance(json.getString("id"), json.getLong("seq"), json.getString("imageId"),
        json.getString("reservationId"), json.getInteger("launchIndex"), json.getString("instanceType"),
        json.getString("availabilityZone"), json.getString("privateIp"), Instant.parse(json.getString("launchTime")),
        json.getString("clientToken"), json.getString("keyName"), json.getString("subnetId"),
        (List<String>) json.getJsonArray("securityGroupIds").getList(), json.getString("userData"), tags, ports,
        json.getLong("bootDelayMillis"));
    instance.imdsPort = json.getInteger("imdsPort");
    instance.state = InstanceState.fromEc2Name(json.getString("state"));
    instance.stateSince = Instant.parse(json.getString("stateSince"));
    String running = json.getString("runningAt");
    instance.runningAt = running == null ? null : Instant.parse(running);
    instance.stateReason = json.getString("stateReason");
    instance.stopForced = json.getBoolean("stopForced", false);
    json.getJsonArray("processes").forEach(p -> instance.processes.add(RunningProcess.fromJson((JsonObject) p)));
    return instance;
  }
}
