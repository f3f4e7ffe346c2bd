package io.fleetvote.coordinator;

import io.fleetvote.common.FleetvoteHome;
import io.fleetvote.common.cluster.JvmFlags;
import io.fleetvote.common.msg.LeadershipState;
import io.fleetvote.common.net.FreePorts;
import io.fleetvote.common.tls.ClusterKey;
import io.fleetvote.testkit.CoordinatorClient;
import io.fleetvote.testkit.ManagedProcess;
import io.fleetvote.testkit.SandboxProcess;
import software.amazon.awssdk.services.ec2.Ec2Client;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** A coordinator running as its own process (the jar a user runs), for tests that kill or freeze one. */
final class CoordinatorProcess implements AutoCloseable {

  final String name;
  final int httpPort;
  final int clusterPort;
  /** Its API, waiting 2 s for an answer: a coordinator that gives none is dead or frozen. */
  final CoordinatorClient api;
  private final ManagedProcess process;
  /** How it was started: {@link #restarted} starts the same again. */
  private final Path dir;
  private final List<Integer> allClusterPorts;
  private final List<String> args;
  private final int starts;

  private CoordinatorProcess(String name, int httpPort, int clusterPort, ManagedProcess process, Path dir,
                             List<Integer> allClusterPorts, List<String> args, int starts) {
    this.name = name;
    this.httpPort = httpPort;
    this.clusterPort = clusterPort;
    this.api = new CoordinatorClient(httpPort).withTimeout(Duration.ofSeconds(2));
    this.process = process;
    this.dir = dir;
    this.allClusterPorts = List.copyOf(allClusterPorts);
    this.args = List.copyOf(args);
    this.starts = starts;
  }

  /** Cluster ports for {@code count} coordinators that list each other as members. */
  static List<Integer> clusterPorts(int count) {
    List<Integer> ports = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      ports.add(FreePorts.pick());
    }
    return ports;
  }

  static CoordinatorProcess start(String name, Path dir, int clusterPort, List<Integer> allClusterPorts,
                                  List<String> args) {
    return start(name, dir, clusterPort, allClusterPorts, args, 1);
  }

  /**
   * The same coordinator started again once this one is gone (killed, say): its data directory, cluster port,
   * members and arguments; a new API port; its log beside the first ({@code c0-2.log}).
   */
  CoordinatorProcess restarted() {
    if (process.alive()) {
      throw new IllegalStateException("coordinator " + name + " still runs");
    }
    return start(name, dir, clusterPort, allClusterPorts, args, starts + 1);
  }

  private static CoordinatorProcess start(String name, Path dir, int clusterPort, List<Integer> allClusterPorts,
                                          List<String> args, int starts) {
    int httpPort = FreePorts.pick();
    List<String> all = new ArrayList<>(List.of("--no-auth", "--http-port", Integer.toString(httpPort),
        "--cluster-key", sharedKey(dir).toString(),
        "--cluster-port", Integer.toString(clusterPort),
        "--members", String.join(",", allClusterPorts.stream().map(p -> "127.0.0.1:" + p).toList()),
        "--data-dir", dir.resolve(name).toString()));
    all.addAll(args);
    ManagedProcess process = ManagedProcess.start("coordinator " + name,
        ManagedProcess.java(FleetvoteHome.dir(), "coordinator/target/fleetvote-coordinator.jar",
            "io.fleetvote.coordinator.CoordinatorMain", JvmFlags.localHazelcast(), all),
        dir.resolve(name + (starts == 1 ? "" : "-" + starts) + ".log"),
        URI.create("http://127.0.0.1:" + httpPort + "/health"), Duration.ofSeconds(60));
    return new CoordinatorProcess(name, httpPort, clusterPort, process, dir, allClusterPorts, args, starts);
  }

  /** Three coordinators of one new cluster on the sandbox ({@link #startCluster}). */
  static List<CoordinatorProcess> startThree(Path dir, SandboxProcess sandbox, Path groups, String deployment,
                                             int tickMillis, int fleetRefreshMillis) {
    return startCluster(3, dir, sandbox, groups, deployment, tickMillis, fleetRefreshMillis);
  }

  /**
   * {@code count} coordinators of one new cluster on the sandbox, with the groups file and these ticks: each its own
   * data directory under {@code dir} and its log beside it (one alone is a quorum of itself).
   */
  static List<CoordinatorProcess> startCluster(int count, Path dir, SandboxProcess sandbox, Path groups,
                                               String deployment, int tickMillis, int fleetRefreshMillis) {
    List<Integer> ports = clusterPorts(count);
    String cluster = deployment + "-" + UUID.randomUUID();
    List<CoordinatorProcess> started = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      List<String> args = new ArrayList<>(List.of("--deployment", deployment, "--cluster-name", cluster, "--groups",
          groups.toString(), "--coordinators", Integer.toString(count), "--ec2-endpoint",
          sandbox.endpoint().toString(), "--tick-ms", Integer.toString(tickMillis), "--fleet-refresh-ms",
          Integer.toString(fleetRefreshMillis)));
      args.addAll(sandbox.agentGatewayArgs());
      try {
        started.add(start("c" + i, dir, ports.get(i), ports, args));
      } catch (RuntimeException e) {
        started.forEach(CoordinatorProcess::close);
        throw e;
      }
    }
    return started;
  }

  /** Stops the coordinators, then the EC2 client and the sandbox (each that was made). */
  static void stopAll(List<CoordinatorProcess> coordinators, Ec2Client ec2, SandboxProcess sandbox) {
    coordinators.forEach(CoordinatorProcess::close);
    if (ec2 != null) {
      ec2.close();
    }
    if (sandbox != null) {
      sandbox.close();
    }
  }

  /** The cluster key of the coordinators of {@code dir}: made by the first, the same file for all. */
  static synchronized Path sharedKey(Path dir) {
    Path key = dir.resolve("cluster-key.p12");
    try {
      ClusterKey.make(key);
    } catch (Exception e) {
      throw new IllegalStateException("cannot make the cluster key " + key + ": " + e, e);
    }
    return key;
  }

  /** True when this coordinator says it is the leader. */
  boolean leads() {
    return api.ifAnswered(CoordinatorClient::leader).map(LeadershipState::leader).orElse(false);
  }

  long epoch() {
    return api.ifAnswered(CoordinatorClient::leader).map(LeadershipState::epoch).orElse(0L);
  }

  long pid() {
    return process.pid();
  }

  void kill() {
    process.kill();
  }

  /** SIGSTOP: frozen as by a stalled VM or a cut network, still holding its sockets. */
  void freeze() {
    signal("STOP");
  }

  void thaw() {
    signal("CONT");
  }

  @Override
  public void close() {
    if (process.alive()) {
      thaw();
    }
    process.close();
  }

  private void signal(String signal) {
    try {
      Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).start();
      if (kill.waitFor() != 0) {
        throw new IllegalStateException("kill -" + signal + " " + process.pid() + " failed");
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
