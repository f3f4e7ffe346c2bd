package io.fleetvote.agent.lb;

import io.fleetvote.agent.lb.BackendPlan.Change;
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
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

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

  /** Puts a server in the backend; completes when it takes traffic (its first check passed) or with FAILED. */
  public Future<RegistrationReply> register(String name, String address, int port) {
    return onContext(() -> queued(name, () -> registering(name, address, port)));
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
   * Brings the backend in line with the cluster's view of the group ({@link BackendPlan}); completes once the changes
   * are queued, not done.
   */
  public Future<List<Change>> reconcile(Map<String, Member> members, boolean registryWarm) {
    return onContext(() -> haproxy.servers(options.backend()).map(current -> {
      List<Change> changes = BackendPlan.plan(current, members, queues.keySet(), addedAt, registryWarm, clock.millis(),
          options.getRegistrationGraceMs());
      for (Change change : changes) {
        LOG.info("{}: reconcile {}: {} {}", lbId, options.backend(), change.kind(), change.name());
        switch (change.kind()) {
          case REGISTER -> register(change.name(), change.endpoint().address(), change.endpoint().port());
          case REREGISTER -> deregister(change.name(), REAP_DRAIN_MILLIS).onComplete(x ->
              register(change.name(), change.endpoint().address(), change.endpoint().port()));
          case DEREGISTER -> deregister(change.name(), options.getDrainTimeoutMs());
          case REAP -> deregister(change.name(), REAP_DRAIN_MILLIS);
          default -> throw new IllegalStateException("unknown change " + change.kind());
        }
      }
      return changes;
    }));
  }

  // ------------------------------------------------------------------ register

  private Future<RegistrationReply> registering(String name, String address, int port) {
    long started = clock.millis();
    String backend = options.backend();
    return haproxy.servers(backend).compose(current -> {
      Optional<ServerState> existing = current.stream().filter(s -> s.name().equals(name)).findFirst();
      if (existing.isPresent() && existing.get().address().equals(address) && existing.get().port() == port
          && !existing.get().maintenance() && !existing.get().draining() && existing.get().up()) {
        return Future.succeededFuture(reply(name, Outcome.READY, "already in the backend and up", started));
      }
      Future<?> cleared = existing.isPresent() ? removing(name, false) : Future.succeededFuture();
      return cleared
          .compose(x -> haproxy.addServer(backend, name, address, port,
              new Haproxy.CheckSettings(options.getCheckInterMs(), options.getRise(), options.getFall())))
          .compose(added -> {
            addedAt.put(name, clock.millis());
            deleted.remove(name);
            deletedAt.remove(name);
            return haproxy.enableHealth(backend, name);
          })
          .compose(x -> haproxy.setState(backend, name, Haproxy.AdminState.DRAIN))
          .compose(x -> firstPassingCheck(name, System.nanoTime()
              + TimeUnit.MILLISECONDS.toNanos(options.getFirstCheckTimeoutMs())))
          .compose(x -> haproxy.setState(backend, name, Haproxy.AdminState.READY))
          .map(x -> {
            LOG.info("{}: {} registered at {}:{} in {} ms", lbId, name, address, port, clock.millis() - started);
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
    String backend = options.backend();
    return haproxy.servers(backend).compose(current -> {
      if (current.stream().noneMatch(s -> s.name().equals(name))) {
        // The reconcile may have drained it a moment ago (its heartbeat said leaving before its own request came):
        // that drain is the answer.
        RegistrationReply earlier = deleted.get(name);
        if (earlier != null && clock.millis() - deletedAt.get(name) <= REMEMBER_DELETED_MILLIS) {
          return Future.succeededFuture(new RegistrationReply(lbId, name, earlier.outcome(), earlier.message()
              + " (drained a moment before this request came)", earlier.millis()));
        }
        return Future.succeededFuture(reply(name, Outcome.NOT_REGISTERED, "no such server in " + backend, started));
      }
      return haproxy.setState(backend, name, Haproxy.AdminState.DRAIN)
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

  /** True when sessions and queue reached 0 before the deadline, false when the deadline came first. */
  private Future<Boolean> drained(String name, long deadline) {
    return haproxy.servers(options.backend()).compose(current -> {
      Optional<ServerState> server = current.stream().filter(s -> s.name().equals(name)).findFirst();
      if (server.isEmpty() || (server.get().sessions() == 0 && server.get().queued() == 0)) {
        return Future.succeededFuture(true);
      }
      if (System.nanoTime() > deadline) {
        return Future.succeededFuture(false);
      }
      return vertx.timer(DRAIN_POLL_MILLIS).compose(x -> drained(name, deadline));
    });
  }

  /**
   * maint, then del, again while connections remain attached (MAINT closes idle ones), then shut what is left.
   * {@code shut}: shut the server's sessions right after maint (a drain that timed out). HAProxy 2.6 ignores
   * {@code shutdown sessions server} for a stream that waits on a server still in drain or ready, so the order
   * matters: maint first.
   */
  private Future<Haproxy.Deleted> removing(String name, boolean shut) {
    String backend = options.backend();
    return haproxy.setState(backend, name, Haproxy.AdminState.MAINT)
        .recover(err -> Future.succeededFuture())
        .compose(x -> shut ? haproxy.shutdownSessions(backend, name) : Future.succeededFuture())
        .compose(x -> deleting(name, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(DELETE_RETRY_WINDOW_MILLIS),
            shut));
  }

  private Future<Haproxy.Deleted> deleting(String name, long deadline, boolean shut) {
    return haproxy.deleteServer(options.backend(), name).compose(deleted -> {
      if (deleted != Haproxy.Deleted.STILL_CONNECTED) {
        return Future.succeededFuture(deleted);
      }
      if (System.nanoTime() > deadline && !shut) {
        return haproxy.shutdownSessions(options.backend(), name).compose(x -> deleting(name,
            System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(DELETE_RETRY_WINDOW_MILLIS), true));
      }
      if (System.nanoTime() > deadline) {
        return Future.failedFuture(new IllegalStateException("HAProxy kept connections attached to " + name
            + " after its sessions were shut"));
      }
      return vertx.timer(DELETE_RETRY_MILLIS).compose(x -> deleting(name, deadline, shut));
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
