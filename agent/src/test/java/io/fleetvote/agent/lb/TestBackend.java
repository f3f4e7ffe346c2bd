package io.fleetvote.agent.lb;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A web instance behind HAProxy: 200 on {@code /health}, its name on {@code /}, and its name after
 * {@value #SLOW_MS} ms on {@code /slow} (a request still in flight while a test drains or stops HAProxy).
 */
final class TestBackend {

  static final long SLOW_MS = 600;

  private final String name;
  private final AtomicInteger requests = new AtomicInteger();
  private HttpServer server;

  private TestBackend(String name) {
    this.name = name;
  }

  static Future<TestBackend> start(Vertx vertx, String name) {
    TestBackend backend = new TestBackend(name);
    return vertx.createHttpServer()
        .requestHandler(request -> backend.answer(vertx, request))
        .listen(0, "127.0.0.1")
        .map(server -> {
          backend.server = server;
          return backend;
        });
  }

  /** A GET to 127.0.0.1:port: the status and the body. */
  static Future<Response> get(HttpClientAgent http, int port, String path) {
    return http.request(HttpMethod.GET, port, "127.0.0.1", path)
        .compose(request -> request.send())
        .compose(response -> response.body().map(body -> new Response(response.statusCode(), body.toString())));
  }

  int port() {
    return server.actualPort();
  }

  /** Requests other than health checks it has answered or is answering. */
  int requests() {
    return requests.get();
  }

  private void answer(Vertx vertx, HttpServerRequest request) {
    if (request.path().equals("/health")) {
      request.response().end("ok");
      return;
    }
    requests.incrementAndGet();
    if (request.path().equals("/slow")) {
      vertx.setTimer(SLOW_MS, t -> request.response().end(name));
    } else {
      request.response().end(name);
    }
  }

  record Response(int status, String body) {
  }
}
