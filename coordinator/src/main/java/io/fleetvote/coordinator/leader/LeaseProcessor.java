package io.fleetvote.coordinator.leader;

import com.hazelcast.map.EntryProcessor;

import java.io.Serializable;
import java.util.Map;

/**
 * Takes or renews the leader lease atomically on the key's owner. The candidate renews its own live lease (same
 * epoch); it takes a lease that is absent, expired, or held by a member that has left the cluster, with the next
 * epoch above both the stored one and the highest the candidate has ever seen; otherwise it changes nothing.
 * Returns the lease as it stands afterwards.
 */
final class LeaseProcessor implements EntryProcessor<String, String, String>, Serializable {

  private static final long serialVersionUID = 1L;

  private final String candidate;
  private final String member;
  private final long now;
  private final long leaseMillis;
  private final String departedMember;
  private final long epochFloor;

  LeaseProcessor(String candidate, String member, long now, long leaseMillis, String departedMember, long epochFloor) {
    this.candidate = candidate;
    this.member = member;
    this.now = now;
    this.leaseMillis = leaseMillis;
    this.departedMember = departedMember;
    this.epochFloor = epochFloor;
  }

  @Override
  public String process(Map.Entry<String, String> entry) {
    Lease current = entry.getValue() == null ? null : Lease.fromJson(entry.getValue());
    boolean mine = current != null && current.holder().equals(candidate) && current.member().equals(member);
    boolean live = current != null && current.expiresAt() > now;
    Lease next;
    if (mine && live) {
      next = new Lease(candidate, member, current.epoch(), now + leaseMillis);
    } else if (current == null || !live || current.member().equals(departedMember)) {
      long epoch = Math.max(current == null ? 0 : current.epoch(), epochFloor) + 1;
      next = new Lease(candidate, member, epoch, now + leaseMillis);
    } else {
      return entry.getValue();
    }
    String json = next.toJson();
    entry.setValue(json);
    return json;
  }
}
