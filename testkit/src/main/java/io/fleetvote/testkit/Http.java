package io.fleetvote.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;

/**
 * Plain blocking HTTP for tests, the demo and the benchmarks: one JDK client (HTTP/1.1, 2 s to connect), requests
 * that give up after {@link #TIMEOUT} unless told otherwise, answers as {@link HttpReply}. For an app's
 * {@code /health}, an HAProxy frontend, an agent's API; the coordinator's API has {@link CoordinatorClient}.
 */
public final class Http {

  public static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);
  /** How long a request waits for its answer, unless told. */
  public static final Duration TIMEOUT = Duration.ofSeconds(10);

  private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(CONNECT_TIMEOUT).build();

  private Http() {
  }

  /** The client itself, for what the helpers here do not cover (WebSockets, asynchronous sends). */
  public static HttpClient client() {
    return CLIENT;
  }

  /** {@code http://127.0.0.1:port/path}. */
  public static URI local(int port, String path) {
    return URI.create("http://127.0.0.1:" + port + path);
  }

  /** A request to {@code uri} that waits {@link #TIMEOUT} for its answer. */
  public static HttpRequest.Builder request(URI uri) {
    return HttpRequest.newBuilder(uri).timeout(TIMEOUT);
  }

  public static HttpReply get(URI uri) {
    return send(request(uri));
  }

  public static HttpReply get(int port, String path) {
    return get(local(port, path));
  }

  /** POST of a JSON body (an empty string: no body). */
  public static HttpReply post(URI uri, String json) {
    return send(request(uri).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(json)));
  }

  /** Sends the request; an answer of any status is a reply, no answer an {@link UncheckedIOException}. */
  public static HttpReply send(HttpRequest.Builder builder) {
    HttpRequest request = builder.build();
    String what = request.method() + " " + request.uri();
    try {
      HttpResponse<String> response = CLIENT.send(request, HttpResponse.BodyHandlers.ofString());
      return new HttpReply(what, response.statusCode(), response.headers(), response.body());
    } catch (IOException e) {
      throw new UncheckedIOException(what + " failed: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted: " + what, e);
    }
  }

  /** The reply, or empty when none came (refused, reset, timed out): for processes that may be dead or frozen. */
  public static Optional<HttpReply> answer(HttpRequest.Builder builder) {
    try {
      return Optional.of(send(builder));
    } catch (UncheckedIOException e) {
      return Optional.empty();
    }
  }
}
