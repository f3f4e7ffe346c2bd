package io.fleetvote.sandbox;

/** EC2's instance states with their codes, as {@code <instanceState><code>..</code><name>..</name>} carries them. */
public enum InstanceState {
  PENDING(0, "pending"),
  RUNNING(16, "running"),
  SHUTTING_DOWN(32, "shutting-down"),
  TERMINATED(48, "terminated"),
  STOPPING(64, "stopping"),
  STOPPED(80, "stopped");

  private final int code;
  private final String ec2Name;

  InstanceState(int code, String ec2Name) {
    this.code = code;
    this.ec2Name = ec2Name;
  }

  public int code() {
    return code;
  }

  public String ec2Name() {
    return ec2Name;
  }

  public static InstanceState fromEc2Name(String name) {
    for (InstanceState state : values()) {
      if (state.ec2Name.equals(name)) {
        return state;
      }
    }
    throw new IllegalArgumentException("unknown instance state '" + name + "'");
  }
}
