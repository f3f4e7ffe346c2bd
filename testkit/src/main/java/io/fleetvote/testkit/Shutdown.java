package io.fleetvote.testkit;

/**
 * What a tool must still do if its JVM exits before it did it (Ctrl-C or SIGTERM to a benchmark): stop the processes
 * it started. A registration is cancelled once the owner did it itself. A tool whose own shutdown stops them in its
 * order (the demo: its load, then the coordinator, then the sandbox) says so first ({@link #ownerStopsAtExit}), and
 * these stand down rather than race it.
 */
public final class Shutdown {

  private static volatile boolean ownerStops;

  private Shutdown() {
  }

  /** This JVM's own shutdown stops what it started, in its order: nothing registered here acts at exit. */
  public static void ownerStopsAtExit() {
    ownerStops = true;
  }

  /** What {@link #onExit} registered. */
  public interface Registration {
    /** Done by its owner: nothing to do at exit. */
    void cancel();
  }

  /** Runs {@code action} (named {@code what}) when the JVM exits, unless cancelled before. */
  public static Registration onExit(String what, Runnable action) {
    Thread hook = new Thread(() -> {
      try {
        if (!ownerStops) {
          action.run();
        }
      } catch (RuntimeException e) {
        System.err.println("at exit, could not " + what + ": " + e.getMessage());
      }
    }, "at exit: " + what);
    try {
      Runtime.getRuntime().addShutdownHook(hook);
    } catch (IllegalStateException e) {
      // The JVM is already exiting: the owner is on its way out and does it itself.
      return () -> { };
    }
    return () -> {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // exiting: the hook runs (or ran) and finds the work done
      }
    };
  }
}
