package io.fleetvote.testkit;

import io.fleetvote.common.msg.LeadershipState;
import io.fleetvote.common.msg.ScalingState;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The client against a tiny fake coordinator: what it asks, how it reads the answers, how it reports refusals. */
class CoordinatorClientTest {

  private static final LeadershipState LEADING = new LeadershipState(true, 4, true, "holds the lease", "c1", 4);
  private static final ScalingState STATE = new ScalingState("c1", LEADING, List.of(new ScalingState.GroupState("web",
      1, 3, 2, 0, 0, 0, new ScalingState.Votes(1, 0, 1, 0), List.of(), false, List.of(), List.of(),
      List.of("i-0000000000000000a", "i-0000000000000000b"))));

  private final List<Seen> seen = new CopyOnWriteArrayList<>();
  private Vertx vertx;
  private CoordinatorClient client;

  /** A request as the fake coordinator saw it. */
  record Seen(String method, String uri, String authorization, String cookie, String csrf, String body) {
  }

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    HttpServer server = vertx.createHttpServer().requestHandler(request -> request.body().onSuccess(body -> {
      seen.add(new Seen(request.method().name(), request.uri(), request.getHeader("Authorization"),
          request.getHeader("Cookie"), request.getHeader(CoordinatorClient.CSRF_HEADER), body.toString()));
      answer(request);
    })).listen(0, "127.0.0.1").await();
    client = new CoordinatorClient(server.actualPort());
  }

  @AfterEach
  void stop() {
    vertx.close().await();
  }

  private static void answer(HttpServerRequest request) {
    String path = request.path();
    switch (path) {
      case "/metrics" -> request.response().end("# HELP x\nfleetvote_x_total{reason=\"a\"} 3.0\n"
          + "fleetvote_x_total{reason=\"ab\"} 7.0\n");
      case "/api/groups" -> json(request, 200, STATE.toJson());
      case "/api/leader" -> json(request, 200, LEADING.toJson().put("coordinator", "c1"));
      case "/api/instances" -> json(request, 200, new JsonObject().put("instances", new JsonArray()
          .add(new JsonObject().put("instanceId", "i-0000000000000000a"))));
      case "/api/decisions" -> json(request, 200, new JsonObject().put("entries", new JsonArray()
          .add(new JsonObject().put("id", "e4-1"))));
      case "/api/login" -> {
        request.response().putHeader("Set-Cookie", List.<String>of("fv_session=s.e.s; Path=/; HttpOnly; SameSite=Strict",
            "fv_csrf=c5rf; Path=/; SameSite=Strict"));
        json(request, 200, new JsonObject().put("name", "ops").put("csrfToken", "c5rf"));
      }
      case "/api/tokens" -> json(request, 200, new JsonObject().put("token", "t0ken"));
      case "/api/groups/web/scale" -> json(request, 409, new JsonObject().put("error", "from 3 to 5, outside max 4"));
      default -> json(request, 404, new JsonObject().put("error", "no such resource: " + path));
    }
  }

  private static void json(HttpServerRequest request, int status, JsonObject body) {
    request.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body.encode());
  }

  @Test
  void groupsAndTheLeaderAreReadIntoTheirRecords() {
    assertThat(client.groups()).isEqualTo(STATE);
    assertThat(client.group("web").orElseThrow().instances()).containsExactly("i-0000000000000000a",
        "i-0000000000000000b");
    assertThat(client.group("api")).isEmpty();
    assertThat(client.leader()).isEqualTo(LEADING);
    assertThat(client.instances()).extracting(i -> i.getString("instanceId")).containsExactly("i-0000000000000000a");
  }

  @Test
  void aMetricIsTheValueOfExactlyThatSeriesAndZeroWhenAbsent() {
    assertThat(client.metric("fleetvote_x_total{reason=\"a\"}")).isEqualTo(3.0);
    assertThat(client.metric("fleetvote_x_total{reason=\"ab\"}")).isEqualTo(7.0);
    assertThat(client.metric("fleetvote_y_total")).isZero();
  }

  @Test
  void decisionsAskForTheGroupOutcomeAndLimitGiven() {
    assertThat(client.decisions("web", "grow", 1000)).extracting(e -> e.getString("id")).containsExactly("e4-1");
    client.decisions(null, null, 5);
    assertThat(seen).extracting(Seen::uri).containsExactly("/api/decisions?limit=1000&group=web&outcome=grow",
        "/api/decisions?limit=5");
  }

  @Test
  void actionsSendTheirBodyAndAnswerRefusalsAsReplies() {
    HttpReply refused = client.scale("web", 2);
    assertThat(refused.status()).isEqualTo(409);
    assertThat(refused.error()).contains("outside max 4");
    assertThat(client.bounds("web", 2, 4).status()).isEqualTo(404);
    client.pause("web");
    client.drain("i-0000000000000000a");
    assertThat(seen).extracting(s -> s.method() + " " + s.uri() + " " + s.body()).containsExactly(
        "POST /api/groups/web/scale {\"by\":2}", "POST /api/groups/web/bounds {\"min\":2,\"max\":4}",
        "POST /api/groups/web/pause ", "POST /api/instances/i-0000000000000000a/drain ");
  }

  @Test
  void aQueryAnsweredWithAnotherStatusThan200FailsNamingTheRequestAndTheBody() {
    CoordinatorClient wrong = new CoordinatorClient(client.base().resolve("/nowhere/"));
    assertThatThrownBy(() -> new CoordinatorClient(client.base()).withTimeout(Duration.ofSeconds(2)).get("/x")
        .expect(200)).isInstanceOf(HttpReply.Unexpected.class).hasMessageContaining("GET http://127.0.0.1:")
        .hasMessageContaining("answered 404").hasMessageContaining("no such resource: /x");
    assertThat(wrong.ifAnswered(CoordinatorClient::dashboard)).isEmpty();
    assertThat(client.ifAnswered(CoordinatorClient::leader)).contains(LEADING);
  }

  @Test
  void aStoppedCoordinatorIsNoAnswer() {
    vertx.close().await();
    assertThat(client.ifAnswered(CoordinatorClient::leader)).isEmpty();
    vertx = Vertx.vertx();
  }

  @Test
  void aTokenIsSentAsBearerAndALoginAsItsSessionCookieWithTheCsrfToken() {
    client.withToken(client.token("eve", "pw")).groups();
    client.loggedIn("ops", "pw").pause("web");
    client.loggedIn("ops", "pw").withSession("s.e.s", null).pause("web");
    assertThat(seen.get(0).body()).isEqualTo("{\"name\":\"eve\",\"password\":\"pw\"}");
    assertThat(seen.get(1).authorization()).isEqualTo("Bearer t0ken");
    Seen withCsrf = seen.get(3);
    assertThat(withCsrf.cookie()).isEqualTo("fv_session=s.e.s");
    assertThat(withCsrf.csrf()).isEqualTo("c5rf");
    assertThat(withCsrf.authorization()).isNull();
    assertThat(seen.get(5).csrf()).isNull();
  }
}
