package io.fleetvote.coordinator.fleet;

import io.vertx.core.Future;

import java.util.List;

/**
 * The cloud as the coordinator acts on it: the instances of one deployment, launched, stopped, started and terminated
 * through the EC2 API. {@link Ec2Fleet} is the implementation (the AWS SDK's async EC2 client, pointed at EC2 or at
 * the sandbox). Futures complete on the caller's Vert.x context.
 */
public interface Fleet {

  /**
   * Every instance tagged with this deployment and a group that is not terminated (all pages of DescribeInstances).
   * Not retried beyond the SDK's own attempts: a failure is a {@link FleetException}, and the caller asks again later.
   */
  Future<List<FleetInstance>> describe();

  /**
   * RunInstances for the order, tagged {@code fleetvote:deployment}, {@code fleetvote:group}, {@code fleetvote:role=app}.
   * Throttling, capacity errors and server errors are retried with backoff (the listener hears of each) until the
   * retry window closes; errors that a retry cannot fix (a bad image, a token reused with other parameters) fail
   * at once. Completes with the instances of the reservation, the same ones however often the order is sent.
   * Fails with a {@link FleetException} naming EC2's last error code.
   */
  Future<List<FleetInstance>> launch(LaunchOrder order, RetryListener listener);

  /**
   * TerminateInstances, retried like {@link #launch}; instances already gone are not an error. Instances of another
   * deployment are never terminated: naming one fails the whole call.
   */
  Future<Void> terminate(List<String> instanceIds, RetryListener listener);

  /**
   * StopInstances, retried and checked like {@link #terminate}; instances already stopped, stopping or gone are not an
   * error. {@code force} is EC2's Force: stopped at once, without a clean shutdown (what fences a server whose agent
   * no longer answers). Completes once EC2 took the stop, the instances stopping: only a describe that lists them
   * stopped says that they are.
   */
  Future<Void> stop(List<String> instanceIds, boolean force, RetryListener listener);

  /**
   * StartInstances, retried like {@link #launch}: stopped instances boot again with the same ids, addresses and
   * volumes; pending or running ones are not an error. Instances of another deployment are never started: naming one
   * fails the whole call, as does one that cannot start (unknown to EC2, stopping, gone: a {@link FleetException}
   * naming EC2's code). Completes once EC2 took the start, the instances pending.
   */
  Future<Void> start(List<String> instanceIds, RetryListener listener);

  /** Every volume tagged with this deployment (all pages of DescribeVolumes), deleted ones excepted. Not retried. */
  Future<List<FleetVolume>> volumes();

  /**
   * CreateVolume for the order, tagged {@code fleetvote:deployment} and {@code fleetvote:group}; retried like
   * {@link #launch}. Completes with the volume (creating), the same one however often the order is sent.
   */
  Future<FleetVolume> createVolume(VolumeOrder order, RetryListener listener);

  /**
   * AttachVolume of the deployment's volume to the deployment's instance as {@code device}; retried like
   * {@link #launch}. A volume of another deployment, or an instance of another, fails the call without attaching.
   */
  Future<Void> attachVolume(String volumeId, String instanceId, String device, RetryListener listener);

  /** Releases the client, off the event loop (the HTTP client's shutdown blocks); actions in progress fail. */
  Future<Void> close();
}
