package io.fleetvote.common.imds;

import io.fleetvote.common.Ids;
import io.fleetvote.common.LogSafe;
import io.fleetvote.common.msg.MessageException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * An IMDSv2 client: a session token first, then plain-text reads. It finds the endpoint the way the AWS SDK
 * does ({@code aws.ec2MetadataServiceEndpoint}, then {@code AWS_EC2_METADATA_SERVICE_ENDPOINT}, then
 * {@code http://169.254.169.254}), so the sandbox only has to set that variable for an instance's processes.
 */
public final class InstanceMetadataClient {

  public static final String ENDPOINT_PROPERTY = "aws.ec2MetadataServiceEndpoint";
  public static final String ENDPOINT_ENV = "AWS_EC2_METADATA_SERVICE_ENDPOINT";
  public static final String DEFAULT_ENDPOINT = "http://169.254.169.254";

  static final String TOKEN_TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds";
  static final String TOKEN_HEADER = "X-aws-ec2-metadata-token";
  private static final int TOKEN_TTL_SECONDS = 21600;
  /**
   * Connections to the service at once: an identity is ten small reads, and the sandbox serves thousands of instances
   * from one process, whose descriptors their agents' connections would use up (the default is five each).
   */
  private static final int MAX_CONNECTIONS = 2;
  /** How long one read keeps trying once the service has answered before. */
  private static final Duration READ_WINDOW = Duration.ofSeconds(3);
  /** How long the first contact keeps trying: at boot the service may not be there yet (or be restarting). */
  public static final Duration DEFAULT_STARTUP_WINDOW = Duration.ofSeconds(30);
  private static final long FIRST_RETRY_DELAY_MS = 100;
  private static final long MAX_RETRY_DELAY_MS = 2000;
  private static final Pattern ZONE = Pattern.compile("[a-z]{2}(-[a-z]+)+-\\d[a-z]");
  private static final Pattern REGION = Pattern.compile("[a-z]{2}(-[a-z]+)+-\\d");
  private static final Pattern WORD = Pattern.compile("[A-Za-z0-9._-]{1,64}");

  private final Vertx vertx;
  private final WebClient client;
  private final URI endpoint;
  private final Duration startupWindow;
  private String token;
  private long tokenExpiresAt;

  public InstanceMetadataClient(Vertx vertx, URI endpoint) {
    this(vertx, endpoint, DEFAULT_STARTUP_WINDOW);
  }

  /** A client whose first contact keeps trying for {@code startupWindow} before it gives up. */
  public InstanceMetadataClient(Vertx vertx, URI endpoint, Duration startupWindow) {
    this.vertx = vertx;
    this.endpoint = endpoint;
    this.startupWindow = startupWindow;
    this.client = WebClient.create(vertx, new WebClientOptions()
        .setDefaultHost(endpoint.getHost())
        .setDefaultPort(endpoint.getPort() < 0 ? 80 : endpoint.getPort())
        .setConnectTimeout(1000)
        .setIdleTimeout(5), new PoolOptions().setHttp1MaxSize(MAX_CONNECTIONS));
  }

  /** The endpoint from the SDK's system property or environment variable, else EC2's link-local address. */
  public static URI defaultEndpoint() {
    String configured = System.getProperty(ENDPOINT_PROPERTY, System.getenv(ENDPOINT_ENV));
    return URI.create(configured == null || configured.isBlank() ? DEFAULT_ENDPOINT : configured.trim());
  }

  public URI endpoint() {
    return endpoint;
  }

  /** Reads the whole identity; fails with a message naming the metadata path that was missing or malformed. */
  public Future<InstanceIdentity> identity() {
    return withRetries(this::token, startupWindow).compose(t -> Future.all(List.of(
            required("meta-data/instance-id", Ids.INSTANCE_ID),
            required("meta-data/ami-id", Ids.IMAGE_ID),
            required("meta-data/instance-type", WORD),
            required("meta-data/local-ipv4", Ids.IPV4),
            required("meta-data/placement/availability-zone", ZONE),
            required("meta-data/placement/region", REGION),
            tags(),
            get("user-data")))
        .map(all -> new InstanceIdentity(all.resultAt(0), all.resultAt(1), all.resultAt(2), all.resultAt(3),
            all.resultAt(4), all.resultAt(5), all.resultAt(6), orEmpty(all.resultAt(7)))));
  }

  /**
   * The instance identity document and the cloud's signature of it, as an agent presents them to prove which
   * instance it runs on ({@link IdentityVerifier} checks them); fails when either is missing.
   */
  public Future<SignedIdentity> signedIdentity() {
    return Future.all(get("dynamic/instance-identity/document"), get("dynamic/instance-identity/signature"))
        .compose(both -> both.resultAt(0) == null || both.resultAt(1) == null
            ? Future.failedFuture(new MessageException("dynamic/instance-identity", "the instance metadata has no "
                + (both.resultAt(0) == null ? "identity document" : "signature of its identity document")))
            : Future.succeededFuture(new SignedIdentity(both.resultAt(0), both.resultAt(1))));
  }

  /** An instance identity document, exactly as served, and the cloud's base64 signature of its bytes. */
  public record SignedIdentity(String document, String signature) {
  }

  /** One metadata path under {@code /latest/}; null when the service answers 404. */
  public Future<String> get(String path) {
    return withRetries(() -> token().compose(t -> client.request(HttpMethod.GET, "/latest/" + path)
        .putHeader(TOKEN_HEADER, t)
        .timeout(2000)
        .send()
        .compose(response -> body(path, response))), READ_WINDOW);
  }

  public void close() {
    client.close();
  }

  private Future<String> required(String path, Pattern shape) {
    return get(path).map(value -> {
      if (value == null) {
        throw new MessageException(path, "is missing from instance metadata at " + endpoint);
      }
      String trimmed = value.trim();
      if (!shape.matcher(trimmed).matches()) {
        throw new MessageException(path, "'" + LogSafe.printable(trimmed, 40) + "' from instance metadata is malformed");
      }
      return trimmed;
    });
  }

  private Future<Map<String, String>> tags() {
    return get("meta-data/tags/instance").compose(keys -> {
      if (keys == null || keys.isBlank()) {
        return Future.succeededFuture(Map.of());
      }
      List<String> names = keys.lines().map(String::trim).filter(k -> !k.isEmpty()).toList();
      List<Future<String>> values = new ArrayList<>();
      for (String name : names) {
        values.add(get("meta-data/tags/instance/" + name));
      }
      return Future.all(values).map(all -> {
        Map<String, String> tags = new LinkedHashMap<>();
        for (int i = 0; i < names.size(); i++) {
          tags.put(names.get(i), orEmpty(all.resultAt(i)));
        }
        return tags;
      });
    });
  }

  private Future<String> token() {
    if (token != null && System.currentTimeMillis() < tokenExpiresAt) {
      return Future.succeededFuture(token);
    }
    return client.request(HttpMethod.PUT, "/latest/api/token")
        .putHeader(TOKEN_TTL_HEADER, Integer.toString(TOKEN_TTL_SECONDS))
        .timeout(2000)
        .send()
        .compose(response -> {
          if (response.statusCode() != 200) {
            return Future.failedFuture(new MessageException("api/token",
                "instance metadata at " + endpoint + " answered " + response.statusCode()));
          }
          token = response.bodyAsString("UTF-8");
          tokenExpiresAt = System.currentTimeMillis() + (TOKEN_TTL_SECONDS - 60) * 1000L;
          return Future.succeededFuture(token);
        });
  }

  private Future<String> body(String path, HttpResponse<Buffer> response) {
    switch (response.statusCode()) {
      case 200:
        Buffer body = response.body();
        return Future.succeededFuture(body == null ? "" : body.toString("UTF-8"));
      case 404:
        return Future.succeededFuture(null);
      case 401:
        token = null;
        return Future.failedFuture(new MessageException(path, "instance metadata refused the session token (401)"));
      default:
        return Future.failedFuture(new MessageException(path,
            "instance metadata at " + endpoint + " answered " + response.statusCode()));
    }
  }

  /** The service may be briefly away (booting, a sandbox restart): every failure is retried, backing off, for a while. */
  private <T> Future<T> withRetries(Supplier<Future<T>> call, Duration window) {
    return attempt(call, System.nanoTime() + window.toNanos(), FIRST_RETRY_DELAY_MS);
  }

  private <T> Future<T> attempt(Supplier<Future<T>> call, long deadline, long delayMillis) {
    return call.get().recover(err -> {
      if (System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(delayMillis) > deadline) {
        return Future.failedFuture(err);
      }
      return vertx.timer(delayMillis)
          .compose(x -> attempt(call, deadline, Math.min(delayMillis * 2, MAX_RETRY_DELAY_MS)));
    });
  }

  private static String orEmpty(String value) {
    return value == null ? "" : value;
  }
}
