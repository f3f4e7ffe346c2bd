package io.fleetvote.sandbox.imds;

import io.fleetvote.sandbox.Instance;
import io.fleetvote.sandbox.Volume;
import io.fleetvote.sandbox.identity.IdentitySigner;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * One instance-metadata endpoint per instance, in the IMDSv2 shape ({@code PUT /latest/api/token}, then GETs with
 * the token), on its own loopback port: the instance's processes find it through
 * {@code AWS_EC2_METADATA_SERVICE_ENDPOINT}, as the AWS SDK does. Answers are read live from the instance.
 */
public final class MetadataServers {

  static final String TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds";
  static final String TOKEN_HEADER = "X-aws-ec2-metadata-token";
  private static final int MAX_TTL_SECONDS = 21600;
  private static final String HOST = "127.0.0.1";
  /**
   * An idle connection is closed after this: an agent reads its metadata at start and seldom after, and 5,000
   * instances' endpoints in one process must not hold a descriptor for each connection a client left open.
   */
  private static final int IDLE_SECONDS = 5;
  /** EC2 shows in metadata only the tag keys made of these characters. */
  private static final String ROOT_DEVICE = "/dev/xvda";
  private static final Pattern EBS_NAME = Pattern.compile("ebs([1-9][0-9]{0,2})");
  private static final Pattern METADATA_TAG_KEY = Pattern.compile("[A-Za-z0-9+=.,_:@-]+");

  private final Vertx vertx;
  private final Function<String, Optional<Instance>> instances;
  private final Function<String, List<Volume>> volumes;
  private final String region;
  private final String accountId;
  private final IdentitySigner signer;
  private final Map<String, HttpServer> servers = new HashMap<>();
  private final Map<String, Map<String, Long>> tokens = new HashMap<>();
  /**
   * Each instance's identity document and its signature, made on a worker thread when its endpoint opens (else at the
   * first request): EC2 serves one document for an instance's life, and an RSA signature costs milliseconds of the
   * one event loop: a thousand agents attesting at once starved every endpoint, and 5,000 fetching their identity as
   * they came up timed out for seconds. Made again should the document change.
   */
  private final Map<String, Map.Entry<String, String>> signed = new HashMap<>();
  private final SecureRandom random = new SecureRandom();

  /** @param volumes the volumes attached to an instance, in the order they were attached */
  public MetadataServers(Vertx vertx, Function<String, Optional<Instance>> instances,
                         Function<String, List<Volume>> volumes, String region, String accountId,
                         IdentitySigner signer) {
    this.volumes = volumes;
    this.signer = signer;
    this.vertx = vertx;
    this.instances = instances;
    this.region = region;
    this.accountId = accountId;
  }

  /** Opens the endpoint of an instance on {@code port} (0: any free port); completes with the bound port. */
  public Future<Integer> open(String instanceId, int port) {
    HttpServer existing = servers.get(instanceId);
    if (existing != null) {
      return Future.succeededFuture(existing.actualPort());
    }
    HttpServer server = vertx.createHttpServer(new HttpServerOptions().setHost(HOST).setPort(port)
        .setIdleTimeout(IDLE_SECONDS));
    server.requestHandler(request -> handle(instanceId, request));
    return server.listen().map(bound -> {
      servers.put(instanceId, bound);
      presign(instanceId);
      return bound.actualPort();
    });
  }

  /** Signs the instance's identity document off the event loop, ahead of its agent's first request. */
  private void presign(String instanceId) {
    Optional<Instance> instance = instances.apply(instanceId);
    if (instance.isEmpty()) {
      return;
    }
    String document = identityDocument(instance.get());
    vertx.executeBlocking(() -> signer.sign(document), false).onSuccess(signature -> {
      if (servers.containsKey(instanceId) && !signed.containsKey(instanceId)) {
        signed.put(instanceId, Map.entry(document, signature));
      }
    });
  }

  public Future<Void> close(String instanceId) {
    tokens.remove(instanceId);
    signed.remove(instanceId);
    HttpServer server = servers.remove(instanceId);
    return server == null ? Future.succeededFuture() : server.close();
  }

  private void handle(String instanceId, HttpServerRequest request) {
    Optional<Instance> instance = instances.apply(instanceId);
    if (instance.isEmpty()) {
      reply(request, 404, "Not Found");
      return;
    }
    String path = request.path();
    if (path.equals("/latest/api/token")) {
      if (request.method() != HttpMethod.PUT) {
        reply(request, 405, "Method Not Allowed");
      } else {
        issueToken(instanceId, request);
      }
      return;
    }
    if (request.method() != HttpMethod.GET && request.method() != HttpMethod.HEAD) {
      reply(request, 405, "Method Not Allowed");
      return;
    }
    if (!validToken(instanceId, request.getHeader(TOKEN_HEADER))) {
      reply(request, 401, "Unauthorized");
      return;
    }
    String value = lookup(instance.get(), path);
    if (value == null) {
      reply(request, 404, "Not Found");
    } else {
      reply(request, 200, value);
    }
  }

