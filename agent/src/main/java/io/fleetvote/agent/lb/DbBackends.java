package io.fleetvote.agent.lb;

import io.fleetvote.common.msg.DbRoute;
import io.fleetvote.common.msg.LbStatus;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The LB's DB backends, kept as the leader's {@link DbRoute} says: {@link HaproxyConfig#DB_WRITE_BACKEND} holds the
 * master alone (or nothing), {@link HaproxyConfig#DB_READ_BACKEND} the replicas that replicate. A server that is no
 * longer routed leaves first (maintenance, its sessions shut, deleted), and only then is its successor added, so
 * the write backend never holds two servers. A route of a lower fence than one already followed comes from a deposed
 * leader and is ignored. Without any route (no leader heard yet, or the leader gone) the backends stay as they are:
 * the LB keeps routing, it never fails closed. Runs on the context it was made on.
 */
public final class DbBackends {

  private static final Logger LOG = LoggerFactory.getLogger(DbBackends.class);

  private final Haproxy haproxy;
  private final String instanceId;
  private final Haproxy.CheckSettings check;
  private final Context context;
  private DbRoute latest;
  private DbRoute applied;
  private long highestFence = -1;
  private boolean applying;
  private String lastProblem = "";

  /** Checks the servers as the LB's options say for app servers (a TCP connection: the backends are TCP). */
  public DbBackends(Vertx vertx, Haproxy haproxy, String instanceId, LbOptions options) {
    this.haproxy = haproxy;
    this.instanceId = instanceId;
    this.check = new Haproxy.CheckSettings(options.getCheckInterMs(), options.getCheckDownInterMs(), options.getRise(),
        options.getFall());
    this.context = vertx.getOrCreateContext();
  }

  /** A route heard (any thread): followed unless older than one followed already. */
  public void follow(DbRoute route) {
    context.runOnContext(x -> {
      if (route.fence() < highestFence) {
        return;
      }
      highestFence = route.fence();
      latest = route;
      applyLatest();
    });
  }

  /** HAProxy (re)started: its dynamic servers are gone; the last route is applied again. */
  public void haproxyStarted() {
    context.runOnContext(x -> {
      applied = null;
      applyLatest();
    });
  }

  /** What the backends were last set to (any thread): the route's master and replicas, and the last problem. */
  public LbStatus.Db state() {
    DbRoute now = applied;
    return new LbStatus.Db(now == null || now.master() == null ? null : now.master().instanceId(),
        now == null ? List.of() : now.replicas().stream().map(DbRoute.Endpoint::instanceId).toList(),
        now == null ? 0 : now.fence(), lastProblem);
  }

  private void applyLatest() {
    if (applying || latest == null || same(latest, applied)) {
      return;
    }
    applying = true;
    DbRoute target = latest;
    List<DbRoute.Endpoint> write = target.master() == null ? List.of() : List.of(target.master());
    reconcile(HaproxyConfig.DB_WRITE_BACKEND, write)
        .compose(x -> reconcile(HaproxyConfig.DB_READ_BACKEND, target.replicas()))
        .onSuccess(x -> {
          if (applied == null || !Objects.equals(applied.master(), target.master())) {
            LOG.info("{}: DB writes go to {} (fence {}); reads to {}", instanceId, target.master() == null ? "no one"
                : target.master().instanceId() + " " + target.master().host() + ":" + target.master().port(),
                target.fence(), target.replicas().stream().map(DbRoute.Endpoint::instanceId).toList());
          }
          applied = target;
          lastProblem = "";
        })
        .onFailure(e -> {
          String problem = "the DB backends could not be set: " + e.getMessage();
          if (!problem.equals(lastProblem)) {
            LOG.warn("{}: {}", instanceId, problem);
          }
          lastProblem = problem;
        })
        .onComplete(x -> {
          applying = false;
          applyLatest();
        });
  }

  /** Removes what is not wanted, then adds what is missing, one server at a time. */
  private Future<Void> reconcile(String backend, List<DbRoute.Endpoint> wanted) {
    return haproxy.servers(backend).compose(servers -> {
      Set<String> keep = wanted.stream().map(DbBackends::key).collect(Collectors.toSet());
      Set<String> present = servers.stream().map(s -> s.name() + "@" + s.address() + ":" + s.port())
          .collect(Collectors.toSet());
      Future<Void> done = Future.succeededFuture();
      for (ServerState server : servers) {
        if (!keep.contains(server.name() + "@" + server.address() + ":" + server.port())) {
          done = done.compose(x -> remove(backend, server.name()));
        }
      }
      List<DbRoute.Endpoint> missing = new ArrayList<>();
      wanted.stream().filter(e -> !present.contains(key(e))).forEach(missing::add);
      for (DbRoute.Endpoint endpoint : missing) {
        done = done.compose(x -> add(backend, endpoint));
      }
      return done;
    });
  }

  private Future<Void> remove(String backend, String name) {
    return haproxy.setState(backend, name, Haproxy.AdminState.MAINT)
        .compose(x -> haproxy.shutdownSessions(backend, name))
        .compose(x -> haproxy.deleteServer(backend, name)).mapEmpty();
  }

  private Future<Void> add(String backend, DbRoute.Endpoint endpoint) {
    return haproxy.addServer(backend, endpoint.instanceId(), endpoint.host(), endpoint.port(), check, null)
        .compose(x -> haproxy.enableHealth(backend, endpoint.instanceId()))
        .compose(x -> haproxy.setState(backend, endpoint.instanceId(), Haproxy.AdminState.READY));
  }

  private static String key(DbRoute.Endpoint endpoint) {
    return endpoint.instanceId() + "@" + endpoint.host() + ":" + endpoint.port();
  }

  private static boolean same(DbRoute a, DbRoute b) {
    return b != null && Objects.equals(a.master(), b.master()) && a.replicas().equals(b.replicas());
  }
}
