package io.fleetvote.agent.lb;

import io.fleetvote.agent.lb.BackendPlan.Change;
import io.fleetvote.agent.lb.BackendPlan.Endpoint;
import io.fleetvote.agent.lb.BackendPlan.Member;
import io.fleetvote.common.msg.RegistrationReply;
import io.fleetvote.common.msg.RegistrationReply.Outcome;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * The only writer of one HAProxy's runtime API: registers and deregisters servers with the exact sequences of
 * {@code reference/haproxy-runtime.md}, and reconciles the backend with the cluster. Operations on one server run one
 * after the other; operations on different servers run side by side. Every public method may be called from any
 * thread: the work happens on the registrar's own context, which outlives the agent's cluster membership.
 */
public final class LbRegistrar {

  private static final Logger LOG = LoggerFactory.getLogger(LbRegistrar.class);
  private static final long CHECK_POLL_MILLIS = 50;
  private static final long DRAIN_POLL_MILLIS = 50;
  private static final long DELETE_RETRY_MILLIS = 100;
  private static final long DELETE_RETRY_WINDOW_MILLIS = 5000;
  /** A reaped server belongs to an instance that is gone: its sessions are not worth a full drain. */
  private static final long REAP_DRAIN_MILLIS = 2000;
  private static final long REMEMBER_DELETED_MILLIS = 60_000;

  private final Vertx vertx;
  private final Context context;
  private final Haproxy haproxy;
  private final LbOptions options;
  private final String lbId;
  private final Clock clock;
  private final Map<String, Future<?>> queues = new HashMap<>();
  private final Map<String, Long> addedAt = new HashMap<>();
  /** Deregistrations that deleted their server lately, and when they began: a second request gets their answer. */
  private final Map<String, RegistrationReply> deleted = new HashMap<>();
  private final Map<String, Long> deletedAt = new HashMap<>();

  /** Call on the context the registrar is to live on (a Vert.x that lasts as long as the process). */
  public LbRegistrar(Vertx vertx, Haproxy haproxy, LbOptions options, String lbId, Clock clock) {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.haproxy = haproxy;
    this.options = options;
    this.lbId = lbId;
    this.clock = clock;
  }

  public LbOptions options() {
    return options;
  }

  /**
   * Puts a server in the backend (and, once it takes traffic, in the fail-open backend); completes when it takes
   * traffic (its first check passed) or with FAILED. With a check port, HAProxy asks the instance's agent for its
   * weight.
   */
  public Future<RegistrationReply> register(String name, Endpoint endpoint) {
    return onContext(() -> queued(name, () -> registering(name, endpoint)));
  }

  /** Takes a server out gracefully: drain, wait for sessions and queue to end (at most the timeout), maint, delete. */
  public Future<RegistrationReply> deregister(String name, long drainTimeoutMillis) {
    return onContext(() -> queued(name, () -> deregistering(name, drainTimeoutMillis)));
  }

  /** The backend's servers now. */
  public Future<List<ServerState>> servers() {
    return onContext(() -> haproxy.servers(options.backend()));
  }

  /** The frontend's and backend's counters now. */
  public Future<Haproxy.Totals> totals() {
    return onContext(() -> haproxy.totals(options.frontend(), options.backend()));
  }

  /**
   * The backend now, and whether HAProxy fails open: no server of the backend is usable (all fail their health checks
   * or are drained) while the fail-open backend has servers that accept connections.
   */
  public Future<BackendStatus> status() {
    return onContext(() -> both().map(b -> BackendStatus.of(options, b.main(), b.open())));
  }

