package io.fleetvote.agent;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * What the agent knows of its own instance and shares between verticles: how its app answers its health probe, and
 * whether the instance is out of its LBs: leaving for good (terminating) or drained by an operator (it may come back).
 * Thread-safe, and it outlives a cluster rejoin (a new Vert.x).
 */
final class InstanceState {

  /**
   * The app as the agent's probe finds it.
   *
   * @param ready    it answers its health check: an LB may route to it
   * @param refusing it refuses connections (not running): nothing can be served by it
   * @param problem  why it is not ready, in a few words; empty when it is
   */
  record App(boolean ready, boolean refusing, String problem) {

    static final App NOT_PROBED = new App(false, false, "not probed yet");
    static final App READY = new App(true, false, "");

    App {
      Objects.requireNonNull(problem, "problem");
    }
  }

  private final AtomicReference<App> app = new AtomicReference<>(App.NOT_PROBED);
  private final AtomicBoolean terminating = new AtomicBoolean();
  private final AtomicBoolean drained = new AtomicBoolean();

  boolean appReady() {
    return app.get().ready();
  }

  App app() {
    return app.get();
  }

  /** Records the app's latest state; returns true when its readiness changed. */
  boolean app(App next) {
    return app.getAndSet(next).ready() != next.ready();
  }

  /** Out of its LBs: no LB may add it again, whether it is terminating or drained. */
  boolean leaving() {
    return terminating.get() || drained.get();
  }

  boolean terminating() {
    return terminating.get();
  }

  /** Marks the instance as leaving for good (it is being terminated); returns true the first time. */
  boolean leave() {
    return !terminating.getAndSet(true);
  }

  /** An operator's drain: out of rotation until undrained; returns true when it was not drained yet. */
  boolean drain() {
    return !drained.getAndSet(true);
  }

  /** Back in rotation after an operator's drain; false when it was not drained. */
  boolean undrain() {
    return drained.getAndSet(false);
  }
}
