package io.fleetvote.common.msg;

/** What an instance does in the fleet; an agent may hold several roles. */
public enum Role {
  /** A web backend: samples its load, votes, registers with the load balancer. */
  APP,
  /** Runs HAProxy; its agent is the only writer of that HAProxy's runtime API. */
  LB,
  /** A MariaDB host: reports replication state, quiesces for snapshots. */
  DB
}
