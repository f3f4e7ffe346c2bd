package io.fleetvote.common.process;

import java.util.List;

/** A child did not start: it could not be spawned, exited, or was not ready in time. The message quotes its log. */
public final class ChildStartException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final List<String> command;
  private final String problem;

  ChildStartException(String name, List<String> command, String problem, Throwable cause) {
    super(name + ": '" + String.join(" ", command) + "': " + problem, cause);
    this.command = command;
    this.problem = problem;
  }

  public List<String> command() {
    return command;
  }

  /** Why, with the end of the child's log: the message without the name and command. */
  public String problem() {
    return problem;
  }
}
