package io.fleetvote.coordinator;

import io.fleetvote.common.Ids;
import io.fleetvote.common.cluster.ClusterOptions;
import io.fleetvote.common.msg.JsonFields;
import io.fleetvote.common.msg.MessageException;
import io.fleetvote.coordinator.scaling.ScalingOptions;
import io.vertx.core.json.JsonObject;

import java.util.Objects;

/**
 * What one coordinator serves and how: its deployment, where its HTTP API listens, how the live registry judges
 * heartbeats, and how it joins the cluster.
 */
public final class CoordinatorOptions {

  public static final String DEFAULT_DEPLOYMENT = "default";
  public static final String DEFAULT_HTTP_HOST = "127.0.0.1";
  public static final int DEFAULT_HTTP_PORT = 9100;
  /** Three of the agents' default gossip periods: one lost heartbeat does not drop an instance. */
  public static final long DEFAULT_EXPIRE_AFTER_MILLIS = 3000;
  public static final long DEFAULT_FUTURE_TOLERANCE_MILLIS = 5000;

  private String deployment = DEFAULT_DEPLOYMENT;
  private String httpHost = DEFAULT_HTTP_HOST;
  private int httpPort = DEFAULT_HTTP_PORT;
  private long expireAfterMillis = DEFAULT_EXPIRE_AFTER_MILLIS;
  private long futureToleranceMillis = DEFAULT_FUTURE_TOLERANCE_MILLIS;
  private ClusterOptions cluster = new ClusterOptions();
  private ScalingOptions scaling;
  private String usersFile;

  public CoordinatorOptions() {
  }

  public CoordinatorOptions(CoordinatorOptions other) {
    this(other.toJson());
  }

  /** Reads options from JSON; absent fields keep their defaults, bad ones throw {@link MessageException}. */
  public CoordinatorOptions(JsonObject json) {
    deployment = Objects.requireNonNullElse(JsonFields.optionalString(json, "deployment", 63, Ids.NAME),
        DEFAULT_DEPLOYMENT);
    httpHost = Objects.requireNonNullElse(JsonFields.optionalString(json, "httpHost", 15, Ids.IPV4), DEFAULT_HTTP_HOST);
    httpPort = JsonFields.intValue(json, "httpPort", 0, 65535, DEFAULT_HTTP_PORT);
    expireAfterMillis = JsonFields.longValue(json, "expireAfterMillis", 100, 600_000, DEFAULT_EXPIRE_AFTER_MILLIS);
    futureToleranceMillis = JsonFields.longValue(json, "futureToleranceMillis", 0, 600_000,
        DEFAULT_FUTURE_TOLERANCE_MILLIS);
    try {
      cluster = new ClusterOptions(JsonFields.object(json, "cluster"));
    } catch (MessageException e) {
      throw e.within("cluster");
    }
    usersFile = JsonFields.optionalString(json, "usersFile", 4096, null);
    if (json.getValue("scaling") != null) {
      try {
        scaling = new ScalingOptions(JsonFields.object(json, "scaling"));
      } catch (MessageException e) {
        throw e.within("scaling");
      }
    }
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("deployment", deployment)
        .put("httpHost", httpHost)
        .put("httpPort", httpPort)
        .put("expireAfterMillis", expireAfterMillis)
        .put("futureToleranceMillis", futureToleranceMillis)
        .put("cluster", cluster.toJson())
        .put("scaling", scaling == null ? null : scaling.toJson())
        .put("usersFile", usersFile);
  }

  /** The users file ({@link io.fleetvote.coordinator.auth.UsersFile}); null: the API is open (a trusted network). */
  public String getUsersFile() {
    return usersFile;
  }

  public CoordinatorOptions setUsersFile(String usersFile) {
    this.usersFile = usersFile;
    return this;
  }

  /** The Fleetvote deployment this coordinator runs; heartbeats of any other are rejected. */
  public String getDeployment() {
    return deployment;
  }

  public CoordinatorOptions setDeployment(String deployment) {
    this.deployment = deployment;
    return this;
  }

  /** The address the HTTP API binds to. */
  public String getHttpHost() {
    return httpHost;
  }

  public CoordinatorOptions setHttpHost(String httpHost) {
    this.httpHost = httpHost;
    return this;
  }

  /** The HTTP API's port; 0 picks a free one. */
  public int getHttpPort() {
    return httpPort;
  }

  public CoordinatorOptions setHttpPort(int httpPort) {
    this.httpPort = httpPort;
    return this;
  }

  /** How long after its last heartbeat an instance drops out of the live registry. */
  public long getExpireAfterMillis() {
    return expireAfterMillis;
  }

  public CoordinatorOptions setExpireAfterMillis(long expireAfterMillis) {
    this.expireAfterMillis = expireAfterMillis;
    return this;
  }

  /** How far ahead of this coordinator's clock a heartbeat may be stamped (clock skew) and still be accepted. */
  public long getFutureToleranceMillis() {
    return futureToleranceMillis;
  }

  public CoordinatorOptions setFutureToleranceMillis(long futureToleranceMillis) {
    this.futureToleranceMillis = futureToleranceMillis;
    return this;
  }

  public ClusterOptions getCluster() {
    return cluster;
  }

  public CoordinatorOptions setCluster(ClusterOptions cluster) {
    this.cluster = cluster;
    return this;
  }

  /** How this coordinator scales the deployment's groups; null for a coordinator that only keeps the registry. */
  public ScalingOptions getScaling() {
    return scaling;
  }

  public CoordinatorOptions setScaling(ScalingOptions scaling) {
    this.scaling = scaling;
    return this;
  }
}
