package io.fleetvote.testkit;

import io.vertx.core.json.JsonObject;

import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.Optional;

/** GETs JSON from a Fleetvote process on 127.0.0.1, for the demo and the benchmarks that watch one. */
public final class LocalJson {

  private LocalJson() {
  }

  /** The JSON body of a 200 to {@code GET http://127.0.0.1:port/path}; empty on any other answer or none. */
  public static Optional<JsonObject> get(int port, String path) {
    return send(request(port, path, null));
  }

  /** The same, with a bearer token (from {@code POST /api/tokens}). */
  public static Optional<JsonObject> get(int port, String path, String token) {
    return send(request(port, path, token));
  }

  /** The body of a 200 to {@code GET http://127.0.0.1:port/path} as text ({@code /metrics}); empty otherwise. */
  public static Optional<String> text(int port, String path) {
    return Http.answer(request(port, path, null).timeout(Duration.ofSeconds(10))).filter(reply -> reply.status() == 200)
        .map(HttpReply::body);
  }

  /** An answer: its status (0 when none came within the timeout) and its JSON body (empty when not JSON). */
  public record Answer(int status, JsonObject body) {
  }

  /** {@code POST http://127.0.0.1:port/path} with a JSON body, waiting at most {@code timeout} for the answer. */
  public static Answer post(int port, String path, JsonObject body, Duration timeout) {
    HttpRequest.Builder request = request(port, path, null).timeout(timeout).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body.encode()));
    return Http.answer(request).map(reply -> new Answer(reply.status(), json(reply.body()).orElseGet(JsonObject::new)))
        .orElseGet(() -> new Answer(0, new JsonObject()));
  }

  private static HttpRequest.Builder request(int port, String path, String token) {
    HttpRequest.Builder builder = Http.request(Http.local(port, path)).timeout(Duration.ofSeconds(2));
    return token == null ? builder : builder.header("Authorization", "Bearer " + token);
  }

  private static Optional<JsonObject> send(HttpRequest.Builder request) {
    return Http.answer(request).filter(reply -> reply.status() == 200).flatMap(reply -> json(reply.body()));
  }

  private static Optional<JsonObject> json(String text) {
    try {
      return Optional.of(new JsonObject(text));
    } catch (RuntimeException e) {
      return Optional.empty();
    }
  }
}