  /**
   * Brings the backend in line with the cluster's view of the group ({@link BackendPlan}); completes once the changes
   * are queued, not done.
   */
  public Future<List<Change>> reconcile(Map<String, Member> members, boolean registryWarm) {
    return onContext(() -> both().map(current -> {
      Set<String> open = new HashSet<>();
      current.open().forEach(s -> open.add(s.name()));
      List<Change> changes = BackendPlan.plan(current.main(), open, members, queues.keySet(), addedAt, deletedAt,
          registryWarm, clock.millis(), options.getRegistrationGraceMs());
      for (Change change : changes) {
        LOG.info("{}: reconcile {}: {} {}", lbId, options.backend(), change.kind(), change.name());
        switch (change.kind()) {
          case REGISTER -> register(change.name(), change.endpoint());
          case REREGISTER -> deregister(change.name(), REAP_DRAIN_MILLIS).onComplete(x ->
              register(change.name(), change.endpoint()));
          case DEREGISTER -> deregister(change.name(), options.getDrainTimeoutMs());
          case REAP -> deregister(change.name(), REAP_DRAIN_MILLIS);
          case OPEN_ADD -> onContext(() -> queued(change.name(), () -> addingOpen(change.name(), change.endpoint())
              .onFailure(err -> LOG.warn("{}: {} not added to {}: {}", lbId, change.name(), options.openBackend(),
                  err.getMessage()))));
          case OPEN_REMOVE -> onContext(() -> queued(change.name(), () -> removingFrom(options.openBackend(),
              change.name(), true)));
          default -> throw new IllegalStateException("unknown change " + change.kind());
        }
      }
      return changes;
    }));
  }

  /** Both backends' servers, read one after the other. */
  private Future<Backends> both() {
    return haproxy.servers(options.backend()).compose(main -> haproxy.servers(options.openBackend())
        .map(open -> new Backends(main, open)));
  }

  private record Backends(List<ServerState> main, List<ServerState> open) {

    Optional<ServerState> main(String name) {
      return main.stream().filter(s -> s.name().equals(name)).findFirst();
    }

    Optional<ServerState> open(String name) {
      return open.stream().filter(s -> s.name().equals(name)).findFirst();
    }
  }

  // ------------------------------------------------------------------ register

  private Future<RegistrationReply> registering(String name, Endpoint endpoint) {
    long started = clock.millis();
    String backend = options.backend();
    String address = endpoint.address();
    int port = endpoint.port();
    return both().compose(current -> {
      Optional<ServerState> existing = current.main(name);
      if (existing.isPresent() && existing.get().address().equals(address) && existing.get().port() == port
          && !existing.get().maintenance() && !existing.get().draining() && existing.get().up()
          && current.open(name).isPresent()) {
        return Future.succeededFuture(reply(name, Outcome.READY, "already in the backend and up", started));
      }
      Future<?> cleared = existing.isPresent() || current.open(name).isPresent() ? removing(name, false)
          : Future.succeededFuture();
      Haproxy.AgentCheck agent = endpoint.checkPort() > 0
          ? new Haproxy.AgentCheck(endpoint.checkPort(), options.getCheckInterMs()) : null;
      return cleared
          .compose(x -> haproxy.addServer(backend, name, address, port,
              check(options.getRise()), agent))
          .compose(added -> {
            addedAt.put(name, clock.millis());
            deleted.remove(name);
            deletedAt.remove(name);
            return haproxy.enableHealth(backend, name);
          })
          .compose(x -> haproxy.setState(backend, name, Haproxy.AdminState.DRAIN))
          .compose(x -> firstPassingCheck(name, System.nanoTime()
              + TimeUnit.MILLISECONDS.toNanos(options.getFirstCheckTimeoutMs())))
          // The agent-check only now: enabled before it, it put the first health check off to about one inter
          // (measured: 1,001 ms instead of 203 with downinter 200ms).
          .compose(x -> agent == null ? Future.succeededFuture() : haproxy.enableAgent(backend, name))
          .compose(x -> haproxy.setState(backend, name, Haproxy.AdminState.READY))
          .compose(x -> addingOpen(name, endpoint))
          .map(x -> {
            LOG.info("{}: {} registered at {}:{}{} in {} ms", lbId, name, address, port,
                agent == null ? "" : " (agent-check on port " + agent.port() + ")", clock.millis() - started);
            return reply(name, Outcome.READY, "server registered; first check passed", started);
          })
          .recover(err -> {
            LOG.warn("{}: registration of {} at {}:{} failed: {}", lbId, name, address, port, err.getMessage());
            return removing(name, true).transform(x -> Future.succeededFuture(reply(name, Outcome.FAILED,
                err.getMessage(), started)));
          });
    }).recover(err -> {
      LOG.warn("{}: registration of {} at {}:{} failed: {}", lbId, name, address, port, err.getMessage());
      return Future.succeededFuture(reply(name, Outcome.FAILED, err.getMessage(), started));
    });
  }

