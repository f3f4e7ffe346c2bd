package io.fleetvote.agent.lb;

import java.util.List;
import java.util.stream.Collectors;

/**
 * An LB's backend at one moment, and what HAProxy does with a request because of it: route by the health checks, fail
 * open (no server passes them, and the fail-open backend's servers that accept connections take the requests), or
 * answer 503 (no server accepts connections at all).
 *
 * @param servers  the main backend's servers
 * @param open     the fail-open backend's servers
 * @param failOpen HAProxy routes to the fail-open backend now
 * @param note     the situation in a sentence; empty when the health checks route
 */
public record BackendStatus(List<ServerState> servers, List<ServerState> open, boolean failOpen, String note) {

  public BackendStatus {
    servers = List.copyOf(servers);
    open = List.copyOf(open);
  }

  /** Reads the situation off both backends as the frontend's rule does ({@code nbsrv(main) eq 0}, open above 0). */
  public static BackendStatus of(LbOptions options, List<ServerState> servers, List<ServerState> open) {
    if (servers.isEmpty() || servers.stream().anyMatch(ServerState::usable)) {
      return new BackendStatus(servers, open, false, "");
    }
    String checks = servers.stream().map(s -> s.name() + " " + describe(s)).collect(Collectors.joining(", "));
    long accepting = open.stream().filter(ServerState::usable).count();
    if (accepting == 0) {
      return new BackendStatus(servers, open, false, "no server of " + options.backend() + " can take a request ("
          + checks + ") and none accepts connections: HAProxy answers 503");
    }
    return new BackendStatus(servers, open, true, "none of the " + servers.size() + " server(s) of "
        + options.backend() + " passes its health check (" + checks + "); HAProxy routes to the " + accepting
        + " that accept connections (" + options.openBackend() + ")");
  }

  private static String describe(ServerState server) {
    if (server.maintenance()) {
      return "in maintenance";
    }
    if (server.draining()) {
      return "draining";
    }
    return server.up() ? "at weight 0" : server.checkStatus().isEmpty() ? "down" : server.checkStatus();
  }
}
