package io.fleetvote.agent.lb;

import io.fleetvote.common.LogSafe;

/**
 * HAProxy answered something other than what the command expects, could not be reached, or was not asked at all
 * because an argument was refused ({@link #reply()} is null then, and nothing was sent).
 */
public final class HaproxyException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final String command;
  private final String reply;

  public HaproxyException(String command, String reply, String problem) {
    this(command, reply, problem, null);
  }

  /** With the cause of a failure to reach HAProxy (connection refused, no such socket file, ...). */
  public HaproxyException(String command, String reply, String problem, Throwable cause) {
    super("HAProxy: '" + command + "': " + problem + (reply == null ? "" : " (answered: '" + LogSafe.printable(reply.strip(), 160) + "')"),
        cause);
    this.command = command;
    this.reply = reply;
  }

  public String command() {
    return command;
  }

  /** What HAProxy answered (null when it could not be reached). */
  public String reply() {
    return reply;
  }
}
