package io.fleetvote.bench;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The HTTP steps of bench/agent-footprint, with the JDK's HTTP client (run by the script from the bench jar):
 * <pre>
 *   free-ports N                               prints N free TCP ports on 127.0.0.1, space-separated
 *   wait URL SECONDS                           until URL answers 200 (exit 1 on timeout)
 *   get URL                                    prints the body of a 200 answer
 *   instance COORDINATOR GROUP SECONDS         the first instance the coordinator counts in GROUP, once it does
 *   port SANDBOX INSTANCE_ID NAME              prints the port the sandbox gave the instance under NAME
 *   terminate-all SANDBOX                      terminates every instance of the sandbox
 * </pre>
 * SANDBOX is the sandbox's base URL ({@code http://127.0.0.1:PORT}). The sandbox needs no request signature.
 */
public final class AgentFootprint {

  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2)).build();

  private AgentFootprint() {
  }

  public static void main(String[] args) throws InterruptedException {
    try {
      run(args);
    } catch (IOException | RuntimeException e) {
      System.err.println("AgentFootprint " + String.join(" ", args) + ": "
          + (e.getMessage() == null ? e.toString() : e.getMessage()));
      System.exit(1);
    }
  }

  private static void run(String[] args) throws IOException, InterruptedException {
    switch (args.length == 0 ? "" : args[0]) {
      case "free-ports" -> System.out.println(freePorts(Integer.parseInt(args[1])));
      case "wait" -> await(URI.create(args[1]), Duration.ofSeconds(Long.parseLong(args[2])));
      case "get" -> System.out.println(get(URI.create(args[1])));
      case "instance" -> System.out.println(instance(URI.create(args[1]), args[2],
          Duration.ofSeconds(Long.parseLong(args[3]))));
      case "port" -> System.out.println(port(args[1], args[2], args[3]));
      case "terminate-all" -> send(HttpRequest.newBuilder(URI.create(args[1] + "/_sandbox/terminate-all"))
          .POST(HttpRequest.BodyPublishers.noBody()));
      default -> {
        System.err.println("usage: AgentFootprint free-ports|wait|get|launch|port|terminate-all ...");
        System.exit(2);
      }
    }
  }

  private static String freePorts(int count) throws IOException {
    List<ServerSocket> held = new ArrayList<>();
    try {
      for (int i = 0; i < count; i++) {
        held.add(new ServerSocket(0, 1, InetAddress.getLoopbackAddress()));
      }
      return held.stream().map(s -> Integer.toString(s.getLocalPort())).collect(Collectors.joining(" "));
    } finally {
      for (ServerSocket socket : held) {
        socket.close();
      }
    }
  }

  private static void await(URI url, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      try {
        get(url);
        return;
      } catch (IOException | IllegalStateException notYet) {
        Thread.sleep(200);
      }
    }
    System.err.println(url + " did not answer 200 within " + timeout.toSeconds() + " s");
    System.exit(1);
  }

  /** The first instance the coordinator at {@code coordinator} counts in {@code group}, once it counts one. */
  private static String instance(URI coordinator, String group, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      try {
        JsonArray groups = new JsonObject(get(coordinator.resolve("/api/groups"))).getJsonArray("groups");
        for (Object g : groups) {
          JsonObject state = (JsonObject) g;
          if (state.getString("name").equals(group) && !state.getJsonArray("instances").isEmpty()) {
            return state.getJsonArray("instances").getString(0);
          }
        }
      } catch (IOException | IllegalStateException | DecodeException notYet) {
        // not answering, or not yet the group
      }
      Thread.sleep(200);
    }
    System.err.println(coordinator + " counted no instance in group " + group + " within " + timeout.toSeconds() + " s");
    System.exit(1);
    return null;
  }

  private static String port(String sandbox, String instanceId, String name)
      throws IOException, InterruptedException {
    String json = get(URI.create(sandbox + "/_sandbox/instances/" + instanceId));
    return find(Pattern.compile("\"ports\"\\s*:\\s*\\{[^}]*\"" + Pattern.quote(name) + "\"\\s*:\\s*(\\d+)"), json,
        "port " + name + " in " + json);
  }

  private static String get(URI url) throws IOException, InterruptedException {
    return send(HttpRequest.newBuilder(url).GET());
  }

  private static String send(HttpRequest.Builder request) throws IOException, InterruptedException {
    HttpResponse<String> response = HTTP.send(request.timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IllegalStateException(response.uri() + " answered " + response.statusCode() + ": " + response.body());
    }
    return response.body();
  }

  private static String find(Pattern pattern, String text, String what) {
    Matcher m = pattern.matcher(text);
    if (!m.find()) {
      throw new IllegalStateException("no " + what);
    }
    return m.group(1);
  }

}
