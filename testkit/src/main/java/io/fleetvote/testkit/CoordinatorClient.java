package io.fleetvote.testkit;

import io.fleetvote.common.msg.LeadershipState;
import io.fleetvote.common.msg.ScalingState;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * A blocking client of one coordinator's HTTP API, as a test or a tool uses it: the queries (health, metrics,
 * instances, groups, decisions, leader, dashboard) answer what the coordinator says or throw
 * {@link HttpReply.Unexpected} on any status but 200; logins and the operators' actions answer the {@link HttpReply},
 * so refusals (400, 401, 403, 404, 409, 503) can be asserted on. Immutable: {@code with...} gives a new client.
 */
public final class CoordinatorClient {

  /** How long a query waits for its answer, unless told. */
  public static final Duration TIMEOUT = Duration.ofSeconds(10);
  /** An action may wait for a drain; the coordinator waits up to 120 s for its leader's answer. */
  public static final Duration ACTION_TIMEOUT = Duration.ofSeconds(130);
  public static final String SESSION_COOKIE = "fv_session";
  public static final String CSRF_HEADER = "X-CSRF-Token";

  private final URI base;
  private final Duration timeout;
  private final String bearer;
  private final String session;
  private final String csrf;

  private CoordinatorClient(URI base, Duration timeout, String bearer, String session, String csrf) {
    this.base = base;
    this.timeout = timeout;
    this.bearer = bearer;
    this.session = session;
    this.csrf = csrf;
  }

  /** The API of the coordinator at {@code base} ({@code http://host:port}), without credentials. */
  public CoordinatorClient(URI base) {
    this(base, TIMEOUT, null, null, null);
  }

  /** The API of the coordinator on {@code 127.0.0.1:port}. */
  public CoordinatorClient(int port) {
    this(Http.local(port, ""));
  }

  /** The same client waiting {@code timeout} for every query's answer (a short one to tell a frozen coordinator). */
  public CoordinatorClient withTimeout(Duration timeout) {
    return new CoordinatorClient(base, timeout, bearer, session, csrf);
  }

  /** The same client sending a bearer token (from {@link #token}). */
  public CoordinatorClient withToken(String token) {
    return new CoordinatorClient(base, timeout, token, null, null);
  }

  /** The same client sending a session cookie and, unless null, the CSRF header a page sends with its actions. */
  public CoordinatorClient withSession(String sessionCookie, String csrfToken) {
    return new CoordinatorClient(base, timeout, null, sessionCookie, csrfToken);
  }

  public URI base() {
    return base;
  }

  // -- open to all

  public JsonObject health() {
    return query("/health").json();
  }

  /** The Prometheus scrape ({@code GET /metrics}). */
  public String metrics() {
    return query("/metrics").body();
  }

  /** The value of one series of the scrape ({@code name{label="..."}} as written there); 0 when it is absent. */
  public double metric(String series) {
    return metrics().lines().filter(l -> l.startsWith(series + " "))
        .mapToDouble(l -> Double.parseDouble(l.substring(series.length() + 1).trim())).findFirst().orElse(0);
  }

  // -- logins

  /** {@code POST /api/login}: a session cookie and a CSRF token when the name and password are right. */
  public HttpReply login(String name, String password) {
    return post("/api/login", credentials(name, password));
  }

  /** A client logged in as {@code name} with a session cookie and its CSRF token, as the dashboard is. */
  public CoordinatorClient loggedIn(String name, String password) {
    HttpReply login = login(name, password).expect(200);
    return withSession(login.cookie(SESSION_COOKIE).orElseThrow(() -> new IllegalStateException(
        "the login set no " + SESSION_COOKIE + " cookie: " + login.setCookies())), login.json().getString("csrfToken"));
  }

  /** {@code POST /api/tokens}: a bearer token for {@code name}. */
  public String token(String name, String password) {
    return post("/api/tokens", credentials(name, password)).expect(200).json().getString("token");
  }

  // -- queries

  /** The live registry ({@code GET /api/instances}): one entry per agent heard from. */
  public List<JsonObject> instances() {
    return objects(query("/api/instances").json().getJsonArray("instances"));
  }

  /** What the coordinator's autoscaler knows ({@code GET /api/groups}). */
  public ScalingState groups() {
    return ScalingState.fromJson(query("/api/groups").json());
  }

  /** One group of {@link #groups()}; empty when the autoscaler does not scale it. */
  public Optional<ScalingState.GroupState> group(String name) {
    return groups().group(name);
  }

