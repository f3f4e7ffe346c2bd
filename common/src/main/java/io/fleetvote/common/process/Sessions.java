package io.fleetvote.common.process;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Starting a process in a session of its own. */
public final class Sessions {

  private static final Path SETSID = Path.of("/usr/bin/setsid");

  private Sessions() {
  }

  /**
   * The command run in a new session by {@code setsid} (when the machine has it), so that a signal to its starter's
   * process group (a terminal's SIGINT goes to the whole group) does not reach it: the starter stops it in order.
   * {@code setsid} execs in place, so the pid is the program's own.
   */
  public static List<String> inOwnSession(List<String> command) {
    if (!Files.isExecutable(SETSID)) {
      return command;
    }
    List<String> wrapped = new ArrayList<>();
    wrapped.add(SETSID.toString());
    wrapped.addAll(command);
    return wrapped;
  }
}
