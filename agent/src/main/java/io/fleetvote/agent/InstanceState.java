package io.fleetvote.agent;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * What the agent knows of its own instance and shares between verticles: whether the app answers its health check,
 * and whether the instance is leaving. Thread-safe, and it outlives a cluster rejoin (a new Vert.x).
 */
final class InstanceState {

  private final AtomicBoolean appReady = new AtomicBoolean();
  private final AtomicBoolean leaving = new AtomicBoolean();

  boolean appReady() {
    return appReady.get();
  }

  /** Sets whether the app answers; returns true when that changed. */
  boolean appReady(boolean ready) {
    return appReady.getAndSet(ready) != ready;
  }

  boolean leaving() {
    return leaving.get();
  }

  /** Marks the instance as leaving, for good; returns true the first time. */
  boolean leave() {
    return !leaving.getAndSet(true);
  }
}
