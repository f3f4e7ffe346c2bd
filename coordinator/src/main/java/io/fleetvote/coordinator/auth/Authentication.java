package io.fleetvote.coordinator.auth;

import io.fleetvote.common.LogSafe;
import io.fleetvote.common.auth.PasswordHash;
import io.fleetvote.common.msg.JsonFields;
import io.fleetvote.common.msg.MessageException;
import io.fleetvote.coordinator.auth.Tokens.Claims;
import io.fleetvote.coordinator.auth.UsersFile.Role;
import io.fleetvote.coordinator.auth.UsersFile.User;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.CookieSameSite;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Who is asking, for the API (and the dashboard): {@code POST /api/login} checks a name and password from the users
 * file and sets a session cookie ({@code fv_session}: HttpOnly, SameSite=Strict) plus a CSRF cookie ({@code fv_csrf},
 * readable by the page, which sends it back as {@code X-CSRF-Token} with every action); {@code POST /api/tokens}
 * gives API clients a bearer token instead; {@code POST /api/logout} clears the cookies; {@code GET /api/me} says
 * who is logged in. Every other {@code /api/} route needs a valid session or token (401), actions need the CSRF
 * header when the session comes from a cookie (403) and the operator role (403, by {@link #operator()}). Failed
 * logins are throttled (429). Errors are JSON {@code {"error": "..."}}.
 */
public final class Authentication {

  public static final String SESSION_COOKIE = "fv_session";
  public static final String CSRF_COOKIE = "fv_csrf";
  public static final String CSRF_HEADER = "X-CSRF-Token";
  /** The SockJS event-bus bridge's route: logged-in pages of this origin only. */
  public static final String BRIDGE_PATH = "/eventbus/*";
  private static final Logger LOG = LoggerFactory.getLogger(Authentication.class);
  private static final String CLAIMS = "fleetvote.claims";
  private static final Set<HttpMethod> SAFE = Set.of(HttpMethod.GET, HttpMethod.HEAD, HttpMethod.OPTIONS);
  /** Hashed at start so that a login for an unknown name costs what a wrong password does. */
  private static final PasswordHash DUMMY = PasswordHash.parse(PasswordHash.hash("dummy", 10_000)).orElseThrow();

  private final Vertx vertx;
  private final UsersFile users;
  private final Tokens tokens;
  private final LoginThrottle throttle;

  public Authentication(Vertx vertx, UsersFile users, Clock clock) {
    this.vertx = vertx;
    this.users = users;
    this.tokens = new Tokens(users.tokenSecret(), clock);
    this.throttle = new LoginThrottle(clock);
  }

  /** Mounts the login routes and the guard of every other {@code /api/} route; call before those routes. */
  public void mount(Router router) {
    router.post("/api/login").handler(ctx -> login(ctx, true));
    router.post("/api/tokens").handler(ctx -> login(ctx, false));
    router.post("/api/logout").handler(this::logout);
    router.route("/api/*").handler(this::guard);
    router.route(BRIDGE_PATH).handler(this::guardBridge);
    router.getWithRegex("/(index\\.html)?").handler(this::guardPage);
    router.get("/api/me").handler(ctx -> {
      Claims claims = claims(ctx);
      ctx.json(new JsonObject().put("name", claims.name()).put("role", claims.role().name().toLowerCase(Locale.ROOT))
          .put("expiresAt", claims.expiresAtMillis()));
    });
  }

  /** Lets only operators through; mount after {@link #mount(Router)}'s guard. */
  public static Handler<RoutingContext> operator() {
    return ctx -> {
      Claims claims = ctx.get(CLAIMS);
      if (claims == null || claims.role() != Role.OPERATOR) {
        error(ctx, 403, "this needs the operator role; " + (claims == null ? "nobody" : claims.name() + " is a "
            + claims.role().name().toLowerCase(Locale.ROOT)));
      } else {
        ctx.next();
      }
    };
  }

  /** Who made the request; valid behind the guard. */
  public static Claims claims(RoutingContext ctx) {
    return ctx.get(CLAIMS);
  }

  private void login(RoutingContext ctx, boolean cookie) {
    String name;
    String password;
    try {
      JsonObject body = JsonFields.object(ctx.body().asString(), "body");
      name = JsonFields.string(body, "name", 64, null);
      password = JsonFields.string(body, "password", 1024, null);
    } catch (MessageException e) {
      error(ctx, 400, e.getMessage());
      return;
    }
    String address = ctx.request().remoteAddress() == null ? "?" : ctx.request().remoteAddress().hostAddress();
    Optional<Long> locked = throttle.lockedFor(name, address);
    if (locked.isPresent()) {
      long seconds = (locked.get() + 999) / 1000;
      ctx.response().putHeader(HttpHeaders.RETRY_AFTER, Long.toString(seconds));
      error(ctx, 429, "too many failed logins for this name or address: try again in " + seconds + " s");
      return;
    }
    Optional<User> user = users.user(name);
    vertx.executeBlocking(() -> user.map(u -> u.password().matches(password)).orElseGet(() -> {
      DUMMY.matches(password);
      return false;
    }), false).onComplete(result -> {
      if (result.failed() || !result.result()) {
        throttle.failed(name, address);
        LOG.warn("failed login for '{}' from {}", LogSafe.printable(name, 64), address);
        error(ctx, 401, "wrong name or password");
        return;
      }
      throttle.succeeded(name, address);
      User who = user.orElseThrow();
      String token = tokens.issue(who.name(), who.role(), users.sessionMinutes());
      String csrf = tokens.csrf(token);
      JsonObject reply = new JsonObject().put("name", who.name())
          .put("role", who.role().name().toLowerCase(Locale.ROOT))
          .put("expiresAt", tokens.verify(token).orElseThrow().expiresAtMillis());
      if (cookie) {
        long maxAge = users.sessionMinutes() * 60;
        ctx.response().addCookie(Cookie.cookie(SESSION_COOKIE, token).setHttpOnly(true).setPath("/")
            .setSameSite(CookieSameSite.STRICT).setMaxAge(maxAge));
        ctx.response().addCookie(Cookie.cookie(CSRF_COOKIE, csrf).setPath("/").setSameSite(CookieSameSite.STRICT)
            .setMaxAge(maxAge));
        reply.put("csrfToken", csrf);
      } else {
        reply.put("token", token);
      }
      LOG.info("{} logged in from {} ({})", who.name(), address, cookie ? "session" : "bearer token");
      ctx.json(reply);
    });
  }

  private void logout(RoutingContext ctx) {
    ctx.response().addCookie(Cookie.cookie(SESSION_COOKIE, "").setHttpOnly(true).setPath("/")
        .setSameSite(CookieSameSite.STRICT).setMaxAge(0));
    ctx.response().addCookie(Cookie.cookie(CSRF_COOKIE, "").setPath("/").setSameSite(CookieSameSite.STRICT)
        .setMaxAge(0));
    ctx.json(new JsonObject().put("loggedOut", true));
  }

  private void guard(RoutingContext ctx) {
    String authorization = ctx.request().getHeader(HttpHeaders.AUTHORIZATION);
    boolean bearer = authorization != null;
    String token;
    if (bearer) {
      if (!authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
        error(ctx, 401, "the Authorization header must be 'Bearer <token>' (from POST /api/tokens)");
        return;
      }
      token = authorization.substring(7).trim();
    } else {
      Cookie session = ctx.request().getCookie(SESSION_COOKIE);
      if (session == null || session.getValue().isEmpty()) {
        error(ctx, 401, "log in first (POST /api/login, or a bearer token from POST /api/tokens)");
        return;
      }
      token = session.getValue();
    }
    Optional<Claims> claims = valid(token);
    if (claims.isEmpty()) {
      error(ctx, 401, "the session or token is not valid (expired, tampered with, or its user changed): log in again");
      return;
    }
    if (!bearer && !SAFE.contains(ctx.request().method())
        && !tokens.csrfMatches(token, ctx.request().getHeader(CSRF_HEADER))) {
      error(ctx, 403, "missing or wrong " + CSRF_HEADER + " header (the value of the " + CSRF_COOKIE + " cookie)");
      return;
    }
    ctx.put(CLAIMS, claims.get());
    ctx.next();
  }

  /** A token's claims while it is valid and its user is still in the file with the same role. */
  private Optional<Claims> valid(String token) {
    return tokens.verify(token).filter(c -> users.user(c.name()).map(u -> u.role() == c.role()).orElse(false));
  }

  /** The dashboard's page: without a valid session, the login page instead. */
  private void guardPage(RoutingContext ctx) {
    Cookie session = ctx.request().getCookie(SESSION_COOKIE);
    if (session == null || valid(session.getValue()).isEmpty()) {
      ctx.redirect("/login.html");
    } else {
      ctx.next();
    }
  }

  /** The bridge: a session as for the API, and no page of another origin (cross-site WebSocket hijacking). */
  private void guardBridge(RoutingContext ctx) {
    String origin = ctx.request().getHeader(HttpHeaders.ORIGIN);
    String host = ctx.request().getHeader(HttpHeaders.HOST);
    if (origin != null && (host == null || !(origin.equals("http://" + host) || origin.equals("https://" + host)))) {
      error(ctx, 403, "the event bus answers pages of " + (host == null ? "this coordinator" : host) + " only");
      return;
    }
    guard(ctx);
  }

  static void error(RoutingContext ctx, int status, String message) {
    ctx.response().setStatusCode(status);
    ctx.json(new JsonObject().put("error", message));
  }
}
