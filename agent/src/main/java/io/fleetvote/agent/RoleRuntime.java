package io.fleetvote.agent;

import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.util.Optional;

/**
 * One role of an agent ({@code app}, {@code lb}, later {@code db}): what it sets up for the life of the process, the
 * verticles it deploys on each Vert.x the agent runs with, and how it leaves and stops on SIGTERM. {@link Agent}
 * runs one per role the instance holds, in the order of {@link io.fleetvote.common.msg.Role}.
 */
interface RoleRuntime {

  /** Sets up what outlives the agent's Vert.x (a load sensor, HAProxy), on the main thread; throws when it cannot. */
  void start();

  /**
   * Deploys the role's verticles on {@code vertx}, after the agent's HTTP endpoint and before its heartbeat.
   *
   * @param fleet how to talk to the fleet; empty for a standalone agent (no coordinators)
   */
  Future<?> deploy(Vertx vertx, Optional<AgentBus> fleet);

  /** SIGTERM, while the agent is still in its cluster: leave gracefully. Blocks; never throws. */
  default void leave() {
  }

  /** SIGTERM, once the agent has left its cluster: stop what {@link #start()} started. Blocks; never throws. */
  default void stop() {
  }
}
