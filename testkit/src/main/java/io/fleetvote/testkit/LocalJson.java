package io.fleetvote.testkit;

import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;

/** GETs JSON from a Fleetvote process on 127.0.0.1, for the demo and the benchmarks that watch one. */
public final class LocalJson {

  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofMillis(500)).build();

  private LocalJson() {
  }

  /** The JSON body of a 200 to {@code GET http://127.0.0.1:port/path}; empty on any other answer or none. */
  public static Optional<JsonObject> get(int port, String path) {
    return send(request(port, path, null).build());
  }

  /** The same, with a bearer token (from {@code POST /api/tokens}). */
  public static Optional<JsonObject> get(int port, String path, String token) {
    return send(request(port, path, token).build());
  }

  /** An answer: its status (0 when none came within the timeout) and its JSON body (empty when not JSON). */
  public record Answer(int status, JsonObject body) {
  }

  /** {@code POST http://127.0.0.1:port/path} with a JSON body, waiting at most {@code timeout} for the answer. */
  public static Answer post(int port, String path, JsonObject body, Duration timeout) {
    HttpRequest request = request(port, path, null).timeout(timeout).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body.encode())).build();
    try {
      HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
      JsonObject json;
      try {
        json = new JsonObject(response.body());
      } catch (RuntimeException e) {
        json = new JsonObject();
      }
      return new Answer(response.statusCode(), json);
    } catch (IOException e) {
      return new Answer(0, new JsonObject());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Answer(0, new JsonObject());
    }
  }

  private static HttpRequest.Builder request(int port, String path, String token) {
    HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(2));
    return token == null ? builder : builder.header("Authorization", "Bearer " + token);
  }

  private static Optional<JsonObject> send(HttpRequest request) {
    try {
      HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
      return response.statusCode() == 200 ? Optional.of(new JsonObject(response.body())) : Optional.empty();
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
  }
}
