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
 */
public record ProcessSpec(String name, List<String> command, Map<String, String> env, long stopTimeoutMillis) {

  public ProcessSpec {
    command = List.copyOf(command);
    env = Map.copyOf(env);
  }
}