  /**
   * The server in the fail-open backend, checked by a connection only. Leaving MAINT marks it up at once, which is
   * right here: it just passed its health check in the main backend.
   */
  private Future<Void> addingOpen(String name, Endpoint endpoint) {
    String open = options.openBackend();
    return haproxy.addServer(open, name, endpoint.address(), endpoint.port(),
            check(1))
        .compose(x -> haproxy.enableHealth(open, name))
        .compose(x -> haproxy.setState(open, name, Haproxy.AdminState.READY));
  }

  /** The options' checks with {@code rise}. */
  private Haproxy.CheckSettings check(int rise) {
    return new Haproxy.CheckSettings(options.getCheckInterMs(), options.getCheckDownInterMs(), rise, options.getFall());
  }

  private Future<Void> firstPassingCheck(String name, long deadline) {
    return haproxy.servers(options.backend()).compose(current -> {
      Optional<ServerState> server = current.stream().filter(s -> s.name().equals(name)).findFirst();
      if (server.isEmpty()) {
        return Future.failedFuture(new IllegalStateException("the server disappeared from HAProxy while its first "
            + "check was awaited (did HAProxy restart?)"));
      }
      if (server.get().up() && server.get().checkStatus().startsWith("L7OK")) {
        return Future.succeededFuture();
      }
      if (System.nanoTime() > deadline) {
        return Future.failedFuture(new IllegalStateException("no passing health check within "
            + options.getFirstCheckTimeoutMs() + " ms (last check: " + server.get().checkStatus() + ")"));
      }
      return vertx.timer(CHECK_POLL_MILLIS).compose(x -> firstPassingCheck(name, deadline));
    });
  }

  // ------------------------------------------------------------------ deregister

  private Future<RegistrationReply> deregistering(String name, long drainTimeoutMillis) {
    long started = clock.millis();
    return both().compose(current -> {
      if (current.main(name).isEmpty() && current.open(name).isEmpty()) {
        // The reconcile may have drained it a moment ago (its heartbeat said leaving before its own request came):
        // that drain is the answer.
        RegistrationReply earlier = deleted.get(name);
        if (earlier != null && clock.millis() - deletedAt.get(name) <= REMEMBER_DELETED_MILLIS) {
          return Future.succeededFuture(new RegistrationReply(lbId, name, earlier.outcome(), earlier.message()
              + " (drained a moment before this request came)", earlier.millis()));
        }
        return Future.succeededFuture(reply(name, Outcome.NOT_REGISTERED, "no such server in " + options.backend(),
            started));
      }
      // Out of the fail-open backend first: draining the last usable server of the main one would otherwise send
      // its new requests there.
      Future<Void> drain = current.open(name).isPresent()
          ? haproxy.setState(options.openBackend(), name, Haproxy.AdminState.DRAIN) : Future.succeededFuture();
      if (current.main(name).isPresent()) {
        drain = drain.compose(x -> haproxy.setState(options.backend(), name, Haproxy.AdminState.DRAIN));
      }
      return drain
          .compose(x -> drained(name, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(drainTimeoutMillis)))
          .compose(clean -> removing(name, !clean)
              .map(result -> {
                addedAt.remove(name);
                Outcome outcome = result == Haproxy.Deleted.NO_SUCH_SERVER ? Outcome.NOT_REGISTERED
                    : clean ? Outcome.DELETED : Outcome.FORCED;
                LOG.info("{}: {} {} in {} ms", lbId, name, outcome == Outcome.FORCED
                    ? "deleted after its drain timeout, remaining sessions shut" : "drained and deleted",
                    clock.millis() - started);
                RegistrationReply done = reply(name, outcome, clean ? "Server deleted." : "Server deleted. (sessions "
                    + "shut after " + drainTimeoutMillis + " ms of drain)", started);
                if (outcome != Outcome.NOT_REGISTERED) {
                  deleted.put(name, done);
                  deletedAt.put(name, started);
                  deleted.keySet().removeIf(n -> clock.millis() - deletedAt.get(n) > REMEMBER_DELETED_MILLIS);
                  deletedAt.keySet().retainAll(deleted.keySet());
                }
                return done;
              }));
    }).recover(err -> {
      LOG.warn("{}: deregistration of {} failed: {}", lbId, name, err.getMessage());
      return Future.succeededFuture(reply(name, Outcome.FAILED, err.getMessage(), started));
    });
  }

