package io.fleetvote.common.process;

/** Where a {@link ChildSupervisor} is with its child process. */
public enum ChildState {
  /** No child runs, and none will until {@link ChildSupervisor#start()}. */
  STOPPED,
  /** A child was spawned and is being probed until it is ready or its start times out. */
  STARTING,
  /** The child passed its readiness check and is being kept running. */
  READY,
  /** The child died (or a restart failed): the next start waits out its backoff. */
  BACKING_OFF,
  /** {@link ChildSupervisor#stop()} is walking the child down its stop ladder. */
  STOPPING
}
