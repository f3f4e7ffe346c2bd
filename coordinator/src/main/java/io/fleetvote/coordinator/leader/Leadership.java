package io.fleetvote.coordinator.leader;

import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import io.fleetvote.common.msg.LeadershipState;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Which coordinator acts. The leader holds a lease in a map protected by {@link CoordinatorQuorum}, renewed every
 * {@code renewMillis}; it counts as leader only while its last renewal is younger than the lease minus a margin, by
 * its own monotonic clock, so a leader that froze or lost its quorum stops acting before anyone else can start.
 * Standbys try to take the lease each period, and at once when the holder's member leaves the cluster. Each new
 * holder gets a higher fencing epoch. Hazelcast's CP subsystem is not used (not open source in current Hazelcast).
 */
public final class Leadership {

  private static final Logger LOG = LoggerFactory.getLogger(Leadership.class);
  private static final String KEY = "leader";

  private final Vertx vertx;
  private final HazelcastInstance hazelcast;
  private final String id;
  private final CoordinatorQuorum quorum;
  private final long leaseMillis;
  private final long renewMillis;
  private final long opTimeoutMillis;
  private final String member;
  private final IMap<String, String> map;
  private final List<Consumer<LeadershipState>> listeners = new ArrayList<>();
  private Context context;
  private long timer = -1;
  private UUID membershipRegistration;
  private boolean attempting;
  private String departedWhileAttempting;
  /** The lease this coordinator holds and until when it may act on it; null when standby. Read from any thread. */
  private volatile Term term;
  private long maxEpochSeen;
  private volatile Lease lastSeen;
  private volatile String why = "starting";

  /** A held lease: its epoch, valid until {@code validUntilNanos} by {@link System#nanoTime()}. */
  private record Term(long epoch, long validUntilNanos) {
  }

  public Leadership(Vertx vertx, HazelcastInstance hazelcast, String id, CoordinatorQuorum quorum, long leaseMillis,
                    long renewMillis, long opTimeoutMillis) {
    if (renewMillis * 2 >= leaseMillis) {
      throw new IllegalArgumentException("renew every " + renewMillis + " ms is too slow for a " + leaseMillis
          + " ms lease");
    }
    this.vertx = vertx;
    this.hazelcast = hazelcast;
    this.id = id;
    this.quorum = quorum;
    this.leaseMillis = leaseMillis;
    this.renewMillis = renewMillis;
    this.opTimeoutMillis = opTimeoutMillis;
    this.member = hazelcast.getCluster().getLocalMember().getUuid().toString();
    this.map = hazelcast.getMap(CoordinatorQuorum.LEADER_MAP);
  }

  /**
   * Calls {@code listener} on the context that started this object whenever it becomes leader or stops being one.
   * Components on other contexts listen to {@link io.fleetvote.common.Addresses#LEADERSHIP} instead.
   */
  public Leadership onChange(Consumer<LeadershipState> listener) {
    listeners.add(listener);
    return this;
  }

  /** Starts trying for the lease; call on the Vert.x context that owns this object. */
  public void start() {
    context = vertx.getOrCreateContext();
    membershipRegistration = hazelcast.getCluster().addMembershipListener(new MembershipListener() {
      @Override
      public void memberAdded(MembershipEvent event) {
      }

      @Override
      public void memberRemoved(MembershipEvent event) {
        String departed = event.getMember().getUuid().toString();
        context.runOnContext(x -> {
          if (lastSeen != null && lastSeen.member().equals(departed)) {
            LOG.info("{}: the leader {} (epoch {}) left the cluster: taking over now", id, lastSeen.holder(),
                lastSeen.epoch());
            attempt(departed);
          } else if (term != null) {
            attempt(null);
          }
        });
      }
    });
    timer = vertx.setPeriodic(0, renewMillis, t -> attempt(null));
  }

  /** Leader right now: the lease was renewed recently enough, by this coordinator's own clock. Any thread. */
  public boolean isLeader() {
    Term held = term;
    return held != null && System.nanoTime() < held.validUntilNanos();
  }

