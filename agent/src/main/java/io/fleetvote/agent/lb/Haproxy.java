package io.fleetvote.agent.lb;

import io.vertx.core.Future;

import java.util.List;

/**
 * The runtime API of one HAProxy, one command per connection. Every reply is parsed: a reply other than the ones a
 * command can give fails the future with {@link HaproxyException} naming the command and the reply. Arguments are
 * checked before anything is sent (names, IPv4 literals, ports), so no text from the wire reaches HAProxy's parser.
 */
public interface Haproxy {

  /** What {@link #addServer} found. */
  enum Added {
    /** {@code New server registered.} */
    REGISTERED,
    /** {@code Already exists a server with the same name in backend.} */
    ALREADY_EXISTS
  }

  /** What {@link #deleteServer} found. */
  enum Deleted {
    /** {@code Server deleted.} */
    DELETED,
    /** {@code Server still has connections attached to it, cannot remove it.} */
    STILL_CONNECTED,
    /** {@code No such server.} */
    NO_SUCH_SERVER
  }

  /** The admin states {@code set server <b>/<s> state} takes. */
  enum AdminState {
    READY, DRAIN, MAINT
  }

  /**
   * {@code add server <backend>/<name> <ip>:<port> check inter <ms>ms rise <n> fall <n>}: a new dynamic server starts
   * in maintenance with its checks configured but not enabled.
   */
  default Future<Added> addServer(String backend, String name, String ip, int port, CheckSettings check) {
    return addServer(backend, name, ip, port, check, null);
  }

  /**
   * The same with an agent-check when {@code agent} is not null: {@code ... agent-check agent-port <p> agent-inter
   * <ms>ms weight 100}. The agent's {@code N%} replies are a share of the initial weight, rounded down, so the server
   * starts at weight 100 (at weight 1 any share below 100 % would be 0). The agent is off until {@link #enableAgent}.
   */
  Future<Added> addServer(String backend, String name, String ip, int port, CheckSettings check, AgentCheck agent);

  /** {@code enable health <backend>/<name>}; an unknown server ({@code No such server.}) fails. */
  Future<Void> enableHealth(String backend, String name);

  /** {@code enable agent <backend>/<name>}: starts the agent-check of a server added with one. */
  Future<Void> enableAgent(String backend, String name);

  /**
   * {@code disable agent <backend>/<name>}: stops it, so no agent reply in flight can undo the maintenance that comes
   * next.
   */
  Future<Void> disableAgent(String backend, String name);

  /**
   * {@code set server <backend>/<name> state ready|drain|maint}; an unknown server fails. Leaving MAINT marks the
   * server up at once, before any check has run: go to DRAIN first and to READY after a passing check.
   */
  Future<Void> setState(String backend, String name, AdminState state);

  /** {@code shutdown sessions server <backend>/<name>}: the server's requests in flight fail at once. */
  Future<Void> shutdownSessions(String backend, String name);

  /**
   * {@code del server <backend>/<name>}. {@code Only servers in maintenance mode can be deleted.} is a failure: set
   * MAINT first. DELETED proves this HAProxy holds no connection and no queue for the server any more.
   */
  Future<Deleted> deleteServer(String backend, String name);

  /**
   * {@code show servers state <backend>} joined with {@code show stat <backend> 4 -1} by server name: every server of
   * the backend (one added or deleted between the two commands may be missing until the next call). An unknown
   * backend fails ({@code Can't find backend.}).
   */
  Future<List<ServerState>> servers(String backend);

  /** {@code show info}: the process id and uptime, to notice a restart (a new pid has none of the added servers). */
  Future<Info> info();

  /**
   * The frontend's and the backend's counters ({@code show stat <frontend> 1 -1}, {@code show stat <backend> 2 -1}):
   * what clients were answered, and what the servers cost, whichever servers came and went.
   */
  Future<Totals> totals(String frontend, String backend);

  /**
   * Counters of a frontend and its backend since HAProxy started.
   *
   * @param requests         HTTP requests the frontend received (req_tot)
   * @param frontend5xx      5xx answers the frontend sent to clients (HAProxy's own included)
   * @param backend5xx       5xx answers from the backend (its servers, or HAProxy on their behalf)
   * @param connectionErrors connection errors to servers (econ)
   * @param responseErrors   response errors from servers (eresp)
   * @param retries          requests tried again (wretr)
   * @param redispatches     requests sent again to another server (wredis)
   */
  record Totals(long requests, long frontend5xx, long backend5xx, long connectionErrors, long responseErrors,
                long retries, long redispatches) {
  }

  /**
   * Health-check settings for {@code add server} ({@code default-server} lines do not apply to dynamic servers).
   * {@code downInterMillis} is HAProxy's {@code downinter}, the interval of checks while a server is down, which a new
   * server is: its first check comes one {@code downinter} after {@code enable health} (measured: 105 ms with 100 ms,
   * 1,005 ms without it and {@code inter 1s}); a dead server is checked that often until it is deleted.
   */
  record CheckSettings(int interMillis, int downInterMillis, int rise, int fall) {
  }

  /** Where HAProxy asks the server's agent for its weight ({@code agent-port}), and how often ({@code agent-inter}). */
  record AgentCheck(int port, int interMillis) {
  }

  /** What {@code show info} says about the process. */
  record Info(long pid, long uptimeSeconds, String version) {
  }
}
