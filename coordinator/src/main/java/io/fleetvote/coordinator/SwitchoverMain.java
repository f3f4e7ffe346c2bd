package io.fleetvote.coordinator;

import io.fleetvote.common.cli.CommandLine;
import io.fleetvote.common.cli.CommandLineException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;

/**
 * {@code ./fleetvote switchover}: asks a coordinator for a planned switchover of the DB pair ({@code POST
 * /api/db/switchover}), follows it ({@code GET /api/db}) until it is done, aborted or refused, and prints its journal
 * with each step's time from the first, and the write block (from the write backend emptied to the new master
 * promoted, or to the abort). Exit code 0 when done, 3 when aborted (the old master takes writes again), 1 when
 * refused or not answered.
 */
public final class SwitchoverMain {

  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

  private SwitchoverMain() {
  }

  /** Where the API is and who asks. */
  record Options(URI api, String token, String user, Path passwordFile) {
  }

  static CommandLine commandLine() {
    return new CommandLine("switchover", """
        A planned switchover of the DB pair: writes are blocked for a moment (the write backend emptied, the master
        made read-only with its application connections killed), the replica takes over once it has received all the
        master wrote, and the old master replicates from it. When the replica does not catch up within 5 s, the
        switchover aborts: the old master takes writes again, nothing lost. Needs an operator (--token, or --user with
        --password-file; a coordinator started with --no-auth needs neither).""")
        .option("api", "URL", "a coordinator's HTTP API", "http://127.0.0.1:" + CoordinatorOptions.DEFAULT_HTTP_PORT)
        .option("token", "TOKEN", "a bearer token (POST /api/tokens)", "none")
        .option("user", "NAME", "an operator's name, for a token", "none")
        .option("password-file", "FILE", "a file holding just that operator's password", "none");
  }

  public static void main(String[] args) {
    Options options = commandLine().parseOrExit(args, p -> new Options(URI.create(p.string("api")),
        p.string("token").equals("none") ? null : p.string("token"),
        p.string("user").equals("none") ? null : p.string("user"),
        p.string("password-file").equals("none") ? null : Path.of(p.string("password-file"))));
    try {
      System.exit(run(options, System.out, System.err));
    } catch (CommandLineException | IOException e) {
      System.err.println("switchover: " + e.getMessage());
      System.exit(1);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      System.exit(1);
    }
  }

  /** Asks for the switchover and follows it, telling {@code out} and {@code err}; the exit code. */
  static int run(Options options, PrintStream out, PrintStream err) throws IOException, InterruptedException {
    HttpClient http = HttpClient.newBuilder().connectTimeout(REQUEST_TIMEOUT).build();
    String token = options.token() != null ? options.token() : options.user() == null ? null
        : login(http, options);
    HttpResponse<String> asked = http.send(request(options.api(), "/api/db/switchover", token)
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
        HttpResponse.BodyHandlers.ofString());
    if (asked.statusCode() != 200) {
      err.println("switchover refused (" + asked.statusCode() + "): " + error(asked.body()));
      return 1;
    }
    long askedAt = new JsonObject(asked.body()).getJsonObject("switchover").getLong("at");
    out.println("switchover asked; following it");
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      Optional<JsonObject> pair = pair(http, options.api(), token);
      JsonObject answer = pair.map(p -> p.getJsonObject("switchover")).orElse(null);
      if (answer != null && answer.getLong("at", 0L) == askedAt && "refused".equals(answer.getString("state"))) {
        err.println("switchover refused by the leader: " + answer.getString("why"));
        return 1;
      }
      JsonObject failover = pair.map(p -> p.getJsonObject("topology")).map(t -> t.getJsonObject("failover"))
          .filter(f -> "switchover".equals(f.getString("kind")) && f.getLong("startedAt") >= askedAt).orElse(null);
      if (failover != null && ("done".equals(failover.getString("phase"))
          || "aborted".equals(failover.getString("phase")))) {
        print(failover, out);
        return "done".equals(failover.getString("phase")) ? 0 : 3;
      }
      Thread.sleep(200);
    }
    err.println("switchover: no outcome within " + WAIT.toSeconds() + " s; see GET /api/db");
    return 1;
  }

  private static void print(JsonObject failover, PrintStream out) {
    JsonArray steps = failover.getJsonArray("steps");
    long start = steps.getJsonObject(0).getLong("at");
    Long blocked = null;
    Long ended = null;
    for (int i = 0; i < steps.size(); i++) {
      JsonObject step = steps.getJsonObject(i);
      long at = step.getLong("at");
      out.printf(Locale.ROOT, "%+7d ms  %-22s %s%n", at - start, step.getString("name"), step.getString("text"));
      if ("write-backend-emptied".equals(step.getString("name"))) {
        blocked = at;
      } else if ("promoted".equals(step.getString("name")) || "aborted".equals(step.getString("name"))) {
        ended = at;
      }
    }
    out.printf(Locale.ROOT, "switchover %s %s: %s is the master; writes blocked for %s%n", failover.getString(
        "id"), failover.getString("phase"), "done".equals(failover.getString("phase")) ? failover.getString("target")
        : failover.getString("oldMaster"), blocked == null || ended == null ? "(unknown)" : (ended - blocked)
        + " ms (at the coordinator: the backend emptied until the new master was promoted or the abort)");
  }

  private static String login(HttpClient http, Options options) throws IOException, InterruptedException {
    if (options.passwordFile() == null) {
      throw new CommandLineException("--user needs --password-file");
    }
    String password = Files.readString(options.passwordFile()).strip();
    HttpResponse<String> reply = http.send(request(options.api(), "/api/tokens", null)
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(new JsonObject()
            .put("name", options.user()).put("password", password).encode())).build(),
        HttpResponse.BodyHandlers.ofString());
    if (reply.statusCode() != 200) {
      throw new CommandLineException("no token for " + options.user() + " (" + reply.statusCode() + "): "
          + error(reply.body()));
    }
    return new JsonObject(reply.body()).getString("token");
  }

  private static Optional<JsonObject> pair(HttpClient http, URI api, String token) throws InterruptedException {
    try {
      HttpResponse<String> reply = http.send(request(api, "/api/db", token).GET().build(),
          HttpResponse.BodyHandlers.ofString());
      return reply.statusCode() == 200 ? Optional.ofNullable(new JsonObject(reply.body()).getJsonObject("pair"))
          : Optional.empty();
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  private static HttpRequest.Builder request(URI api, String path, String token) {
    HttpRequest.Builder builder = HttpRequest.newBuilder(api.resolve(path)).timeout(REQUEST_TIMEOUT);
    return token == null ? builder : builder.header("Authorization", "Bearer " + token);
  }

  private static String error(String body) {
    try {
      return new JsonObject(body).getString("error", body);
    } catch (RuntimeException e) {
      return body;
    }
  }
}