  private void issueToken(String instanceId, HttpServerRequest request) {
    if (request.getHeader("X-Forwarded-For") != null) {
      reply(request, 403, "Forbidden");
      return;
    }
    String ttlText = request.getHeader(TTL_HEADER);
    int ttl;
    try {
      ttl = Integer.parseInt(ttlText == null ? "" : ttlText.trim());
    } catch (NumberFormatException e) {
      ttl = -1;
    }
    if (ttl < 1 || ttl > MAX_TTL_SECONDS) {
      reply(request, 400, "Bad Request");
      return;
    }
    byte[] bytes = new byte[42];
    random.nextBytes(bytes);
    String token = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    Map<String, Long> issued = tokens.computeIfAbsent(instanceId, id -> new HashMap<>());
    long now = System.currentTimeMillis();
    issued.values().removeIf(expiry -> expiry < now);
    issued.put(token, now + ttl * 1000L);
    request.response().putHeader(TTL_HEADER, Integer.toString(ttl));
    reply(request, 200, token);
  }

  private boolean validToken(String instanceId, String token) {
    Long expiry = token == null ? null : tokens.getOrDefault(instanceId, Map.of()).get(token);
    return expiry != null && expiry >= System.currentTimeMillis();
  }

  /** The value at a metadata path, or null for 404. Paths with and without a trailing slash are the same. */
  String lookup(Instance instance, String rawPath) {
    String path = rawPath.endsWith("/") && rawPath.length() > 1 ? rawPath.substring(0, rawPath.length() - 1) : rawPath;
    if (path.equals("/latest/user-data")) {
      return instance.userData() == null ? null
          : new String(Base64.getDecoder().decode(instance.userData()), StandardCharsets.UTF_8);
    }
    if (path.equals("/latest/dynamic/instance-identity/document")) {
      return identityDocument(instance);
    }
    if (path.equals("/latest/dynamic/instance-identity/signature")) {
      String document = identityDocument(instance);
      Map.Entry<String, String> known = signed.get(instance.id());
      if (known == null || !known.getKey().equals(document)) {
        known = Map.entry(document, signer.sign(document));
        signed.put(instance.id(), known);
      }
      return known.getValue();
    }
    if (path.equals("/latest/meta-data/block-device-mapping")) {
      List<String> names = new ArrayList<>(List.of("ami"));
      for (int i = 1; i <= volumes.apply(instance.id()).size(); i++) {
        names.add("ebs" + i);
      }
      names.add("root");
      return String.join("\n", names);
    }
    if (path.startsWith("/latest/meta-data/block-device-mapping/")) {
      String name = path.substring("/latest/meta-data/block-device-mapping/".length());
      if (name.equals("ami") || name.equals("root")) {
        return ROOT_DEVICE;
      }
      List<Volume> attached = volumes.apply(instance.id());
      Matcher ebs = EBS_NAME.matcher(name);
      if (ebs.matches() && Integer.parseInt(ebs.group(1)) <= attached.size()) {
        // As EC2 shows it: the device name without /dev/.
        return attached.get(Integer.parseInt(ebs.group(1)) - 1).attachment().device().substring("/dev/".length());
      }
      return null;
    }
    if (path.startsWith("/latest/meta-data/tags/instance/")) {
      return instance.tags().get(path.substring("/latest/meta-data/tags/instance/".length()));
    }
    return switch (path) {
      case "/latest/meta-data" -> String.join("\n", "ami-id", "ami-launch-index", "block-device-mapping/", "hostname",
          "instance-id",
          "instance-type", "local-hostname", "local-ipv4", "placement/", "reservation-id", "tags/");
      case "/latest/meta-data/instance-id" -> instance.id();
      case "/latest/meta-data/ami-id" -> instance.imageId();
      case "/latest/meta-data/ami-launch-index" -> Integer.toString(instance.launchIndex());
      case "/latest/meta-data/instance-type" -> instance.instanceType();
      case "/latest/meta-data/local-ipv4" -> instance.privateIp();
      case "/latest/meta-data/hostname", "/latest/meta-data/local-hostname" -> instance.privateDnsName();
      case "/latest/meta-data/reservation-id" -> instance.reservationId();
      case "/latest/meta-data/placement" -> "availability-zone\nregion";
      case "/latest/meta-data/placement/availability-zone" -> instance.availabilityZone();
      case "/latest/meta-data/placement/region" -> region;
      case "/latest/meta-data/tags" -> "instance";
      case "/latest/meta-data/tags/instance" -> instance.tags().keySet().stream()
          .filter(key -> METADATA_TAG_KEY.matcher(key).matches()).collect(Collectors.joining("\n"));
      default -> null;
    };
  }

  private String identityDocument(Instance instance) {
    return new JsonObject()
        .put("accountId", accountId)
        .put("architecture", "x86_64")
        .put("availabilityZone", instance.availabilityZone())
        .put("imageId", instance.imageId())
        .put("instanceId", instance.id())
        .put("instanceType", instance.instanceType())
        .put("pendingTime", instance.launchTime().toString())
        .put("privateIp", instance.privateIp())
        .put("region", region)
        .put("version", "2017-09-30")
        .encodePrettily();
  }

  private static void reply(HttpServerRequest request, int status, String body) {
    request.response().setStatusCode(status).putHeader("Content-Type", "text/plain").end(Buffer.buffer(body));
  }
}
