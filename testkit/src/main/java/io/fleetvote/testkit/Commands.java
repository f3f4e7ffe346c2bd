package io.fleetvote.testkit;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A short command run to its end, as a test's operator runs one: its output, or an error saying what it said. */
public final class Commands {

  private static final long LIMIT_SECONDS = 10;

  private Commands() {
  }

  /**
   * Runs {@code command} with {@code input} on its standard input and returns what it printed (standard error
   * too); throws {@link IllegalStateException} when it cannot start, runs past 10 s, or exits other than 0.
   */
  public static String run(List<String> command, String input) {
    try {
      Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
      process.getOutputStream().write(input.getBytes());
      process.getOutputStream().close();
      if (!process.waitFor(LIMIT_SECONDS, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IllegalStateException(command + " did not finish within " + LIMIT_SECONDS + " s");
      }
      String output = new String(process.getInputStream().readAllBytes());
      if (process.exitValue() != 0) {
        throw new IllegalStateException(command + " exited with " + process.exitValue() + ": " + output.strip()
            + (input.isEmpty() ? "" : " (input: " + input.strip() + ")"));
      }
      return output;
    } catch (IOException e) {
      throw new IllegalStateException("cannot run " + command + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
