package io.fleetvote.coordinator.fleet;

import io.fleetvote.common.Tags;
import io.fleetvote.common.msg.MessageException;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.ec2.Ec2AsyncClient;
import software.amazon.awssdk.services.ec2.Ec2AsyncClientBuilder;
import software.amazon.awssdk.services.ec2.model.CreateVolumeRequest;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.InstanceState;
import software.amazon.awssdk.services.ec2.model.InstanceStateChange;
import software.amazon.awssdk.services.ec2.model.InstanceStateName;
import software.amazon.awssdk.services.ec2.model.Placement;
import software.amazon.awssdk.services.ec2.model.Reservation;
import software.amazon.awssdk.services.ec2.model.ResourceType;
import software.amazon.awssdk.services.ec2.model.RunInstancesRequest;
import software.amazon.awssdk.services.ec2.model.Tag;
import software.amazon.awssdk.services.ec2.model.TagSpecification;
import software.amazon.awssdk.services.ec2.model.Volume;
import software.amazon.awssdk.services.ec2.model.VolumeAttachment;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The {@link Fleet} on EC2 (or the sandbox) through the AWS SDK's async EC2 client over Netty.
 * <p>
 * Each call to EC2 is started on a worker thread, because the SDK may resolve credentials on the calling thread (on
 * AWS, from instance metadata), and its answer is handed back on the caller's context. Launches, stops, starts and
 * terminations are retried on Vert.x timers as {@link RetryPolicy} says; {@link #describe()} is not (the SDK's own
 * attempts only): its callers describe again on their next tick.
 */
public final class Ec2Fleet implements Fleet {

  private static final Logger LOG = LoggerFactory.getLogger(Ec2Fleet.class);
  /** Every state but terminated. */
  private static final List<String> NOT_TERMINATED = List.of("pending", "running", "shutting-down", "stopping",
      "stopped");
  private static final Set<String> OWN_TAGS = Set.of(Tags.DEPLOYMENT, Tags.GROUP, Tags.ROLE);
  /** Attempts per call in the SDK's default (legacy) retry mode, each bounded by the call timeout. */
  private static final int SDK_ATTEMPTS = 4;
  private static final Duration MAX_CONNECT_TIMEOUT = Duration.ofSeconds(10);

  private final Vertx vertx;
  private final String deployment;
  private final Ec2AsyncClient ec2;
  private final RetryPolicy policy;
  private final AtomicReference<Set<String>> ungrouped = new AtomicReference<>(Set.of());

  private Ec2Fleet(Vertx vertx, FleetOptions options, Ec2AsyncClient ec2) {
    this.vertx = vertx;
    this.deployment = options.getDeployment();
    this.ec2 = ec2;
    SecureRandom random = new SecureRandom();
    this.policy = new RetryPolicy(options.getRetryWindowMillis(), options.getFirstRetryDelayMillis(),
        options.getMaxRetryDelayMillis(), random::nextDouble);
  }

  /**
   * A fleet for {@code options.getDeployment()}; throws {@link MessageException} for invalid options or a missing
   * deployment. Without an endpoint the SDK reads the region chain here (environment, profile, instance metadata).
   */
  public static Ec2Fleet create(Vertx vertx, FleetOptions options) {
    FleetOptions checked = new FleetOptions(options);
    if (checked.getDeployment() == null) {
      throw new MessageException("deployment", "is missing");
    }
    return new Ec2Fleet(vertx, checked, client(checked));
  }

