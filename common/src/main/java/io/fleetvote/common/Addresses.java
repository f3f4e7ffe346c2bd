package io.fleetvote.common;

/**
 * Every event-bus address Fleetvote uses, in one place. Each constant says who sends, who listens,
 * whether it is a publish or a request, and which record in {@code io.fleetvote.common.msg} is the body.
 */
public final class Addresses {

  private Addresses() {
  }

  /**
   * Publish, every gossip period, by every agent: {@link io.fleetvote.common.msg.AgentHeartbeat}.
   * Listened to by coordinators (the live registry) and LB agents (reconcile).
   */
  public static final String AGENT_HEARTBEATS = "fleetvote.agents.heartbeat";

  /**
   * Publish, every gossip period, by every warmed-up or warming app agent: {@link io.fleetvote.common.msg.Vote}, a
   * lease on its group's size. Listened to by coordinators (the tally of the leader; standbys keep theirs warm).
   */
  public static final String VOTES = "fleetvote.votes";

  /**
   * Request, answered by a <em>local</em> consumer of each coordinator (its live registry), so it never crosses the
   * cluster; the body is ignored. The reply is {@code {"instances": [...]}}: each live agent's
   * {@link io.fleetvote.common.msg.AgentHeartbeat} JSON plus {@code lastSeenMillisAgo}, sorted by instance id.
   * Asked by the coordinator's HTTP API.
   */
  public static final String REGISTRY_QUERY = "fleetvote.coordinator.registry";

  /**
   * Request, local to each coordinator: {@code {"group"?, "outcome"?, "limit"?}} answered by its autoscaler with
   * {@code {"entries": [...]}}, the decision ledger newest first. Asked by the coordinator's HTTP API.
   */
  public static final String LEDGER_QUERY = "fleetvote.coordinator.ledger";

  /**
   * Publish, local to each coordinator (never sent across the cluster: {@code localConsumer}), by its leadership
   * whenever it becomes the leader of an epoch or stops being the leader: {@code {"leader", "epoch", "quorum", "why",
   * "holder"?, "holderEpoch"?}}. Listened to by every component that acts only as the leader (the autoscaler).
   */
  public static final String LEADERSHIP = "fleetvote.coordinator.leadership";

  /**
   * Request, local to each coordinator: answered by its autoscaler with its leadership state and each group's size,
   * launches in flight and instances. Asked by the coordinator's HTTP API.
   */
  public static final String SCALING_STATE = "fleetvote.coordinator.scaling";

  /**
   * Request, local consumer on each coordinator: an operator's action ({@code {"command", "group" | "instance", ...,
   * "user"}}) from the HTTP API. A standby forwards it to the leader's {@link #coordinatorCommands(String)}; the reply
   * names the ledger entry, a failure carries the HTTP status (400, 404, 409, 503) as its code.
   */
  public static final String SCALING_COMMAND = "fleetvote.coordinator.command";

  /**
   * Publish, every gossip period, by every LB agent: {@link io.fleetvote.common.msg.LbAnnouncement}, the group its
   * HAProxy serves and its frontend. Listened to by app agents (whom to register with) and tools (where the LB is).
   */
  public static final String LB_ANNOUNCEMENTS = "fleetvote.lb.announce";

  /**
   * Publish, after every reconcile, by every LB agent: {@link io.fleetvote.common.msg.LbStatus}, its HAProxy backend
   * server by server. Listened to by the coordinators' dashboards.
   */
  public static final String LB_STATUS = "fleetvote.lb.status";

  /**
   * Publish, once a second, by every DB agent: {@link io.fleetvote.common.msg.DbStatus}, its MariaDB and its
   * replication. Listened to by the coordinators (the DB pair's topology, the dashboard).
   */
  public static final String DB_STATUS = "fleetvote.db.status";

  /**
   * Publish, every tick, by the leader coordinator: {@link io.fleetvote.common.msg.DbRoute}, the DB pair's master (the
   * LBs' write backend) and replicating replicas (their read backend). Listened to by LB agents.
   */
  public static final String DB_ROUTES = "fleetvote.db.routes";

  /** Request, local to each coordinator: its DB instances' latest reports (what {@code GET /api/db} answers). */
  public static final String DB_QUERY = "fleetvote.coordinator.db";

  /**
   * An operator acknowledging the DB pair's latest failover (local to each coordinator, request/reply, body
   * {@code {"user": ...}}): the anti-flap window lifted, a failed failover let go.
   */
  public static final String DB_ACKNOWLEDGE = "fleetvote.coordinator.db.acknowledge";

