package io.fleetvote.sandbox;

import java.nio.file.Path;
import java.util.List;

/**
 * How the sandbox runs.
 *
 * @param port                      the EC2 endpoint and admin API on 127.0.0.1
 * @param stateDir                  where state, instance directories and logs live
 * @param imagesFile                the image catalog, or null for the built-in one
 * @param region                    the region the sandbox pretends to be
 * @param maxInstances              how many instances may be alive at once (beyond: InsufficientInstanceCapacity)
 * @param maxVcpus                  how many vCPUs the instances that are neither stopped nor terminated may have in
 *                                  all (beyond: InsufficientInstanceCapacity); by default the host's cores
 * @param terminatedRetentionMillis how long terminated instances stay describable
 * @param home                      the Fleetvote install ({@code ${home}} in image commands)
 * @param java                      the java binary for {@code ${java}}
 */
public record SandboxOptions(int port, Path stateDir, Path imagesFile, String region, int maxInstances,
                             double maxVcpus, long terminatedRetentionMillis, Path home, String java) {

  public static final int DEFAULT_PORT = 8600;
  public static final String DEFAULT_REGION = "us-east-1";
  public static final int DEFAULT_MAX_INSTANCES = 64;
  public static final long DEFAULT_TERMINATED_RETENTION_MILLIS = 3_600_000;

  /** The cores this sandbox may use, the default of {@code maxVcpus}: quotas beyond them promise CPU it has not. */
  public static int hostCores() {
    return Runtime.getRuntime().availableProcessors();
  }

  /** The availability zones: the region with {@code a} and {@code b}; launches without a zone use the first. */
  public List<String> zones() {
    return List.of(region + "a", region + "b");
  }

  /** The java binary running this sandbox. */
  public static String defaultJava() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }
}