  private static Ec2AsyncClient client(FleetOptions options) {
    Duration attempt = Duration.ofMillis(options.getCallTimeoutMillis());
    Duration connect = attempt.compareTo(MAX_CONNECT_TIMEOUT) < 0 ? attempt : MAX_CONNECT_TIMEOUT;
    Ec2AsyncClientBuilder builder = Ec2AsyncClient.builder()
        .httpClientBuilder(NettyNioAsyncHttpClient.builder().connectionTimeout(connect).readTimeout(attempt)
            .writeTimeout(attempt))
        .overrideConfiguration(o -> o.apiCallAttemptTimeout(attempt)
            .apiCallTimeout(attempt.multipliedBy(SDK_ATTEMPTS)));
    if (options.getEndpoint() != null) {
      builder.endpointOverride(options.getEndpoint())
          .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("fleetvote", "fleetvote")))
          .region(Region.of(Objects.requireNonNullElse(options.getRegion(), FleetOptions.DEFAULT_ENDPOINT_REGION)));
    } else if (options.getRegion() != null) {
      builder.region(Region.of(options.getRegion()));
    }
    return builder.build();
  }

  /**
   * The deployment's instances that are not terminated. Instances tagged with the deployment but without a
   * {@code fleetvote:group} tag are left out (they were not launched by a fleet; one log line when that set changes).
   */
  @Override
  public Future<List<FleetInstance>> describe() {
    Action action = new Action("DescribeInstances deployment=" + deployment, RetryListener.NONE, false);
    return action.call(() -> instances(filter("tag:" + Tags.DEPLOYMENT, List.of(deployment)),
        filter("instance-state-name", NOT_TERMINATED))).map(this::members);
  }

  /**
   * {@inheritDoc}
   * <p>
   * Fails at once, without calling EC2, when the order has no client token (a retry could launch twice) or its tags
   * set one of the fleet's own tag keys. Tags are sent sorted by key, so the same order always has the same
   * parameters, whichever coordinator sends it.
   */
  @Override
  public Future<List<FleetInstance>> launch(LaunchOrder order, RetryListener listener) {
    if (order.clientToken() == null || order.clientToken().isBlank()) {
      return Future.failedFuture(new IllegalArgumentException("launch order for group " + order.group()
          + " has no client token"));
    }
    Set<String> clash = new TreeSet<>(order.tags().keySet());
    clash.retainAll(OWN_TAGS);
    if (!clash.isEmpty()) {
      return Future.failedFuture(new IllegalArgumentException("launch order for group " + order.group()
          + " sets the fleet's own tags " + clash));
    }
    RunInstancesRequest request = runRequest(order);
    Action action = new Action("RunInstances group=" + order.group() + " count=" + order.count() + " image="
        + order.imageId() + " token=" + order.clientToken(), listener, true);
    return action.call(() -> ec2.runInstances(request)).map(response -> {
      List<FleetInstance> launched = response.instances().stream()
          .map(instance -> fleetInstance(instance, order.group())).toList();
      LOG.info("{}: reservation {}, instances {}", action.name, response.reservationId(),
          launched.stream().map(FleetInstance::instanceId).toList());
      return launched;
    });
  }

  private RunInstancesRequest runRequest(LaunchOrder order) {
    Map<String, String> tags = new TreeMap<>(order.tags());
    tags.put(Tags.DEPLOYMENT, deployment);
    tags.put(Tags.GROUP, order.group());
    tags.put(Tags.ROLE, order.role());
    return RunInstancesRequest.builder()
        .imageId(order.imageId())
        .instanceType(order.instanceType())
        .placement(order.zone() == null ? null : Placement.builder().availabilityZone(order.zone()).build())
        .minCount(order.count())
        .maxCount(order.count())
        .clientToken(order.clientToken())
        .userData(order.userData() == null ? null
            : Base64.getEncoder().encodeToString(order.userData().getBytes(StandardCharsets.UTF_8)))
        .tagSpecifications(TagSpecification.builder().resourceType(ResourceType.INSTANCE)
            .tags(tags.entrySet().stream().map(tag -> Tag.builder().key(tag.getKey()).value(tag.getValue()).build())
                .toList())
            .build())
        .build();
  }

  /**
   * {@inheritDoc}
   * <p>
   * First describes the ids (by filter, which unknown ids do not fail), then terminates in one call those not yet
   * terminated. Ids EC2 does not know are counted as gone (logged). If any id belongs to another deployment,
   * nothing is terminated and the future fails: the fleet acts only on its own instances.
   */
  @Override
  public Future<Void> terminate(List<String> instanceIds, RetryListener listener) {
    return halt("TerminateInstances", "terminate", instanceIds, listener, Set.of(InstanceStateName.TERMINATED),
        live -> ec2.terminateInstances(b -> b.instanceIds(live)).thenApply(r -> r.terminatingInstances()));
  }

  /**
   * {@inheritDoc}
   * <p>
   * Checked and sent as {@link #terminate} is; those shutting down or terminated are not sent (EC2 would refuse the
   * whole call: IncorrectInstanceState). Stopping and stopped ones are: EC2 takes that as no change, and a forced
   * stop cuts short a stop under way.
   */
  @Override
  public Future<Void> stop(List<String> instanceIds, boolean force, RetryListener listener) {
    return halt("StopInstances" + (force ? " (Force)" : ""), "stop", instanceIds, listener,
        Set.of(InstanceStateName.SHUTTING_DOWN, InstanceStateName.TERMINATED),
        live -> ec2.stopInstances(b -> b.instanceIds(live).force(force)).thenApply(r -> r.stoppingInstances()));
  }

  /**
   * {@inheritDoc}
   * <p>
   * After the check against other deployments, every id is sent: one EC2 does not know, or cannot start (stopping,
   * shutting down, terminated), fails the call with EC2's code (InvalidInstanceID.NotFound, IncorrectInstanceState).
   */
  @Override
  public Future<Void> start(List<String> instanceIds, RetryListener listener) {
    if (instanceIds.isEmpty()) {
      return Future.succeededFuture();
    }
    List<String> requested = List.copyOf(new LinkedHashSet<>(instanceIds));
    Action action = new Action("StartInstances " + requested, listener, true);
    return own(action, "start", requested).compose(found -> changeStates(action,
        () -> ec2.startInstances(b -> b.instanceIds(requested)).thenApply(r -> r.startingInstances())));
  }

  /**
   * The requested instances of the deployment ({@link #own}), sent in one call but for those EC2 does not know or
   * lists in a state of {@code gone}: those are counted as gone (logged), and none left means no call at all.
   */
  private Future<Void> halt(String actionName, String verb, List<String> instanceIds, RetryListener listener,
                            Set<InstanceStateName> gone,
                            Function<List<String>, CompletableFuture<List<InstanceStateChange>>> send) {
    if (instanceIds.isEmpty()) {
      return Future.succeededFuture();
    }
    List<String> requested = List.copyOf(new LinkedHashSet<>(instanceIds));
    Action action = new Action(actionName + " " + requested, listener, true);
    return own(action, verb, requested).compose(found -> {
      List<String> known = found.stream().map(Instance::instanceId).toList();
      List<String> unknown = requested.stream().filter(id -> !known.contains(id)).toList();
      List<String> live = found.stream().filter(instance -> instance.state() == null
          || !gone.contains(instance.state().name())).map(Instance::instanceId).toList();
      if (live.isEmpty()) {
        LOG.info("{}: nothing to {} (unknown to EC2, counted as gone: {})", action.name, verb, unknown);
        return Future.succeededFuture();
      }
      if (!unknown.isEmpty()) {
        LOG.info("{}: unknown to EC2, counted as gone: {}", action.name, unknown);
      }
      return changeStates(action, () -> send.apply(live));
    });
  }

  /**
   * The requested instances as DescribeInstances lists them (by filter: unknown ids are just not there), or a
   * failure naming those of another deployment, before anything is sent: the fleet acts only on its own instances.
   */
  private Future<List<Instance>> own(Action action, String verb, List<String> requested) {
    return action.call(() -> instances(filter("instance-id", requested))).compose(found -> {
      List<String> foreign = found.stream().filter(instance -> !deployment.equals(tag(instance, Tags.DEPLOYMENT)))
          .map(Instance::instanceId).toList();
      return foreign.isEmpty() ? Future.succeededFuture(found)
          : Future.failedFuture(new IllegalArgumentException("refusing to " + verb + " " + foreign + ": not tagged "
              + Tags.DEPLOYMENT + "=" + deployment));
    });
  }

  /** Sends a state change of the instances and logs each one's move as EC2 answers it. */
  private Future<Void> changeStates(Action action, Supplier<CompletableFuture<List<InstanceStateChange>>> send) {
    return action.call(send).<Void>map(changes -> {
      LOG.info("{}: {}", action.name, changes.stream().map(change -> change.instanceId() + " "
          + stateName(change.previousState()) + " -> " + stateName(change.currentState())).toList());
      return null;
    });
  }

  private static String stateName(InstanceState state) {
    return state == null ? "unknown" : state.nameAsString();
  }

  @Override
  public Future<List<FleetVolume>> volumes() {
    Action action = new Action("DescribeVolumes deployment=" + deployment, RetryListener.NONE, false);
    return action.call(() -> {
      List<FleetVolume> found = new ArrayList<>();
      return ec2.describeVolumesPaginator(b -> b.filters(filter("tag:" + Tags.DEPLOYMENT, List.of(deployment)))
              .maxResults(500))
          .volumes()
          .subscribe(volume -> found.add(fleetVolume(volume)))
          .thenApply(done -> found.stream().filter(v -> !v.state().equals("deleted")).toList());
    });
  }

  @Override
  public Future<FleetVolume> createVolume(VolumeOrder order, RetryListener listener) {
    if (order.clientToken() == null || order.clientToken().isBlank()) {
      return Future.failedFuture(new IllegalArgumentException("volume order for group " + order.group()
          + " has no client token"));
    }
    Map<String, String> tags = new TreeMap<>(order.tags());
    tags.put(Tags.DEPLOYMENT, deployment);
    tags.put(Tags.GROUP, order.group());
    CreateVolumeRequest request = CreateVolumeRequest.builder().availabilityZone(order.zone()).size(order.sizeGiB())
        .volumeType(order.volumeType()).clientToken(order.clientToken())
        .tagSpecifications(TagSpecification.builder().resourceType(ResourceType.VOLUME)
            .tags(tags.entrySet().stream().map(tag -> Tag.builder().key(tag.getKey()).value(tag.getValue()).build())
                .toList())
            .build())
        .build();
    Action action = new Action("CreateVolume group=" + order.group() + " zone=" + order.zone() + " size="
        + order.sizeGiB() + " token=" + order.clientToken(), listener, true);
    return action.call(() -> ec2.createVolume(request)).map(response -> {
      LOG.info("{}: volume {} ({})", action.name, response.volumeId(), response.stateAsString());
      return new FleetVolume(response.volumeId(), response.stateAsString(), response.availabilityZone(),
          response.size() == null ? 0 : response.size(), null, null, null, otherTags(response.tags(), Set.of(Tags.DEPLOYMENT)));
    });
  }

  @Override
  public Future<Void> attachVolume(String volumeId, String instanceId, String device, RetryListener listener) {
    Action action = new Action("AttachVolume " + volumeId + " to " + instanceId + " as " + device, listener, true);
    return action.call(() -> ec2.describeVolumes(b -> b.volumeIds(volumeId)))
        .compose(volumes -> action.call(() -> instances(filter("instance-id", List.of(instanceId))))
            .compose(instances -> {
              boolean ours = volumes.volumes().stream().allMatch(v -> deployment.equals(volumeTag(v.tags())))
                  && !instances.isEmpty() && instances.stream()
                      .allMatch(i -> deployment.equals(tag(i, Tags.DEPLOYMENT)));
              if (!ours) {
                return Future.failedFuture(new IllegalArgumentException("refusing to attach " + volumeId + " to "
                    + instanceId + ": both must be tagged " + Tags.DEPLOYMENT + "=" + deployment));
              }
              return action.call(() -> ec2.attachVolume(b -> b.volumeId(volumeId).instanceId(instanceId)
                  .device(device))).<Void>map(response -> {
                    LOG.info("{}: {}", action.name, response.stateAsString());
                    return null;
                  });
            }));
  }

  private static FleetVolume fleetVolume(Volume volume) {
    VolumeAttachment attached = volume.attachments().isEmpty() ? null : volume.attachments().get(0);
    return new FleetVolume(volume.volumeId(), volume.stateAsString(), volume.availabilityZone(),
        volume.size() == null ? 0 : volume.size(), attached == null ? null : attached.instanceId(),
        attached == null ? null : attached.stateAsString(), attached == null ? null : attached.device(),
        otherTags(volume.tags(), Set.of(Tags.DEPLOYMENT)));
  }

  private static String volumeTag(List<Tag> tags) {
    return tags.stream().filter(tag -> Tags.DEPLOYMENT.equals(tag.key())).map(Tag::value).findFirst().orElse(null);
  }

  /** Closes the SDK client on a worker thread (Netty's shutdown blocks); actions still retrying then fail. */
  @Override
  public Future<Void> close() {
    return vertx.executeBlocking(() -> {
      ec2.close();
      return null;
    });
  }

  /** All pages of DescribeInstances for these filters. */
  private CompletableFuture<List<Instance>> instances(Filter... filters) {
    List<Instance> found = new ArrayList<>();
    return ec2.describeInstancesPaginator(b -> b.filters(filters).maxResults(1000))
        .reservations()
        .flatMapIterable(Reservation::instances)
        .subscribe(found::add)
        .thenApply(done -> found);
  }

  private List<FleetInstance> members(List<Instance> instances) {
    List<FleetInstance> members = new ArrayList<>();
    Set<String> withoutGroup = new TreeSet<>();
    for (Instance instance : instances) {
      String group = tag(instance, Tags.GROUP);
      if (group == null) {
        withoutGroup.add(instance.instanceId());
      } else {
        members.add(fleetInstance(instance, group));
      }
    }
    if (!withoutGroup.equals(ungrouped.getAndSet(withoutGroup)) && !withoutGroup.isEmpty()) {
      LOG.info("describe: instances {} are tagged {}={} but have no {} tag: not the fleet's, left out", withoutGroup,
          Tags.DEPLOYMENT, deployment, Tags.GROUP);
    }
    return members;
  }

  private static FleetInstance fleetInstance(Instance instance, String defaultGroup) {
    return new FleetInstance(instance.instanceId(),
        Objects.requireNonNullElse(tag(instance, Tags.GROUP), defaultGroup),
        instance.state() == null ? "unknown" : instance.state().nameAsString(),
        instance.launchTime(),
        blankToNull(instance.clientToken()),
        blankToNull(instance.privateIpAddress()),
        instance.placement() == null ? null : blankToNull(instance.placement().availabilityZone()),
        otherTags(instance.tags(), Set.of(Tags.DEPLOYMENT, Tags.GROUP)));
  }

  /** The tags but those named (the first value of a key repeated). */
  private static Map<String, String> otherTags(List<Tag> tags, Set<String> without) {
    Map<String, String> other = new TreeMap<>();
    tags.forEach(tag -> other.putIfAbsent(tag.key(), tag.value()));
    other.keySet().removeAll(without);
    return other;
  }

  private static String tag(Instance instance, String key) {
    return instance.tags().stream().filter(tag -> key.equals(tag.key())).map(Tag::value).findFirst().orElse(null);
  }

  private static String blankToNull(String text) {
    return text == null || text.isBlank() ? null : text;
  }

  private static Filter filter(String name, List<String> values) {
    return Filter.builder().name(name).values(values).build();
  }

  /**
   * One fleet action on the caller's context: its calls share one retry window, one attempt count and one
   * listener, and every failure that ends it is a {@link FleetException}.
   */
  private final class Action {

    private final String name;
    private final RetryListener listener;
    private final boolean retries;
    private final Context context = vertx.getOrCreateContext();
    private final long startNanos = System.nanoTime();
    private int attempts;

    Action(String name, RetryListener listener, boolean retries) {
      this.name = name;
      this.listener = listener;
      this.retries = retries;
    }

    /** Sends the request, and again after a wait while it fails retryably and the window is open. */
    <T> Future<T> call(Supplier<CompletableFuture<T>> request) {
      attempts++;
      return context.<CompletableFuture<T>>executeBlocking(request::get, false)
          .compose(stage -> Future.fromCompletionStage(stage, context))
          .recover(failure -> {
            long elapsed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
            OptionalLong delay = retries && RetryPolicy.retryable(failure)
                ? policy.nextDelay(attempts, elapsed) : OptionalLong.empty();
            if (delay.isEmpty()) {
              FleetException error = new FleetException(name, attempts, elapsed, failure);
              LOG.warn("{}", error.getMessage());
              return Future.failedFuture(error);
            }
            retrying(failure, delay.getAsLong());
            return vertx.timer(delay.getAsLong(), TimeUnit.MILLISECONDS).compose(fired -> call(request));
          });
    }

    private void retrying(Throwable failure, long delayMillis) {
      String code = RetryPolicy.errorCode(failure);
      String message = RetryPolicy.errorMessage(failure);
      LOG.warn("{}: attempt {} failed with {} ({}); next attempt in {} ms", name, attempts, code, message, delayMillis);
      try {
        listener.retrying(attempts, code, message, Duration.ofMillis(delayMillis));
      } catch (RuntimeException e) {
        LOG.warn("{}: the retry listener failed", name, e);
      }
    }
  }
}