  /** The ledger's entries, newest first; {@code group} and {@code outcome} narrow it unless null. */
  public List<JsonObject> decisions(String group, String outcome, int limit) {
    StringBuilder path = new StringBuilder("/api/decisions?limit=").append(limit);
    if (group != null) {
      path.append("&group=").append(URLEncoder.encode(group, StandardCharsets.UTF_8));
    }
    if (outcome != null) {
      path.append("&outcome=").append(URLEncoder.encode(outcome, StandardCharsets.UTF_8));
    }
    return objects(query(path.toString()).json().getJsonArray("entries"));
  }

  /** Whether this coordinator leads, in which epoch, and why ({@code GET /api/leader}). */
  public LeadershipState leader() {
    return LeadershipState.fromJson(query("/api/leader").json());
  }

  /** The DB instances' latest reports ({@code GET /api/db}): {@code instances}, each a DbStatus and its age. */
  public List<JsonObject> db() {
    return query("/api/db").json().getJsonArray("instances").stream().map(JsonObject.class::cast).toList();
  }

  /** The DB pair as this coordinator sees it ({@code GET /api/db}'s {@code pair}); null while there is none. */
  public JsonObject dbPair() {
    return query("/api/db").json().getJsonObject("pair");
  }

  /** The dashboard's latest snapshot ({@code GET /api/dashboard}). */
  public JsonObject dashboard() {
    return query("/api/dashboard").json();
  }

  /**
   * The answer of a query, or empty when the coordinator gave none or not a 200, or answered nothing (no DB pair yet):
   * for polls of a coordinator that may be starting, dead or frozen ({@code ifAnswered(CoordinatorClient::leader)}).
   */
  public <T> Optional<T> ifAnswered(Function<CoordinatorClient, T> query) {
    try {
      return Optional.ofNullable(query.apply(this));
    } catch (UncheckedIOException | HttpReply.Unexpected e) {
      return Optional.empty();
    }
  }

  // -- the operators' actions

  public HttpReply bounds(String group, int min, int max) {
    return groupAction(group, "bounds", new JsonObject().put("min", min).put("max", max).encode());
  }

  /** Resize by {@code by} (negative: scale in). */
  public HttpReply scale(String group, int by) {
    return groupAction(group, "scale", new JsonObject().put("by", by).encode());
  }

  public HttpReply pause(String group) {
    return groupAction(group, "pause", "");
  }

  public HttpReply resume(String group) {
    return groupAction(group, "resume", "");
  }

  public HttpReply protect(String instanceId) {
    return instanceAction(instanceId, "protect");
  }

  public HttpReply unprotect(String instanceId) {
    return instanceAction(instanceId, "unprotect");
  }

  /** {@code POST /api/instances/ID/revoke}: the agent's session ends and it may never attest again. */
  public HttpReply revoke(String instanceId) {
    return instanceAction(instanceId, "revoke");
  }

  public HttpReply drain(String instanceId) {
    return instanceAction(instanceId, "drain");
  }

  public HttpReply undrain(String instanceId) {
    return instanceAction(instanceId, "undrain");
  }

  // -- any route, for what the typed methods do not say (bad bodies, unknown routes)

  /** {@code GET path} with this client's credentials; any status. */
  public HttpReply get(String path) {
    return Http.send(request(path, timeout));
  }

  /** {@code POST path} with a JSON body (an empty string: none) and this client's credentials; any status. */
  public HttpReply post(String path, String json) {
    return Http.send(request(path, ACTION_TIMEOUT.compareTo(timeout) > 0 ? ACTION_TIMEOUT : timeout)
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)));
  }

  private HttpReply groupAction(String group, String action, String body) {
    return post("/api/groups/" + group + "/" + action, body);
  }

  private HttpReply instanceAction(String instanceId, String action) {
    return post("/api/instances/" + instanceId + "/" + action, "");
  }

  private HttpReply query(String path) {
    return get(path).expect(200);
  }

  private HttpRequest.Builder request(String path, Duration wait) {
    HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(path)).timeout(wait);
    if (bearer != null) {
      request.header("Authorization", "Bearer " + bearer);
    }
    if (session != null) {
      request.header("Cookie", SESSION_COOKIE + "=" + session);
      if (csrf != null) {
        request.header(CSRF_HEADER, csrf);
      }
    }
    return request;
  }

  private static String credentials(String name, String password) {
    return new JsonObject().put("name", name).put("password", password).encode();
  }

  private static List<JsonObject> objects(JsonArray array) {
    List<JsonObject> objects = new ArrayList<>();
    array.forEach(o -> objects.add((JsonObject) o));
    return List.copyOf(objects);
  }
}
