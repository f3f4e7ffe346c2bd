package io.fleetvote.coordinator.leader;

import com.hazelcast.cluster.Member;
import com.hazelcast.config.Config;
import com.hazelcast.config.MapConfig;
import com.hazelcast.config.SplitBrainProtectionConfig;
import com.hazelcast.splitbrainprotection.SplitBrainProtectionFunction;
import com.hazelcast.splitbrainprotection.SplitBrainProtectionOn;

import java.io.Serializable;
import java.util.Collection;

/**
 * Hazelcast split-brain protection by coordinators: the maps the control plane writes (the leader lease, the
 * ledger) work only on a side of a partition that sees a majority of the configured coordinators. Agents are
 * members too, but lite ones, and they do not count: a lone coordinator with many agents is still a minority.
 */
public final class CoordinatorQuorum implements SplitBrainProtectionFunction, Serializable {

  private static final long serialVersionUID = 1L;
  /** The member attribute that marks a coordinator. */
  public static final String ROLE_ATTRIBUTE = "fleetvote.role";
  public static final String COORDINATOR = "coordinator";
  static final String PROTECTION = "fleetvote-coordinator-quorum";
  /** The maps under protection: the leader lease, the decision ledger, the controls, the attestations, the DB pairs. */
  public static final String LEADER_MAP = "fleetvote.leader";
  public static final String LEDGER_MAP = "fleetvote.ledger";
  public static final String CONTROL_MAP = "fleetvote.controls";
  /** What the coordinators remember of each instance's agent: its nonce, its session, whether it was revoked. */
  public static final String ATTESTATION_MAP = "fleetvote.attestations";
  /** The DB pairs' topologies ({@link io.fleetvote.coordinator.db.DbTopology}), by pair name. */
  public static final String DB_MAP = "fleetvote.db";

  private final int expectedCoordinators;

  public CoordinatorQuorum(int expectedCoordinators) {
    if (expectedCoordinators < 1) {
      throw new IllegalArgumentException("expected coordinators must be at least 1, got " + expectedCoordinators);
    }
    this.expectedCoordinators = expectedCoordinators;
  }

  /** A majority of the expected coordinators: 1 of 1, 2 of 2, 2 of 3. */
  public int majority() {
    return expectedCoordinators / 2 + 1;
  }

  @Override
  public boolean apply(Collection<Member> members) {
    return coordinators(members) >= majority();
  }

  public static long coordinators(Collection<Member> members) {
    return members.stream().filter(m -> COORDINATOR.equals(m.getAttribute(ROLE_ATTRIBUTE))).count();
  }

  /** Marks this member as a coordinator and protects the control plane's maps with this quorum. */
  public void configure(Config config) {
    config.getMemberAttributeConfig().setAttribute(ROLE_ATTRIBUTE, COORDINATOR);
    config.addSplitBrainProtectionConfig(new SplitBrainProtectionConfig(PROTECTION, true)
        .setProtectOn(SplitBrainProtectionOn.READ_WRITE)
        .setFunctionImplementation(this));
    // Every coordinator holds a copy: with up to three coordinators, losing any two loses nothing.
    config.addMapConfig(new MapConfig(LEADER_MAP).setBackupCount(2).setSplitBrainProtectionName(PROTECTION));
    config.addMapConfig(new MapConfig(LEDGER_MAP).setBackupCount(2).setSplitBrainProtectionName(PROTECTION));
    config.addMapConfig(new MapConfig(CONTROL_MAP).setBackupCount(2).setSplitBrainProtectionName(PROTECTION));
    config.addMapConfig(new MapConfig(ATTESTATION_MAP).setBackupCount(2).setSplitBrainProtectionName(PROTECTION));
    config.addMapConfig(new MapConfig(DB_MAP).setBackupCount(2).setSplitBrainProtectionName(PROTECTION));
  }
}
