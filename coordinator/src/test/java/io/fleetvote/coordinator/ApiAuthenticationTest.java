package io.fleetvote.coordinator;

import io.fleetvote.common.cluster.ClusterBootstrap;
import io.fleetvote.coordinator.auth.Authentication;
import io.fleetvote.common.auth.PasswordHash;
import io.fleetvote.testkit.CoordinatorClient;
import io.fleetvote.testkit.Http;
import io.fleetvote.testkit.HttpReply;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The coordinator's HTTP API behind a users file: logins, sessions, bearer tokens, CSRF, throttling, bad bodies. */
class ApiAuthenticationTest {

  @TempDir
  Path dir;
  Vertx vertx;
  int port;
  CoordinatorClient api;

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
    api = new CoordinatorClient(port);
  }

  @AfterEach
  void stop() {
    vertx.close().await();
  }

  @Test
  void healthAndMetricsAreOpenAndTheApiIsNot() throws Exception {
    assertThat(api.get("/health").status()).isEqualTo(200);
    assertThat(api.get("/metrics").status()).isEqualTo(200);
    HttpReply instances = api.get("/api/instances");
    assertThat(instances.status()).isEqualTo(401);
    assertThat(instances.error()).contains("log in first");
    assertThat(api.get("/api/nothing-here").status()).as("unknown routes do not leak either").isEqualTo(401);
  }

  @Test
  void aLoginGivesAnHttpOnlySameSiteSessionAndACsrfTokenThatActionsMustSendBack() throws Exception {
    HttpReply login = api.login("ops", "s3cret-ops");
    assertThat(login.status()).isEqualTo(200);
    JsonObject body = login.json();
    assertThat(body.getString("name")).isEqualTo("ops");
    assertThat(body.getString("role")).isEqualTo("operator");
    List<String> cookies = login.setCookies();
    String session = login.cookie(Authentication.SESSION_COOKIE).orElseThrow();
    assertThat(cookies).anySatisfy(c -> assertThat(c).startsWith("fv_session=").containsIgnoringCase("HttpOnly")
        .contains("SameSite=Strict").contains("Path=/"));
    assertThat(cookies).anySatisfy(c -> assertThat(c).startsWith("fv_csrf=").doesNotContainIgnoringCase("HttpOnly")
        .contains("SameSite=Strict"));
    String csrf = body.getString("csrfToken");
    assertThat(login.cookie(Authentication.CSRF_COOKIE)).contains(csrf);

    CoordinatorClient withSession = api.withSession(session, null);
    HttpReply me = withSession.get("/api/me");
    assertThat(me.status()).isEqualTo(200);
    assertThat(me.json().getString("name")).isEqualTo("ops");
    assertThat(withSession.get("/api/instances").status()).isEqualTo(200);
    assertThat(withSession.get("/api/dashboard").status()).isEqualTo(200);
    assertThat(api.get("/api/dashboard").status()).isEqualTo(401);

    HttpReply noCsrf = withSession.post("/api/me", "{}");
    assertThat(noCsrf.status()).isEqualTo(403);
    assertThat(noCsrf.error()).contains("X-CSRF-Token");
    HttpReply wrongCsrf = api.withSession(session, "x" + csrf).post("/api/me", "{}");
    assertThat(wrongCsrf.status()).isEqualTo(403);
    HttpReply withCsrf = api.withSession(session, csrf).post("/api/me", "{}");
    assertThat(withCsrf.status()).as("past the guard: no POST on /api/me").isIn(404, 405);

    String tampered = session.substring(0, session.length() - 3) + "AAA";
    assertThat(api.withSession(tampered, null).get("/api/me").status()).isEqualTo(401);
    HttpReply logout = api.post("/api/logout", "");
    assertThat(logout.setCookies()).anySatisfy(c -> assertThat(c).startsWith("fv_session=;")
        .contains("Max-Age=0"));
  }

  @Test
  void theEventBusBridgeNeedsASessionFromThisOriginAndTakesNothingInbound() throws Exception {
    assertError(api.get("/eventbus/info"), 401, "log in first");
    String session = api.login("eve", "s3cret-eve").cookie(Authentication.SESSION_COOKIE).orElseThrow();
    assertError(Http.send(Http.request(Http.local(port, "/eventbus/info")).header("Cookie", "fv_session=" + session)
        .header("Origin", "http://evil.example")), 403, "pages of 127.0.0.1:" + port + " only");
    assertThat(api.withSession(session, null).get("/eventbus/info").status()).isEqualTo(200);

    java.util.concurrent.LinkedBlockingQueue<String> frames = new java.util.concurrent.LinkedBlockingQueue<>();
    java.net.http.WebSocket socket = Http.client().newWebSocketBuilder().header("Cookie", "fv_session=" + session)
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
    HttpReply issued = api.post("/api/tokens", "{\"name\": \"eve\", \"password\": \"s3cret-eve\"}");
    assertThat(issued.status()).isEqualTo(200);
    assertThat(issued.setCookies()).isEmpty();
    CoordinatorClient eve = api.withToken(issued.json().getString("token"));
    assertThat(eve.get("/api/me").json().getString("role")).isEqualTo("viewer");
    assertThat(eve.post("/api/me", "{}").status()).as("no CSRF check for a bearer token").isIn(404, 405);
    assertThat(Http.send(Http.request(Http.local(port, "/api/me")).header("Authorization", "Basic b3BzOnMzY3JldA=="))
        .status()).isEqualTo(401);
    assertThat(api.withToken("nope").get("/api/me").status()).isEqualTo(401);
  }

  @Test
  void badLoginBodiesAreRefusedNamingTheProblem() throws Exception {
    assertError(api.post("/api/login", "not json"), 400, "body");
    assertError(api.post("/api/login", "[1]"), 400, "body");
    assertError(api.post("/api/login", "{\"name\": \"ops\"}"), 400, "password");
    assertError(api.post("/api/login", "{\"name\": 7, \"password\": \"x\"}"), 400, "name");
    assertError(api.login("ops", "x".repeat(100_000)), 413, "");
    assertThat(api.get("/health").status()).as("still serving").isEqualTo(200);
  }

  @Test
  void wrongPasswordsAre401ThenTheNameAndAddressAreThrottled() throws Exception {
    for (int i = 0; i < 5; i++) {
      assertError(api.login("ops", "guess" + i), 401, "wrong name or password");
    }
    HttpReply locked = api.login("ops", "s3cret-ops");
    assertError(locked, 429, "too many failed logins");
    assertThat(locked.header("Retry-After")).isPresent();
    assertError(api.login("nobody", "x"), 429, "");
  }

  private static void assertError(HttpReply reply, int status, String text) {
    assertThat(reply.status()).as(reply.body()).isEqualTo(status);
    assertThat(reply.header("content-type").orElse("")).startsWith("application/json");
    assertThat(reply.error()).contains(text).doesNotContain("Exception");
  }
}
