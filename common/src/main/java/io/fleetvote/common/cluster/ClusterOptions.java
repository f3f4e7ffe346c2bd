package io.fleetvote.common.cluster;

import io.fleetvote.common.msg.JsonFields;
import io.fleetvote.common.msg.MessageException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * How a Fleetvote process joins its cluster: Hazelcast membership (TCP-IP members or AWS discovery by tag,
 * never multicast) and the event bus. Defaults suit one machine; failure detection is tuned down from
 * Hazelcast's 60 s (see {@code reference/vertx-spike-2.md}).
 */
public final class ClusterOptions {

  public static final String DEFAULT_CLUSTER_NAME = "fleetvote";
  public static final String DEFAULT_HOST = "127.0.0.1";
  public static final int DEFAULT_PORT = 5701;
  public static final boolean DEFAULT_PORT_AUTO_INCREMENT = true;
  public static final int DEFAULT_EVENT_BUS_PORT = 0;
  public static final boolean DEFAULT_AWS_DISCOVERY = false;
  public static final String DEFAULT_AWS_TAG_KEY = "fleetvote:deployment";
  public static final int DEFAULT_HEARTBEAT_INTERVAL_SECONDS = 1;
  /**
   * 8 s, not 5: when Hazelcast's master froze, the next member's mastership claim could outlast the third member's
   * heartbeat timeout on a busy machine, and the survivors split into two clusters of one (no quorum) that Hazelcast
   * did not merge while the frozen member kept its sockets open. {@code ./fleetvote bench cluster-freeze} (3 busy
   * loops on 2 cores), before {@link ClusterBootstrap}'s output-thread settings: 4 splits in 8 trials at 5 s, 1 in 6
   * at 8 s; with them, none in 16 at 5 s nor in 8 at 8 s. A killed member is removed at once, by its closed
   * connections, whatever this timeout.
   */
  public static final int DEFAULT_MAX_NO_HEARTBEAT_SECONDS = 8;
  public static final int DEFAULT_MERGE_DELAY_SECONDS = 5;

  private static final Pattern CLUSTER_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");
  private static final Pattern MEMBER = Pattern.compile("[A-Za-z0-9.:\\[\\]-]{1,253}(:\\d{1,5})?");

  private String clusterName = DEFAULT_CLUSTER_NAME;
  private String host = DEFAULT_HOST;
  private int port = DEFAULT_PORT;
  private boolean portAutoIncrement = DEFAULT_PORT_AUTO_INCREMENT;
  private int eventBusPort = DEFAULT_EVENT_BUS_PORT;
  private List<String> members = new ArrayList<>();
  private boolean awsDiscovery = DEFAULT_AWS_DISCOVERY;
  private String awsTagKey = DEFAULT_AWS_TAG_KEY;
  private String awsTagValue;
  private String awsRegion;
  private int heartbeatIntervalSeconds = DEFAULT_HEARTBEAT_INTERVAL_SECONDS;
  private int maxNoHeartbeatSeconds = DEFAULT_MAX_NO_HEARTBEAT_SECONDS;
  private int mergeDelaySeconds = DEFAULT_MERGE_DELAY_SECONDS;
  private String keyStore;

  public ClusterOptions() {
  }

  public ClusterOptions(ClusterOptions other) {
    this(other.toJson());
  }

  /** Reads options from JSON; absent fields keep their defaults, bad ones throw {@link MessageException}. */
  public ClusterOptions(JsonObject json) {
    clusterName = Objects.requireNonNullElse(JsonFields.optionalString(json, "clusterName", 63, CLUSTER_NAME),
        DEFAULT_CLUSTER_NAME);
    host = Objects.requireNonNullElse(JsonFields.optionalString(json, "host", 253, MEMBER), DEFAULT_HOST);
    port = JsonFields.intValue(json, "port", 1, 65535, DEFAULT_PORT);
    portAutoIncrement = JsonFields.booleanValue(json, "portAutoIncrement", DEFAULT_PORT_AUTO_INCREMENT);
    eventBusPort = JsonFields.intValue(json, "eventBusPort", 0, 65535, DEFAULT_EVENT_BUS_PORT);
    members = new ArrayList<>(JsonFields.strings(json, "members", 64, 260, MEMBER));
    awsDiscovery = JsonFields.booleanValue(json, "awsDiscovery", DEFAULT_AWS_DISCOVERY);
    awsTagKey = Objects.requireNonNullElse(JsonFields.optionalString(json, "awsTagKey", 128, null), DEFAULT_AWS_TAG_KEY);
    awsTagValue = JsonFields.optionalString(json, "awsTagValue", 256, null);
    awsRegion = JsonFields.optionalString(json, "awsRegion", 32, Pattern.compile("[a-z]{2}(-[a-z]+)+-\\d"));
    heartbeatIntervalSeconds = JsonFields.intValue(json, "heartbeatIntervalSeconds", 1, 60, DEFAULT_HEARTBEAT_INTERVAL_SECONDS);
    maxNoHeartbeatSeconds = JsonFields.intValue(json, "maxNoHeartbeatSeconds", 2, 600, DEFAULT_MAX_NO_HEARTBEAT_SECONDS);
    mergeDelaySeconds = JsonFields.intValue(json, "mergeDelaySeconds", 1, 600, DEFAULT_MERGE_DELAY_SECONDS);
    keyStore = JsonFields.optionalString(json, "keyStore", 4096, null);
    validate();
  }

