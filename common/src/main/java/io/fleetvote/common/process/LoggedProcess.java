package io.fleetvote.common.process;

import java.io.File;
import java.nio.file.Path;
import java.util.List;

/** How a long-lived child is started: no input, its output and its errors appended to one log file. */
public final class LoggedProcess {

  private static final File NO_INPUT = new File("/dev/null");

  private LoggedProcess() {
  }

  /**
   * A builder for {@code command} with stdin from /dev/null and stdout and stderr each appended to {@code log}
   * (opened twice in append mode, so their lines interleave as written). Not {@code redirectErrorStream(true)}: with
   * it the JDK keeps a pipe open in the parent for each child's life, and a sandbox of 5,000 instances ran out of
   * file descriptors on them.
   */
  public static ProcessBuilder builder(List<String> command, Path log) {
    ProcessBuilder.Redirect append = ProcessBuilder.Redirect.appendTo(log.toFile());
    return new ProcessBuilder(command).redirectOutput(append).redirectError(append)
        .redirectInput(ProcessBuilder.Redirect.from(NO_INPUT));
  }
}
