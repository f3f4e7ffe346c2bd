package io.fleetvote.coordinator.fleet;

import io.fleetvote.common.Ids;
import io.fleetvote.common.msg.JsonFields;
import io.fleetvote.common.msg.MessageException;
import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.regex.Pattern;

/**
 * How {@link Ec2Fleet} reaches the cloud: which deployment it acts for, where EC2 is (AWS by default, the sandbox when
 * {@code endpoint} is set), and how long and how fast it retries what EC2 refuses for a while.
 */
public final class FleetOptions {

  /** The region used with an {@code endpoint} (the sandbox) when none is set. */
  public static final String DEFAULT_ENDPOINT_REGION = "us-east-1";
  /** Five minutes: longer than throttling and most capacity shortages last, short enough for a human to notice. */
  public static final long DEFAULT_RETRY_WINDOW_MILLIS = 300_000;
  public static final long DEFAULT_FIRST_RETRY_DELAY_MILLIS = 1000;
  public static final long DEFAULT_MAX_RETRY_DELAY_MILLIS = 30_000;
  public static final long DEFAULT_CALL_TIMEOUT_MILLIS = 30_000;

  private static final Pattern REGION = Pattern.compile("[a-z]{2}(?:-[a-z]+)+-\\d{1,2}");
  private static final long DAY_MILLIS = 86_400_000;

  private String deployment;
  private URI endpoint;
  private String region;
  private long retryWindowMillis = DEFAULT_RETRY_WINDOW_MILLIS;
  private long firstRetryDelayMillis = DEFAULT_FIRST_RETRY_DELAY_MILLIS;
  private long maxRetryDelayMillis = DEFAULT_MAX_RETRY_DELAY_MILLIS;
  private long callTimeoutMillis = DEFAULT_CALL_TIMEOUT_MILLIS;

  /** Defaults for everything but the deployment, which must be set before {@link Ec2Fleet#create}. */
  public FleetOptions() {
  }

  /** A validated copy: throws {@link MessageException} when {@code other} was set to something invalid. */
  public FleetOptions(FleetOptions other) {
    this(other.toJson());
  }

  /**
   * Reads options from JSON; absent fields keep their defaults, bad ones throw {@link MessageException}. The
   * deployment may be absent here when the options are part of a larger configuration that names it once (the
   * coordinator's); {@link Ec2Fleet#create} requires it.
   */
  public FleetOptions(JsonObject json) {
    deployment = JsonFields.optionalString(json, "deployment", 63, Ids.NAME);
    endpoint = endpoint(JsonFields.optionalString(json, "endpoint", 2048, null));
    region = JsonFields.optionalString(json, "region", 32, REGION);
    retryWindowMillis = JsonFields.longValue(json, "retryWindowMillis", 0, DAY_MILLIS, DEFAULT_RETRY_WINDOW_MILLIS);
    firstRetryDelayMillis = JsonFields.longValue(json, "firstRetryDelayMillis", 1, 3_600_000,
        DEFAULT_FIRST_RETRY_DELAY_MILLIS);
    maxRetryDelayMillis = JsonFields.longValue(json, "maxRetryDelayMillis", 1, 3_600_000,
        DEFAULT_MAX_RETRY_DELAY_MILLIS);
    if (maxRetryDelayMillis < firstRetryDelayMillis) {
      throw new MessageException("maxRetryDelayMillis", maxRetryDelayMillis + " is below firstRetryDelayMillis ("
          + firstRetryDelayMillis + ")");
    }
    callTimeoutMillis = JsonFields.longValue(json, "callTimeoutMillis", 100, 600_000, DEFAULT_CALL_TIMEOUT_MILLIS);
  }

  private static URI endpoint(String text) {
    if (text == null) {
      return null;
    }
    try {
      URI uri = new URI(text);
      if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null) {
        throw new MessageException("endpoint", "'" + text + "' is not an http(s) URL with a host");
      }
      return uri;
    } catch (URISyntaxException e) {
      throw new MessageException("endpoint", "'" + text + "' is not a URL: " + e.getReason());
    }
  }

  /** The JSON form; {@code deployment}, {@code endpoint} and {@code region} are left out when not set. */
  public JsonObject toJson() {
    JsonObject json = new JsonObject();
    if (deployment != null) {
      json.put("deployment", deployment);
    }
    if (endpoint != null) {
      json.put("endpoint", endpoint.toString());
    }
    if (region != null) {
      json.put("region", region);
    }
    return json
        .put("retryWindowMillis", retryWindowMillis)
        .put("firstRetryDelayMillis", firstRetryDelayMillis)
        .put("maxRetryDelayMillis", maxRetryDelayMillis)
        .put("callTimeoutMillis", callTimeoutMillis);
  }

  /** The deployment (tag {@code fleetvote:deployment}) whose instances the fleet acts on; required to create one. */
  public String getDeployment() {
    return deployment;
  }

  public FleetOptions setDeployment(String deployment) {
    this.deployment = deployment;
    return this;
  }

  /**
   * Where the EC2 API is, when not AWS's own endpoint: the sandbox. With an endpoint the client signs with fixed
   * credentials; without one it uses the SDK's default credentials and region chains. Null for AWS.
   */
  public URI getEndpoint() {
    return endpoint;
  }

  public FleetOptions setEndpoint(URI endpoint) {
    this.endpoint = endpoint;
    return this;
  }

  /**
   * The region; null for the default: {@value #DEFAULT_ENDPOINT_REGION} with an endpoint, the SDK's region chain
   * (environment, profile, instance metadata) without one.
   */
  public String getRegion() {
    return region;
  }

  public FleetOptions setRegion(String region) {
    this.region = region;
    return this;
  }

  /**
   * How long after an action's first attempt throttling, capacity and server errors are still retried; no retry
   * starts later. 0 means no retries beyond the SDK's own.
   */
  public long getRetryWindowMillis() {
    return retryWindowMillis;
  }

  public FleetOptions setRetryWindowMillis(long retryWindowMillis) {
    this.retryWindowMillis = retryWindowMillis;
    return this;
  }

  /** The wait after the first failed attempt; later waits double up to {@link #getMaxRetryDelayMillis()}. */
  public long getFirstRetryDelayMillis() {
    return firstRetryDelayMillis;
  }

  public FleetOptions setFirstRetryDelayMillis(long firstRetryDelayMillis) {
    this.firstRetryDelayMillis = firstRetryDelayMillis;
    return this;
  }

  /** The longest wait between two attempts. */
  public long getMaxRetryDelayMillis() {
    return maxRetryDelayMillis;
  }

  public FleetOptions setMaxRetryDelayMillis(long maxRetryDelayMillis) {
    this.maxRetryDelayMillis = maxRetryDelayMillis;
    return this;
  }

  /** How long one HTTP attempt may take (the SDK's apiCallAttemptTimeout). */
  public long getCallTimeoutMillis() {
    return callTimeoutMillis;
  }

  public FleetOptions setCallTimeoutMillis(long callTimeoutMillis) {
    this.callTimeoutMillis = callTimeoutMillis;
    return this;
  }
}