  /** The epoch this coordinator leads in, 0 when standby. Any thread. */
  public long epoch() {
    Term held = term;
    return held == null ? 0 : held.epoch();
  }

  /** Whether this coordinator may act now as the leader of {@code epoch}: orders of an older epoch must not go out. */
  public boolean leads(long epoch) {
    return isLeader() && epoch() == epoch;
  }

  /** What this coordinator knows about leadership now. Any thread (the quorum is the member's current view). */
  public LeadershipState state() {
    Lease seen = lastSeen;
    return new LeadershipState(isLeader(), epoch(), hasQuorum(), why, seen == null ? null : seen.holder(),
        seen == null ? 0 : seen.epoch());
  }

  /** Whether a majority of the expected coordinators is in this member's view of the cluster. */
  public boolean hasQuorum() {
    return quorum.apply(hazelcast.getCluster().getMembers());
  }

  /** Stops trying; a leader hands the lease back so a standby takes over at once. */
  public Future<Void> stop() {
    vertx.cancelTimer(timer);
    if (membershipRegistration != null) {
      hazelcast.getCluster().removeMembershipListener(membershipRegistration);
    }
    if (!isLeader()) {
      return Future.succeededFuture();
    }
    long now = hazelcast.getCluster().getClusterTime();
    LeaseProcessor resign = new LeaseProcessor(id, member, now, 0, null, 0);
    lose("resigned");
    return Future.fromCompletionStage(map.submitToKey(KEY, resign), context)
        .timeout(opTimeoutMillis, TimeUnit.MILLISECONDS)
        .onSuccess(x -> LOG.info("{}: handed the lease back", id))
        .<Void>mapEmpty()
        .recover(err -> Future.succeededFuture());
  }

  private void attempt(String departed) {
    if (attempting) {
      if (departed != null) {
        departedWhileAttempting = departed;
      }
      return;
    }
    if (!hasQuorum()) {
      lose("no quorum: " + CoordinatorQuorum.coordinators(hazelcast.getCluster().getMembers()) + " coordinator(s) "
          + "visible, " + quorum.majority() + " needed");
      return;
    }
    attempting = true;
    long started = System.nanoTime();
    long now = hazelcast.getCluster().getClusterTime();
    LeaseProcessor processor = new LeaseProcessor(id, member, now, leaseMillis, departed, maxEpochSeen);
    Future.fromCompletionStage(map.submitToKey(KEY, processor), context)
        .timeout(opTimeoutMillis, TimeUnit.MILLISECONDS)
        .onComplete(result -> {
          attempting = false;
          if (result.succeeded()) {
            observed(Lease.fromJson(result.result()), started);
          } else {
            lose("lease not renewed: " + result.cause());
          }
          if (departedWhileAttempting != null) {
            String again = departedWhileAttempting;
            departedWhileAttempting = null;
            attempt(again);
          }
        });
  }

  private void observed(Lease lease, long attemptStartedNanos) {
    lastSeen = lease;
    maxEpochSeen = Math.max(maxEpochSeen, lease.epoch());
    if (lease.holder().equals(id) && lease.member().equals(member)) {
      Term before = term;
      term = new Term(lease.epoch(), attemptStartedNanos + TimeUnit.MILLISECONDS.toNanos(leaseMillis - renewMillis));
      // A lease that lapsed and was taken again carries a new epoch: a new term, as if leadership began now.
      if (before == null || before.epoch() != lease.epoch()) {
        why = "holds the lease";
        LOG.info("{}: leader now, epoch {}", id, lease.epoch());
        fire();
      }
    } else {
      lose("standby: " + lease.holder() + " leads in epoch " + lease.epoch());
    }
  }

  private void lose(String reason) {
    boolean was = term != null;
    term = null;
    if (!reason.equals(why)) {
      LOG.info("{}: {}", id, was ? "no longer leader: " + reason : reason);
    }
    why = reason;
    if (was) {
      fire();
    }
  }

  private void fire() {
    LeadershipState state = state();
    listeners.forEach(listener -> listener.accept(state));
  }
}
