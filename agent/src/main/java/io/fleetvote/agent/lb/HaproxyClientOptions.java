package io.fleetvote.agent.lb;

/** How a {@link HaproxyClient} talks to the admin socket: how long a command may take, how many run at once. */
public final class HaproxyClientOptions {

  public static final long DEFAULT_COMMAND_TIMEOUT_MS = 2000;
  /** Below HAProxy's own default {@code stats maxconn} of 10, so even an HAProxy we did not configure answers all. */
  public static final int DEFAULT_MAX_CONNECTIONS = 8;

  private static final long MIN_COMMAND_TIMEOUT_MS = 10;
  private static final long MAX_COMMAND_TIMEOUT_MS = 120_000;
  private static final int MAX_MAX_CONNECTIONS = 1024;

  private long commandTimeoutMs = DEFAULT_COMMAND_TIMEOUT_MS;
  private int maxConnections = DEFAULT_MAX_CONNECTIONS;

  public HaproxyClientOptions() {
  }

  public HaproxyClientOptions(HaproxyClientOptions other) {
    commandTimeoutMs = other.commandTimeoutMs;
    maxConnections = other.maxConnections;
  }

  /** From connecting to the end of the reply; a command still waiting for a connection slot is not yet timed. */
  public long getCommandTimeoutMs() {
    return commandTimeoutMs;
  }

  public HaproxyClientOptions setCommandTimeoutMs(long commandTimeoutMs) {
    this.commandTimeoutMs = Arguments.within("commandTimeoutMs", commandTimeoutMs, MIN_COMMAND_TIMEOUT_MS,
        MAX_COMMAND_TIMEOUT_MS);
    return this;
  }

  /** Connections open at once; more commands wait their turn. Keep it below HAProxy's {@code stats maxconn}. */
  public int getMaxConnections() {
    return maxConnections;
  }

  public HaproxyClientOptions setMaxConnections(int maxConnections) {
    this.maxConnections = (int) Arguments.within("maxConnections", maxConnections, 1, MAX_MAX_CONNECTIONS);
    return this;
  }
}
