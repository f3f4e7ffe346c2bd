package io.fleetvote.agent.lb;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What to change so that HAProxy's backend holds exactly the live, ready instances of the group: pure logic, from
 * what HAProxy has and what the cluster says. An instance's server is
 * <ul>
 *   <li>registered when the instance is live and ready and HAProxy lacks it (it restarted, or missed a request),
 *   unless a deregistration of it began after its last heartbeat was heard: that heartbeat is older than the
 *   instance's leaving;</li>
 *   <li>registered again when its address or port changed, or a registration was left half done (maintenance);</li>
 *   <li>drained and deleted when the instance says it is leaving;</li>
 *   <li>reaped (drained briefly and deleted) when the instance has left the cluster: its heartbeats stopped. Not in
 *   the first moments after the registry started listening (it does not know everyone yet), and not within the grace
 *   after a registration added it (its first heartbeat may still be on its way).</li>
 * </ul>
 * An instance that is live but not ready is left alone: HAProxy's own checks keep traffic from it. The fail-open
 * backend follows the main one: a server taking traffic in the main backend and missing from it is added to it, one
 * that is in it alone is removed. Servers with an operation under way are not touched.
 */
public final class BackendPlan {

  private BackendPlan() {
  }

  /** Where an instance's app listens, and its agent's agent-check port (0 for none). */
  public record Endpoint(String address, int port, int checkPort) {

    public Endpoint(String address, int port) {
      this(address, port, 0);
    }
  }

  /** What the cluster says about one instance of the group, and when its last heartbeat was heard (epoch ms). */
  public record Member(Endpoint endpoint, boolean ready, boolean leaving, long heardAt) {

    public Member(Endpoint endpoint, boolean ready, boolean leaving) {
      this(endpoint, ready, leaving, Long.MAX_VALUE);
    }
  }

  /** One change to make. */
  public record Change(Kind kind, String name, Endpoint endpoint) {
  }

  public enum Kind {
    REGISTER, REREGISTER, DEREGISTER, REAP,
    /** Put a server of the main backend into the fail-open backend too. */
    OPEN_ADD,
    /** Take out of the fail-open backend a server the main backend no longer has. */
    OPEN_REMOVE
  }

  /**
   * @param current       the backend's servers as HAProxy reports them
   * @param open          the names of the fail-open backend's servers
   * @param members       the group's instances the registry holds (live), by instance id
   * @param busy          servers with an operation under way
   * @param addedAt       when a registration last added each server (epoch ms)
   * @param deregisteredAt when a deregistration that deleted each server lately began (epoch ms)
   * @param registryWarm  the registry has listened long enough to know every live instance
   * @param now           epoch ms
   * @param graceMillis   how long a server added by a registration is safe from the reaper
   */
  public static List<Change> plan(List<ServerState> current, Set<String> open, Map<String, Member> members,
                                  Set<String> busy, Map<String, Long> addedAt, Map<String, Long> deregisteredAt,
                                  boolean registryWarm, long now, long graceMillis) {
    List<Change> changes = new ArrayList<>();
    Set<String> present = new HashSet<>();
    for (ServerState server : current) {
      present.add(server.name());
      if (busy.contains(server.name())) {
        continue;
      }
      Member member = members.get(server.name());
      if (member == null) {
        boolean protectedByGrace = now - addedAt.getOrDefault(server.name(), Long.MIN_VALUE / 2) < graceMillis;
        if (registryWarm && !protectedByGrace) {
          changes.add(new Change(Kind.REAP, server.name(), null));
        }
      } else if (member.leaving()) {
        if (!server.maintenance() || !server.draining()) {
          changes.add(new Change(Kind.DEREGISTER, server.name(), null));
        }
      } else if (member.ready() && (!member.endpoint().address().equals(server.address())
          || member.endpoint().port() != server.port() || (server.maintenance() && !server.draining()))) {
        changes.add(new Change(Kind.REREGISTER, server.name(), member.endpoint()));
      }
    }
    members.forEach((name, member) -> {
      boolean staleHeartbeat = deregisteredAt.getOrDefault(name, Long.MIN_VALUE) >= member.heardAt();
      if (!present.contains(name) && !busy.contains(name) && member.ready() && !member.leaving() && !staleHeartbeat) {
        changes.add(new Change(Kind.REGISTER, name, member.endpoint()));
      }
    });
    Set<String> changing = new HashSet<>();
    changes.forEach(c -> changing.add(c.name()));
    for (ServerState server : current) {
      Member member = members.get(server.name());
      if (!open.contains(server.name()) && !busy.contains(server.name()) && !changing.contains(server.name())
          && member != null && !member.leaving() && !server.maintenance() && !server.draining()) {
        changes.add(new Change(Kind.OPEN_ADD, server.name(), new Endpoint(server.address(), server.port())));
      }
    }
    for (String name : open) {
      if (!present.contains(name) && !busy.contains(name)) {
        changes.add(new Change(Kind.OPEN_REMOVE, name, null));
      }
    }
    return changes;
  }
}
