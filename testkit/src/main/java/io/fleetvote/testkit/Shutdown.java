package io.fleetvote.testkit;

/**
 * What a tool must still do if its JVM exits before it did it (Ctrl-C or SIGTERM to a benchmark or the demo): stop the
 * processes it started. A registration is cancelled once the owner did it itself.
 */
public final class Shutdown {

  private Shutdown() {
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
        action.run();
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
