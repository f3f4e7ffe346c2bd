package io.fleetvote.coordinator;

import io.fleetvote.common.cluster.ClusterBootstrap;
import io.fleetvote.coordinator.auth.Authentication;
import io.fleetvote.common.auth.PasswordHash;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** The coordinator's HTTP API behind a users file: logins, sessions, bearer tokens, CSRF, throttling, bad bodies. */
class ApiAuthenticationTest {

  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(2)).build();

  @TempDir
  Path dir;
  Vertx vertx;
  int port;

  @BeforeEach
  void start() throws Exception {
    String hash = PasswordHash.hash("s3cret-ops", 2000);
    String viewerHash = PasswordHash.hash("s3cret-eve", 2000);
    Path users = dir.resolve("users.json");
    Files.writeString(users, new JsonObject().put("tokenSecret", Base64.getEncoder().encodeToString(new byte[48]))
        .put("users", new JsonArray()
            .add(new JsonObject().put("name", "ops").put("role", "operator").put("passwordHash", hash))
            .add(new JsonObject().put("name", "eve").put("role", "viewer").put("passwordHash", viewerHash)))
        .encode());
    vertx = Vertx.vertx(ClusterBootstrap.withPrometheus(new VertxOptions()));
    port = Coordinator.deploy(vertx, new CoordinatorOptions().setHttpPort(0).setUsersFile(users.toString()))
        .await().httpPort();
  }

  @AfterEach
  void stop() {
    vertx.close().await();
  }

  @Test
  void healthAndMetricsAreOpenAndTheApiIsNot() throws Exception {
    assertThat(send(get("/health")).statusCode()).isEqualTo(200);
    assertThat(send(get("/metrics")).statusCode()).isEqualTo(200);
    HttpResponse<String> instances = send(get("/api/instances"));
    assertThat(instances.statusCode()).isEqualTo(401);
    assertThat(new JsonObject(instances.body()).getString("error")).contains("log in first");
    assertThat(send(get("/api/nothing-here")).statusCode()).as("unknown routes do not leak either").isEqualTo(401);
  }

  @Test
  void aLoginGivesAnHttpOnlySameSiteSessionAndACsrfTokenThatActionsMustSendBack() throws Exception {
    HttpResponse<String> login = send(post("/api/login", "{\"name\": \"ops\", \"password\": \"s3cret-ops\"}"));
    assertThat(login.statusCode()).isEqualTo(200);
    JsonObject body = new JsonObject(login.body());
    assertThat(body.getString("name")).isEqualTo("ops");
    assertThat(body.getString("role")).isEqualTo("operator");
    List<String> cookies = login.headers().allValues("set-cookie");
    String session = cookie(cookies, Authentication.SESSION_COOKIE).orElseThrow();
    assertThat(cookies).anySatisfy(c -> assertThat(c).startsWith("fv_session=").containsIgnoringCase("HttpOnly")
        .contains("SameSite=Strict").contains("Path=/"));
    assertThat(cookies).anySatisfy(c -> assertThat(c).startsWith("fv_csrf=").doesNotContainIgnoringCase("HttpOnly")
        .contains("SameSite=Strict"));
    String csrf = body.getString("csrfToken");
    assertThat(cookie(cookies, Authentication.CSRF_COOKIE)).contains(csrf);

    HttpResponse<String> me = send(get("/api/me").header("Cookie", "fv_session=" + session));
    assertThat(me.statusCode()).isEqualTo(200);
    assertThat(new JsonObject(me.body()).getString("name")).isEqualTo("ops");
    assertThat(send(get("/api/instances").header("Cookie", "fv_session=" + session)).statusCode()).isEqualTo(200);
    assertThat(send(get("/api/dashboard").header("Cookie", "fv_session=" + session)).statusCode()).isEqualTo(200);
    assertThat(send(get("/api/dashboard")).statusCode()).isEqualTo(401);

    HttpResponse<String> noCsrf = send(post("/api/me", "{}").header("Cookie", "fv_session=" + session));
    assertThat(noCsrf.statusCode()).isEqualTo(403);
    assertThat(new JsonObject(noCsrf.body()).getString("error")).contains("X-CSRF-Token");
    HttpResponse<String> wrongCsrf = send(post("/api/me", "{}").header("Cookie", "fv_session=" + session)
        .header(Authentication.CSRF_HEADER, "x" + csrf));
    assertThat(wrongCsrf.statusCode()).isEqualTo(403);
    HttpResponse<String> withCsrf = send(post("/api/me", "{}").header("Cookie", "fv_session=" + session)
        .header(Authentication.CSRF_HEADER, csrf));
    assertThat(withCsrf.statusCode()).as("past the guard: no POST on /api/me").isIn(404, 405);

    String tampered = session.substring(0, session.length() - 3) + "AAA";
    assertThat(send(get("/api/me").header("Cookie", "fv_session=" + tampered)).statusCode()).isEqualTo(401);
    HttpResponse<String> logout = send(post("/api/logout", ""));
    assertThat(logout.headers().allValues("set-cookie")).anySatisfy(c -> assertThat(c).startsWith("fv_session=;")
        .contains("Max-Age=0"));
  }

  @Test
  void theEventBusBridgeNeedsASessionFromThisOriginAndTakesNothingInbound() throws Exception {
    assertError(send(get("/eventbus/info")), 401, "log in first");
    HttpResponse<String> login = send(post("/api/login", "{\"name\": \"eve\", \"password\": \"s3cret-eve\"}"));
    String session = cookie(login.headers().allValues("set-cookie"), Authentication.SESSION_COOKIE).orElseThrow();
    assertError(send(get("/eventbus/info").header("Cookie", "fv_session=" + session)
        .header("Origin", "http://evil.example")), 403, "pages of 127.0.0.1:" + port + " only");
    assertThat(send(get("/eventbus/info").header("Cookie", "fv_session=" + session)).statusCode()).isEqualTo(200);

    java.util.concurrent.LinkedBlockingQueue<String> frames = new java.util.concurrent.LinkedBlockingQueue<>();
    java.net.http.WebSocket socket = HTTP.newWebSocketBuilder().header("Cookie", "fv_session=" + session)
        .buildAsync(URI.create("ws://127.0.0.1:" + port + "/eventbus/websocket"), new java.net.http.WebSocket.Listener() {
          @Override
          public java.util.concurrent.CompletionStage<?> onText(java.net.http.WebSocket ws, CharSequence data,
                                                                boolean last) {
            frames.add(data.toString());
            ws.request(1);
            return null;
          }

          @Override
          public java.util.concurrent.CompletionStage<?> onBinary(java.net.http.WebSocket ws,
                                                                  java.nio.ByteBuffer data, boolean last) {
            frames.add(java.nio.charset.StandardCharsets.UTF_8.decode(data).toString());
            ws.request(1);
            return null;
          }
        }).get(10, java.util.concurrent.TimeUnit.SECONDS);
    try {
      socket.sendText("{\"type\": \"publish\", \"address\": \"fleetvote.votes\", \"body\": {}}", true)
          .get(10, java.util.concurrent.TimeUnit.SECONDS);
      String reply = frames.poll(10, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(reply).as("the bridge's answer to an inbound publish").contains("access_denied");
      socket.sendText("{\"type\": \"register\", \"address\": \"fleetvote.agents.heartbeat\"}", true)
          .get(10, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(frames.poll(10, java.util.concurrent.TimeUnit.SECONDS)).as("registering outside fleetvote.ui.*")
          .contains("access_denied");
    } finally {
      socket.abort();
    }
  }

  @Test
  void apiClientsUseBearerTokensWithoutCookiesOrCsrf() throws Exception {
    HttpResponse<String> issued = send(post("/api/tokens", "{\"name\": \"eve\", \"password\": \"s3cret-eve\"}"));
    assertThat(issued.statusCode()).isEqualTo(200);
    assertThat(issued.headers().allValues("set-cookie")).isEmpty();
    String token = new JsonObject(issued.body()).getString("token");
    HttpResponse<String> me = send(get("/api/me").header("Authorization", "Bearer " + token));
    assertThat(new JsonObject(me.body()).getString("role")).isEqualTo("viewer");
    assertThat(send(post("/api/me", "{}").header("Authorization", "Bearer " + token)).statusCode())
        .as("no CSRF check for a bearer token").isIn(404, 405);
    assertThat(send(get("/api/me").header("Authorization", "Basic b3BzOnMzY3JldA==")).statusCode()).isEqualTo(401);
    assertThat(send(get("/api/me").header("Authorization", "Bearer nope")).statusCode()).isEqualTo(401);
  }

  @Test
  void badLoginBodiesAreRefusedNamingTheProblem() throws Exception {
    assertError(send(post("/api/login", "not json")), 400, "body");
    assertError(send(post("/api/login", "[1]")), 400, "body");
    assertError(send(post("/api/login", "{\"name\": \"ops\"}")), 400, "password");
    assertError(send(post("/api/login", "{\"name\": 7, \"password\": \"x\"}")), 400, "name");
    assertError(send(post("/api/login", "{\"name\": \"ops\", \"password\": \"" + "x".repeat(100_000) + "\"}")),
        413, "");
    assertThat(send(get("/health")).statusCode()).as("still serving").isEqualTo(200);
  }

  @Test
  void wrongPasswordsAre401ThenTheNameAndAddressAreThrottled() throws Exception {
    for (int i = 0; i < 5; i++) {
      assertError(send(post("/api/login", "{\"name\": \"ops\", \"password\": \"guess" + i + "\"}")), 401,
          "wrong name or password");
    }
    HttpResponse<String> locked = send(post("/api/login", "{\"name\": \"ops\", \"password\": \"s3cret-ops\"}"));
    assertError(locked, 429, "too many failed logins");
    assertThat(locked.headers().firstValue("Retry-After")).isPresent();
    assertError(send(post("/api/login", "{\"name\": \"nobody\", \"password\": \"x\"}")), 429, "");
  }

  private static void assertError(HttpResponse<String> response, int status, String text) {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
    assertThat(response.headers().firstValue("content-type").orElse("")).startsWith("application/json");
    assertThat(new JsonObject(response.body()).getString("error")).contains(text).doesNotContain("Exception");
  }

  private static Optional<String> cookie(List<String> setCookies, String name) {
    return setCookies.stream().filter(c -> c.startsWith(name + "=")).findFirst()
        .map(c -> c.substring(name.length() + 1, c.indexOf(';') < 0 ? c.length() : c.indexOf(';')));
  }

  private HttpRequest.Builder get(String path) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(10));
  }

  private HttpRequest.Builder post(String path, String body) {
    return get(path).POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json");
  }

  private static HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
    return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }
}
