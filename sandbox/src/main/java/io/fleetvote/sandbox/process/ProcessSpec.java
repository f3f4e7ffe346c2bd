package io.fleetvote.sandbox.process;

import java.util.List;
import java.util.Map;

/**
 * One process of an image: a command line and environment with {@code ${...}} variables that the sandbox fills
 * in per instance (see {@link io.fleetvote.sandbox.ImageCatalog}).
 *
 * @param name              names the process in logs, pid files and the admin API
 * @param command           program and arguments
 * @param env               extra environment variables (the process does not inherit the sandbox's)
 * @param stopTimeoutMillis how long SIGTERM may take before SIGKILL
 * @param withinCapacity    started inside the instance's cgroup, under its type's CPU quota: the workload. False
 *                          for the platform beside it, like the built-in images' agents (and the LB agent's
 *                          HAProxy, its child): an agent's JVM start under a 0.25 vCPU quota would take 4x longer,
 *                          and an agent must keep measuring, voting and draining while its app saturates the quota
 */
public record ProcessSpec(String name, List<String> command, Map<String, String> env, long stopTimeoutMillis,
                          boolean withinCapacity) {

  public ProcessSpec {
    command = List.copyOf(command);
    env = Map.copyOf(env);
  }
}