  /** True when sessions and queue reached 0 in both backends before the deadline, false when the deadline came first. */
  private Future<Boolean> drained(String name, long deadline) {
    return both().compose(current -> {
      long left = Stream.concat(current.main(name).stream(), current.open(name).stream())
          .mapToLong(s -> s.sessions() + s.queued()).sum();
      if (left == 0) {
        return Future.succeededFuture(true);
      }
      if (System.nanoTime() > deadline) {
        return Future.succeededFuture(false);
      }
      return vertx.timer(DRAIN_POLL_MILLIS).compose(x -> drained(name, deadline));
    });
  }

  /**
   * Out of both backends, the fail-open one first; the answer is the main backend's. {@code shut}: shut the server's
   * sessions right after maint (a drain that timed out).
   */
  private Future<Haproxy.Deleted> removing(String name, boolean shut) {
    return removingFrom(options.openBackend(), name, shut)
        .compose(x -> haproxy.disableAgent(options.backend(), name).recover(err -> Future.succeededFuture()))
        .compose(x -> removingFrom(options.backend(), name, shut));
  }

  /**
   * maint, then del, again while connections remain attached (MAINT closes idle ones), then shut what is left. HAProxy
   * 2.6 ignores {@code shutdown sessions server} for a stream that waits on a server still in drain or ready, so the
   * order matters: maint first. An agent-check is disabled before (in {@link #removing}): its {@code ready} would
   * cancel the maint.
   */
  private Future<Haproxy.Deleted> removingFrom(String backend, String name, boolean shut) {
    return haproxy.setState(backend, name, Haproxy.AdminState.MAINT)
        .recover(err -> Future.succeededFuture())
        .compose(x -> shut ? haproxy.shutdownSessions(backend, name).recover(err -> Future.succeededFuture())
            : Future.succeededFuture())
        .compose(x -> deleting(backend, name, System.nanoTime()
            + TimeUnit.MILLISECONDS.toNanos(DELETE_RETRY_WINDOW_MILLIS), shut));
  }

  private Future<Haproxy.Deleted> deleting(String backend, String name, long deadline, boolean shut) {
    return haproxy.deleteServer(backend, name).compose(deleted -> {
      if (deleted != Haproxy.Deleted.STILL_CONNECTED) {
        return Future.succeededFuture(deleted);
      }
      if (System.nanoTime() > deadline && !shut) {
        return haproxy.shutdownSessions(backend, name).compose(x -> deleting(backend, name,
            System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(DELETE_RETRY_WINDOW_MILLIS), true));
      }
      if (System.nanoTime() > deadline) {
        return Future.failedFuture(new IllegalStateException("HAProxy kept connections attached to " + backend + "/"
            + name + " after its sessions were shut"));
      }
      return vertx.timer(DELETE_RETRY_MILLIS).compose(x -> deleting(backend, name, deadline, shut));
    });
  }

  // ------------------------------------------------------------------ plumbing

  /** Runs {@code op} after every operation already queued for {@code name}. */
  private <T> Future<T> queued(String name, Supplier<Future<T>> op) {
    Future<?> previous = queues.getOrDefault(name, Future.succeededFuture());
    Future<T> next = previous.transform(x -> op.get());
    queues.put(name, next);
    next.onComplete(x -> {
      if (queues.get(name) == next) {
        queues.remove(name);
      }
    });
    return next;
  }

  private <T> Future<T> onContext(Supplier<Future<T>> work) {
    Promise<T> result = Promise.promise();
    context.runOnContext(x -> {
      try {
        work.get().onComplete(result);
      } catch (RuntimeException e) {
        result.fail(e);
      }
    });
    return result.future();
  }

  private RegistrationReply reply(String name, Outcome outcome, String message, long started) {
    return new RegistrationReply(lbId, name, outcome, message, clock.millis() - started);
  }
}