  /**
   * An operator putting the DB pair under maintenance or taking it out (local to each coordinator, request/reply, body
   * {@code {"user": ..., "on": true|false, "reason": ...}}): under maintenance the master is never judged dead.
   */
  public static final String DB_MAINTENANCE = "fleetvote.coordinator.db.maintenance";

  /**
   * An operator asking for a switchover of the DB pair (local to each coordinator, request/reply, body
   * {@code {"user": ...}}): the request is written beside the topology and the leader answers it there.
   */
  public static final String DB_SWITCHOVER = "fleetvote.coordinator.db.switchover";

  /**
   * An operator forcing the failover of a dead master that automatic failover refuses (local to each coordinator,
   * request/reply, body {@code {"user": ..., "reason": ...}}): written beside the topology like a switchover's
   * request, in its place; the leader answers it there.
   */
  public static final String DB_FAILOVER = "fleetvote.coordinator.db.failover";

  /** An operator having the DB pair's replica slot built anew (local, request/reply, body {@code {"user": ...}}). */
  public static final String DB_REBUILD = "fleetvote.coordinator.db.rebuild";

  /**
   * Publish, local to each coordinator, once a second: the dashboard's snapshot of the fleet (groups, instances,
   * HAProxy backends). Bridged to logged-in browsers (outbound only).
   */
  public static final String UI_SNAPSHOT = "fleetvote.ui.snapshot";

  /** Publish, local to each coordinator: the dashboard's events feed (ledger entries, instances joining, leaving). */
  public static final String UI_EVENTS = "fleetvote.ui.events";

  /** Request, local consumer on each coordinator: the dashboard's latest snapshot, for {@code GET /api/dashboard}. */
  public static final String UI_QUERY = "fleetvote.coordinator.dashboard";

  /**
   * Request, to the LB agent of instance {@code lbInstanceId}: {@link io.fleetvote.common.msg.RegisterRequest}, answered
   * with a {@link io.fleetvote.common.msg.RegistrationReply} once the server takes traffic. Sent by app agents to every
   * LB agent they hear heartbeats from.
   */
  public static String lbRegister(String lbInstanceId) {
    return "fleetvote.lb." + lbInstanceId + ".register";
  }

  /**
   * Request, to the LB agent of instance {@code lbInstanceId}: {@link io.fleetvote.common.msg.DeregisterRequest},
   * answered with a {@link io.fleetvote.common.msg.RegistrationReply} once the server is deleted (or was not there).
   */
  public static String lbDeregister(String lbInstanceId) {
    return "fleetvote.lb." + lbInstanceId + ".deregister";
  }

  /**
   * Request, to the agent of instance {@code instanceId}: a {@link io.fleetvote.common.msg.DrainRequest}; the agent
   * leaves every LB's backend gracefully (or, for an undrain, registers again) and answers with a
   * {@link io.fleetvote.common.msg.DrainReply}. Sent by the leader coordinator before it terminates a scale-in or
   * replacement victim, and for an operator's drain or undrain.
   */
  public static String agentDrain(String instanceId) {
    return "fleetvote.agent." + instanceId + ".drain";
  }

  /**
   * Request, to one instance's agent alone, over its attested connection to a coordinator: the credentials it needs
   * (a database account's, issue 12), never in its user-data, tags or logs. Sent by the leader coordinator; only the
   * connection bound to that instance may receive what this address receives (the gateway's policy), so no other
   * agent can. The agent answers once it holds them.
   */
  public static String agentSecrets(String instanceId) {
    return "fleetvote.agent." + instanceId + ".secrets";
  }

  /**
   * Request, to the DB agent of instance {@code instanceId} alone: a {@link io.fleetvote.common.msg.DbCommand} (master
   * or replica of the pair, with the pair's passwords), answered with the agent's
   * {@link io.fleetvote.common.msg.DbStatus} once carried out. Sent by the leader coordinator only; like
   * {@link #agentSecrets}, only the connection bound to that instance may receive it.
   */
  public static String dbControl(String instanceId) {
    return "fleetvote.agent." + instanceId + ".db";
  }

  /** Request, to the coordinator {@code coordinatorId} (its API address): an operator's action a standby forwards. */
  public static String coordinatorCommands(String coordinatorId) {
    return "fleetvote.coordinator." + coordinatorId + ".command";
  }
}
