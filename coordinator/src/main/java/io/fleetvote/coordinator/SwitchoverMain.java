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
import java.util.function.Function;

/**
 * {@code ./fleetvote switchover}: asks a coordinator for a planned switchover of the DB pair ({@code POST
 * /api/db/switchover}), follows it ({@code GET /api/db}) until it is done, aborted or refused, and prints its journal
 * with each step's time from the first, and the write block (from the write backend emptied to the new master
 * promoted, or to the abort). Exit code 0 when done, 3 when aborted (the old master takes writes again), 1 when
 * refused or not answered.
 */
public final class SwitchoverMain {

  static final Duration WAIT = Duration.ofSeconds(60);
  static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

  private SwitchoverMain() {
  }

  /** Where the API is and who asks. */
  record Options(URI api, String token, String user, Path passwordFile) {
  }

  static CommandLine commandLine() {
    return operatorOptions(new CommandLine("switchover", """
        A planned switchover of the DB pair: writes are blocked for a moment (the write backend emptied, the master
        made read-only with its application connections killed), the replica takes over once it has received all the
        master wrote, and the old master replicates from it. When the replica does not catch up within 5 s, the
        switchover aborts: the old master takes writes again, nothing lost. Needs an operator (--token, or --user with
        --password-file; a coordinator started with --no-auth needs neither)."""));
  }

  /** {@code cli} with the options that say where the API is and which operator asks. */
  static CommandLine operatorOptions(CommandLine cli) {
    return cli.option("api", "URL", "a coordinator's HTTP API",
            "http://127.0.0.1:" + CoordinatorOptions.DEFAULT_HTTP_PORT)
        .option("token", "TOKEN", "a bearer token (POST /api/tokens)", "none")
        .option("user", "NAME", "an operator's name, for a token", "none")
        .option("password-file", "FILE", "a file holding just that operator's password", "none");
  }

  /** The options of {@link #operatorOptions}. */
  static Options options(CommandLine.Parsed p) {
    return new Options(URI.create(p.string("api")), p.string("token").equals("none") ? null : p.string("token"),
        p.string("user").equals("none") ? null : p.string("user"),
        p.string("password-file").equals("none") ? null : Path.of(p.string("password-file")));
  }

  public static void main(String[] args) {
    Options options = commandLine().parseOrExit(args, SwitchoverMain::options);
    exit("switchover", () -> run(options, System.out, System.err));
  }

  /** What a command does, as {@link #exit} runs it: its exit code. */
  interface Command {
    int run() throws IOException, InterruptedException;
  }

  /** Runs {@code command} and exits with its code; 1 when it could not ask (its error printed, as {@code name}). */
  static void exit(String name, Command command) {
    try {
      System.exit(command.run());
    } catch (CommandLineException | IOException e) {
      System.err.println(name + ": " + e.getMessage());
      System.exit(1);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      System.exit(1);
    }
  }

  /** Asks for the switchover and follows it, telling {@code out} and {@code err}; the exit code. */
  static int run(Options options, PrintStream out, PrintStream err) throws IOException, InterruptedException {
    return ask("switchover", "/api/db/switchover", new JsonObject(), "switchover", options, out, err, failover -> {
      if (!"done".equals(failover.getString("phase")) && !"aborted".equals(failover.getString("phase"))) {
        return null;
      }
      print(failover, out);
      return "done".equals(failover.getString("phase")) ? 0 : 3;
    });
  }

  /**
   * Posts an operator's request of the DB pair ({@code body} to {@code path}) and follows it until the leader refuses
   * it or the failover of {@code kind} it started ends, as {@code outcome} tells (its exit code, null while it runs).
   */
  static int ask(String name, String path, JsonObject body, String kind, Options options, PrintStream out,
                 PrintStream err, Function<JsonObject, Integer> outcome) throws IOException, InterruptedException {
    HttpClient http = HttpClient.newBuilder().connectTimeout(REQUEST_TIMEOUT).build();
    String token = options.token() != null ? options.token() : options.user() == null ? null
        : login(http, options);
    HttpResponse<String> asked = http.send(request(options.api(), path, token)
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.encode())).build(),
        HttpResponse.BodyHandlers.ofString());
    if (asked.statusCode() != 200) {
      err.println(name + " refused (" + asked.statusCode() + "): " + error(asked.body()));
      return 1;
    }
    // The request as the leader holds it, under the command's name: when it was asked.
    long askedAt = new JsonObject(asked.body()).getJsonObject(name).getLong("at");
    out.println(name + " asked; following it");
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      Optional<JsonObject> pair = pair(http, options.api(), token);
      // The pair's view answers either request under "switchover".
      JsonObject answer = pair.map(p -> p.getJsonObject("switchover")).orElse(null);
      if (answer != null && answer.getLong("at", 0L) == askedAt && "refused".equals(answer.getString("state"))) {
        err.println(name + " refused by the leader: " + answer.getString("why"));
        return 1;
      }
      Integer code = pair.map(p -> p.getJsonObject("topology")).map(t -> t.getJsonObject("failover"))
          .filter(f -> kind.equals(f.getString("kind")) && f.getLong("startedAt") >= askedAt).map(outcome)
          .orElse(null);
      if (code != null) {
        return code;
      }
      Thread.sleep(200);
    }
    err.println(name + ": no outcome within " + WAIT.toSeconds() + " s; see GET /api/db");
    return 1;
  }

  private static void print(JsonObject failover, PrintStream out) {
    JsonArray steps = printSteps(failover, out);
    Long blocked = null;
    Long ended = null;
    for (int i = 0; i < steps.size(); i++) {
      JsonObject step = steps.getJsonObject(i);
      long at = step.getLong("at");
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

  /** Prints a failover's journal, each step's time from the first; returns its steps. */
  static JsonArray printSteps(JsonObject failover, PrintStream out) {
    JsonArray steps = failover.getJsonArray("steps");
    long start = steps.getJsonObject(0).getLong("at");
    for (int i = 0; i < steps.size(); i++) {
      JsonObject step = steps.getJsonObject(i);
      out.printf(Locale.ROOT, "%+7d ms  %-22s %s%n", step.getLong("at") - start, step.getString("name"),
          step.getString("text"));
    }
    return steps;
  }

  static String login(HttpClient http, Options options) throws IOException, InterruptedException {
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

  static Optional<JsonObject> pair(HttpClient http, URI api, String token) throws InterruptedException {
    try {
      HttpResponse<String> reply = http.send(request(api, "/api/db", token).GET().build(),
          HttpResponse.BodyHandlers.ofString());
      return reply.statusCode() == 200 ? Optional.ofNullable(new JsonObject(reply.body()).getJsonObject("pair"))
          : Optional.empty();
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  static HttpRequest.Builder request(URI api, String path, String token) {
    HttpRequest.Builder builder = HttpRequest.newBuilder(api.resolve(path)).timeout(REQUEST_TIMEOUT);
    return token == null ? builder : builder.header("Authorization", "Bearer " + token);
  }

  static String error(String body) {
    try {
      return new JsonObject(body).getString("error", body);
    } catch (RuntimeException e) {
      return body;
    }
  }
}
