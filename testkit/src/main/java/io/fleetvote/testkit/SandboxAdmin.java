package io.fleetvote.testkit;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

/**
 * A blocking client of the sandbox's admin API ({@code /_sandbox/}), for tests, the demo and benchmarks:
 * where an instance's ports and processes are, API call counts, and fault injection.
 */
public final class SandboxAdmin {

  private final URI base;

  public SandboxAdmin(URI endpoint) {
    this.base = endpoint.resolve("/_sandbox/");
  }

  public JsonObject health() {
    return call("GET", "health", null);
  }

  public List<JsonObject> instances() {
    JsonArray list = call("GET", "instances", null).getJsonArray("instances");
    return list.stream().map(JsonObject.class::cast).toList();
  }

  public JsonObject instance(String id) {
    return call("GET", "instances/" + id, null);
  }

  /** The port the sandbox allocated to this instance under {@code name} (e.g. {@code app}, {@code agent}). */
  public int port(String instanceId, String name) {
    Integer port = instance(instanceId).getJsonObject("ports").getInteger(name);
    if (port == null) {
      throw new IllegalArgumentException("instance " + instanceId + " has no port named " + name);
    }
    return port;
  }

  /** SIGKILL to every process of the instance, as a crash of the machine would; EC2 still says running. */
  public JsonObject kill(String instanceId) {
    return call("POST", "instances/" + instanceId + "/kill", null);
  }

  /** SIGKILL to one process of the instance (e.g. {@code demo-app}) and its descendants; the others live on. */
  public JsonObject kill(String instanceId, String process) {
    return call("POST", "instances/" + instanceId + "/kill?process="
        + URLEncoder.encode(process, StandardCharsets.UTF_8), null);
  }

  public JsonObject terminateAll() {
    return call("POST", "terminate-all", null);
  }

  public JsonObject throttle(int count) {
    return call("POST", "faults/throttle", new JsonObject().put("count", count));
  }

  public JsonObject refuseCapacity(int count) {
    return call("POST", "faults/capacity", new JsonObject().put("count", count));
  }

  /** Refuses every RunInstances for capacity until {@link #clearFaults()}. */
  public JsonObject refuseCapacity() {
    return call("POST", "faults/capacity", new JsonObject());
  }

  public JsonObject slowBoot(long delayMillis, int count) {
    return call("POST", "faults/slow-boot", new JsonObject().put("delayMillis", delayMillis).put("count", count));
  }

  public JsonObject faults() {
    return call("GET", "faults", null);
  }

  public JsonObject clearFaults() {
    return call("DELETE", "faults", null);
  }

  /** EC2 API calls per action and errors per code since the sandbox started. */
  public JsonObject stats() {
    return call("GET", "stats", null);
  }

  /**
   * Whether instance types get their CPU (enforced, layout v1/v2/none, and why), the CFS period, the host's cores,
   * {@code --max-vcpus}, the vCPUs committed and the types offered. A test that depends on capacity fails with the
   * {@code why} when it is not enforced, rather than passing by luck.
   */
  public JsonObject capacity() {
    return call("GET", "capacity", null);
  }

  /** Fails, saying why, when the sandbox cannot give instance types their CPU, which {@code what} depends on. */
  public void requireCapacity(String what) {
    JsonObject capacity = capacity();
    if (!capacity.getBoolean("enforced", false)) {
      throw new IllegalStateException("the sandbox cannot give instances their CPU capacity, which " + what
          + " depends on: " + capacity.getString("why"));
    }
  }

  /** The PEM certificate that verifies the sandbox's instance identity documents (what coordinators are given). */
  public String identityCertificate() {
    return Http.get(base.resolve("/_sandbox/identity-certificate")).expect(200).body();
  }

  public long calls(String action) {
    return stats().getJsonObject("calls").getLong(action, 0L);
  }

  private JsonObject call(String method, String path, JsonObject body) {
    HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(120))
        .header("Content-Type", "application/json")
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body.encode()));
    HttpReply reply;
    try {
      reply = Http.send(request);
    } catch (UncheckedIOException first) {
      if (!method.equals("GET")) {
        throw first;
      }
      // A GET may be sent again: a kept-alive connection the server closed at that moment is not a failure.
      reply = Http.send(request);
    }
    if (reply.status() != 200) {
      throw new IllegalStateException("sandbox admin " + method + " " + path + " answered " + reply.status() + ": "
          + reply.body());
    }
    return new JsonObject(reply.body());
  }
}