  /** Checks the rules that span fields; called by the JSON constructor and by the bootstrap. */
  public ClusterOptions validate() {
    if (maxNoHeartbeatSeconds <= heartbeatIntervalSeconds) {
      throw new MessageException("maxNoHeartbeatSeconds", "must be greater than heartbeatIntervalSeconds ("
          + heartbeatIntervalSeconds + ")");
    }
    if (awsDiscovery && (awsTagValue == null || awsTagValue.isEmpty())) {
      throw new MessageException("awsTagValue", "is required when awsDiscovery is on");
    }
    if (awsDiscovery && !members.isEmpty()) {
      throw new MessageException("members", "must be empty when awsDiscovery is on (one join method at a time)");
    }
    return this;
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject()
        .put("clusterName", clusterName)
        .put("host", host)
        .put("port", port)
        .put("portAutoIncrement", portAutoIncrement)
        .put("eventBusPort", eventBusPort)
        .put("members", new JsonArray(new ArrayList<>(members)))
        .put("awsDiscovery", awsDiscovery)
        .put("awsTagKey", awsTagKey)
        .put("heartbeatIntervalSeconds", heartbeatIntervalSeconds)
        .put("maxNoHeartbeatSeconds", maxNoHeartbeatSeconds)
        .put("mergeDelaySeconds", mergeDelaySeconds);
    if (awsTagValue != null) {
      json.put("awsTagValue", awsTagValue);
    }
    if (awsRegion != null) {
      json.put("awsRegion", awsRegion);
    }
    if (keyStore != null) {
      json.put("keyStore", keyStore);
    }
    return json;
  }

  /**
   * The cluster key ({@link io.fleetvote.common.tls.ClusterKey}): with it the event bus is TLS with client
   * certificates; without it, plain TCP (a test's own cluster).
   */
  public String getKeyStore() {
    return keyStore;
  }

  public ClusterOptions setKeyStore(String keyStore) {
    this.keyStore = keyStore;
    return this;
  }

  public String getClusterName() {
    return clusterName;
  }

  public ClusterOptions setClusterName(String clusterName) {
    this.clusterName = clusterName;
    return this;
  }

  /** The address Hazelcast and the event bus bind to and advertise (the instance's private IP). */
  public String getHost() {
    return host;
  }

  public ClusterOptions setHost(String host) {
    this.host = host;
    return this;
  }

  /** Hazelcast's member port; with auto-increment, the first free one from here. */
  public int getPort() {
    return port;
  }

  public ClusterOptions setPort(int port) {
    this.port = port;
    return this;
  }

  public boolean isPortAutoIncrement() {
    return portAutoIncrement;
  }

  public ClusterOptions setPortAutoIncrement(boolean portAutoIncrement) {
    this.portAutoIncrement = portAutoIncrement;
    return this;
  }

  /** The event bus's TCP port; 0 picks a free one (it is advertised through the cluster). */
  public int getEventBusPort() {
    return eventBusPort;
  }

  public ClusterOptions setEventBusPort(int eventBusPort) {
    this.eventBusPort = eventBusPort;
    return this;
  }

  /** TCP-IP join: {@code host} or {@code host:port} of members to contact. */
  public List<String> getMembers() {
    return List.copyOf(members);
  }

  public ClusterOptions setMembers(List<String> members) {
    this.members = new ArrayList<>(members);
    return this;
  }

  public ClusterOptions addMember(String member) {
    this.members.add(member);
    return this;
  }

  /** On EC2: discover members through the EC2 API by tag instead of a member list. */
  public boolean isAwsDiscovery() {
    return awsDiscovery;
  }

  public ClusterOptions setAwsDiscovery(boolean awsDiscovery) {
    this.awsDiscovery = awsDiscovery;
    return this;
  }

  public String getAwsTagKey() {
    return awsTagKey;
  }

  public ClusterOptions setAwsTagKey(String awsTagKey) {
    this.awsTagKey = awsTagKey;
    return this;
  }

  public String getAwsTagValue() {
    return awsTagValue;
  }

  public ClusterOptions setAwsTagValue(String awsTagValue) {
    this.awsTagValue = awsTagValue;
    return this;
  }

  public String getAwsRegion() {
    return awsRegion;
  }

  public ClusterOptions setAwsRegion(String awsRegion) {
    this.awsRegion = awsRegion;
    return this;
  }

  public int getHeartbeatIntervalSeconds() {
    return heartbeatIntervalSeconds;
  }

  public ClusterOptions setHeartbeatIntervalSeconds(int heartbeatIntervalSeconds) {
    this.heartbeatIntervalSeconds = heartbeatIntervalSeconds;
    return this;
  }

  /** How long a silent member stays in the cluster; bounds leader failover for a frozen or cut-off member. */
  public int getMaxNoHeartbeatSeconds() {
    return maxNoHeartbeatSeconds;
  }

  public ClusterOptions setMaxNoHeartbeatSeconds(int maxNoHeartbeatSeconds) {
    this.maxNoHeartbeatSeconds = maxNoHeartbeatSeconds;
    return this;
  }

  /** How soon a healed partition merges (Hazelcast's default is 300 s). */
  public int getMergeDelaySeconds() {
    return mergeDelaySeconds;
  }

  public ClusterOptions setMergeDelaySeconds(int mergeDelaySeconds) {
    this.mergeDelaySeconds = mergeDelaySeconds;
    return this;
  }
}
