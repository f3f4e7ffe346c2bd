package io.fleetvote.sandbox;

import io.fleetvote.sandbox.capacity.CpuQuota;
import io.fleetvote.sandbox.identity.IdentitySigner;
import io.fleetvote.sandbox.process.RunningProcess;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The sandbox cloud, as its APIs see it: EC2's rules over its resources ({@link CloudState}, pure), what runs behind
 * its instances ({@link InstanceRuntime}), and the faults to inject. Each call checks and moves the state, saves it
 * through {@link StateStore}, then hands the instances that moved to the runtime. Every method runs on the sandbox
 * verticle's event loop, so the state needs no locks.
 */
public final class Cloud {

  private static final Logger LOG = LoggerFactory.getLogger(Cloud.class);

  private final SandboxOptions options;
  private final ImageCatalog images;
  private final StateStore store;
  private final CpuQuota quota;
  private final Clock clock;
  private final Faults faults = new Faults();
  private final CloudState state;
  private final InstanceRuntime runtime;
  private final IdentitySigner signer;
  private final Vertx vertx;
  /** The volumes whose passing state (creating, attaching, ...) a timer will end; one timer each at a time. */
  private final Set<String> settling = new HashSet<>();

  public Cloud(Vertx vertx, SandboxOptions options, ImageCatalog images, StateStore store, CpuQuota quota,
               IdentitySigner signer, Clock clock) {
    this.signer = signer;
    this.vertx = vertx;
    this.options = options;
    this.images = images;
    this.store = store;
    this.quota = quota;
    this.clock = clock;
    this.state = new CloudState(options, images, faults, clock);
    this.runtime = new InstanceRuntime(vertx, options, images, state, quota, signer, clock, this::save);
  }

  public ImageCatalog images() {
    return images;
  }

  public SandboxOptions options() {
    return options;
  }

  public Faults faults() {
    return faults;
  }

  /** The certificate (PEM) that verifies the signatures of this cloud's instance identity documents. */
  public String identityCertificate() {
    return signer.certificatePem();
  }

  /** Launches instances (they boot in the background) or returns the reservation an earlier call with the token made. */
  public Reservation launch(CloudState.LaunchRequest request) {
    CloudState.Launch launch = state.launch(request);
    if (!launch.launched().isEmpty()) {
      save();
      launch.launched().forEach(instance -> runtime.boot(instance, instance.bootDelayMillis()));
    }
    return launch.reservation();
  }

  public Optional<Instance> find(String id) {
    return state.find(id);
  }

  /** All describable instances in launch order. */
  public List<Instance> instances() {
    return state.instances();
  }

  public Optional<Reservation> reservation(String id) {
    return state.reservation(id);
  }

  /** The instances with these ids, or InvalidInstanceID.NotFound naming every unknown one. */
  public List<Instance> require(List<String> ids) {
    return state.require(ids);
  }

  public List<CloudState.StateChange> terminate(List<String> ids) {
    CloudState.Moves moves = state.terminate(ids);
    save();
    moves.moved().forEach(instance -> runtime.halt(instance, InstanceState.TERMINATED));
    return moves.changes();
  }

  /** Stops the instances: SIGTERM to their processes, SIGKILL after each one's stop timeout, or at once if forced. */
  public List<CloudState.StateChange> stop(List<String> ids, boolean force) {
    CloudState.Moves moves = state.stop(ids, force);
    save();
    moves.moved().forEach(instance -> runtime.halt(instance, InstanceState.STOPPED));
    return moves.changes();
  }

  /** Starts stopped instances again: booted as at launch, with the same id, ports, user-data and volumes. */
  public List<CloudState.StateChange> start(List<String> ids) {
    CloudState.Moves moves = state.start(ids);
    save();
    moves.moved().forEach(instance -> runtime.boot(instance, 0));
    return moves.changes();
  }

  public void createTags(List<String> ids, List<String> volumeIds, Map<String, String> tags) {
    state.createTags(ids, volumeIds, tags);
    save();
  }

  // ---------------------------------------------------------------- volumes

  public Volumes volumes() {
    return state.volumes();
  }

  /** A new volume (creating; available once its directory is made) or the one its client token made before. */
  public Volume createVolume(Volumes.CreateRequest request) {
    Volume volume = state.volumes().create(request);
    save();
    settleLater(volume);
    return volume;
  }

  public Volume attachVolume(String volumeId, String instanceId, String device) {
    Volume volume = state.volumes().attach(volumeId, state.find(instanceId), instanceId, device);
    save();
    settleLater(volume);
    return volume;
  }

  public Volume detachVolume(String volumeId, String instanceId, String device, boolean force) {
    Volume volume = state.volumes().detach(volumeId, instanceId, device, force);
    save();
    settleLater(volume);
    return volume;
  }

  public void deleteVolume(String volumeId) {
    Volume volume = state.volumes().delete(volumeId);
    save();
    settleLater(volume);
  }

  /** Where a volume's data lives: a directory of the state dir, whatever instance it is attached to. */
  public Path volumeDir(String volumeId) {
    return options.stateDir().resolve("volumes").resolve(volumeId);
  }

  /**
   * After {@link Volumes#SETTLE_MILLIS}, makes the files of the volume's passing state (off the event loop), then ends
   * that state: EC2 too answers a call at once and finishes it a moment later, which is what its waiters wait for. A
   * volume caught passing by a restart is settled the same way.
   */
  private void settleLater(Volume volume) {
    if (!passing(volume) || !settling.add(volume.id())) {
      return;
    }
    vertx.setTimer(Volumes.SETTLE_MILLIS, t -> {
      Volume now = state.volumes().find(volume.id()).orElse(null);
      if (now == null) {
        settling.remove(volume.id());
        return;
      }
      Volume.Attachment attachment = now.attachment();
      Path dir = volumeDir(now.id());
      Path link = attachment == null ? null : runtime.deviceLink(attachment.instanceId(), attachment.device());
      boolean attaching = attachment != null && attachment.state() == Volume.AttachState.ATTACHING;
      boolean detaching = attachment != null && attachment.state() == Volume.AttachState.DETACHING;
      Volume.State before = now.state();
      vertx.<Void>executeBlocking(() -> {
        if (before == Volume.State.CREATING) {
          Files.createDirectories(dir);
        } else if (attaching) {
          Files.createDirectories(link.getParent());
          Files.deleteIfExists(link);
          Files.createSymbolicLink(link, dir);
        } else if (detaching) {
          Files.deleteIfExists(link);
        }
        return null;
      }, false).onComplete(done -> {
        settling.remove(now.id());
        if (done.failed()) {
          LOG.error("volume {}: {}", now.id(), done.cause().toString());
          // Never left passing for ever: a volume that could not be made is in error, an attachment that could not
          // be made is undone (the volume available again), a detachment that failed to unlink still detaches.
          if (before == Volume.State.CREATING) {
            now.moveTo(Volume.State.ERROR);
          } else if (attaching) {
            now.attach(null);
            now.moveTo(Volume.State.AVAILABLE);
          } else {
            state.volumes().settle(now.id());
          }
          save();
          return;
        }
        state.volumes().settle(now.id()).ifPresent(what -> {
          LOG.info("volume {} {}", now.id(), what);
          save();
          if (what.equals("deleted")) {
            vertx.executeBlocking(() -> {
              deleteTree(dir);
              return null;
            }, false).onFailure(e -> LOG.warn("volume {} deleted, but its directory {} stays: {}", now.id(), dir,
                e.toString()));
          }
        });
        state.volumes().find(now.id()).ifPresent(this::settleLater);
      });
    });
  }

  private static boolean passing(Volume volume) {
    Volume.Attachment attachment = volume.attachment();
    return volume.state() == Volume.State.CREATING || volume.state() == Volume.State.DELETING
        || (attachment != null && attachment.state() != Volume.AttachState.ATTACHED);
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> tree = Files.walk(dir)) {
      for (Path path : tree.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(path);
      }
    }
  }

  // ---------------------------------------------------------------- admin

  /** Kills the instance's processes with SIGKILL, as a crash would; EC2 keeps reporting it running. */
  public Future<Void> kill(String id) {
    Instance instance = require(List.of(id)).get(0);
    return runtime.kill(instance, instance.processes().stream().filter(p -> !p.exited()).toList());
  }

  /**
   * Kills one of the instance's processes and its descendants with SIGKILL, as a crash of that program would (the
   * app dies, its agent lives on); {@code name} is one of {@link #processNames}.
   */
  public Future<Void> kill(String id, String name) {
    Instance instance = require(List.of(id)).get(0);
    List<RunningProcess> named = instance.processes().stream().filter(p -> !p.exited() && p.name().equals(name))
        .toList();
    return runtime.kill(instance, named);
  }

  /** The names of the processes the instance's image runs, in start order. */
  public List<String> processNames(String id) {
    return runtime.processNames(require(List.of(id)).get(0));
  }

  /** Terminates every instance that is not terminated yet and completes when all are. */
  public Future<Void> terminateAll() {
    List<String> ids = state.instances().stream().filter(i -> i.state() != InstanceState.TERMINATED)
        .map(Instance::id).toList();
    if (!ids.isEmpty()) {
      terminate(ids);
    }
    return Future.join(ids.stream().map(id -> state.find(id).orElseThrow().activity()).toList()).mapEmpty();
  }

  /** Records processes that exited on their own, and forgets instances terminated longer ago than the retention. */
  public void sweep() {
    boolean exits = runtime.noticeExits(state.instances());
    if (state.forgetExpired(clock.millis()) || exits) {
      save();
    }
  }

  /** What the admin API shows of an instance: the EC2 facts and the local ones behind them. */
  public JsonObject adminView(Instance instance) {
    JsonObject local = runtime.localView(instance);
    return new JsonObject()
        .put("instanceId", instance.id())
        .put("state", instance.state().ec2Name())
        .put("imageId", instance.imageId())
        .put("image", images.find(instance.imageId()).map(Image::name).orElse(null))
        .put("instanceType", instance.instanceType())
        .put("vcpus", CloudState.vcpus(instance))
        .put("cgroups", local.getJsonArray("cgroups"))
        .put("reservationId", instance.reservationId())
        .put("privateIp", instance.privateIp())
        .put("ports", new JsonObject(new LinkedHashMap<>(instance.ports())))
        .put("metadataEndpoint", local.getString("metadataEndpoint"))
        .put("dir", local.getString("dir"))
        .put("launchTime", instance.launchTime().toString())
        .put("runningAt", instance.runningAt() == null ? null : instance.runningAt().toString())
        .put("stateReason", instance.stateReason())
        .put("tags", new JsonObject(new LinkedHashMap<>(instance.tags())))
        .put("processes", local.getJsonArray("processes"));
  }

  /** What {@code GET /_sandbox/capacity} shows: whether quotas are enforced and how, and the vCPUs committed. */
  public JsonObject capacity() {
    return quota.toJson().mergeIn(state.capacity());
  }

  // ---------------------------------------------------------------- persistence

  /** Takes back the saved state: adopts live processes, reopens metadata endpoints, finishes interrupted moves. */
  public Future<Void> restore(JsonObject saved) {
    state.restore(saved);
    state.volumes().all().forEach(this::settleLater);
    List<Future<Void>> adopted = state.instances().stream().map(runtime::adopt).toList();
    sweep();
    return Future.join(adopted).mapEmpty();
  }

  /**
   * At start, after {@link #restore}: removes the empty cgroups of instances that are gone (a sandbox that died while
   * one stopped leaves them), and says which groups of no live instance still hold processes.
   */
  public Future<Void> removeAbandonedGroups() {
    Set<String> live = new HashSet<>();
    state.instances().stream().filter(CloudState::holdsCapacity).forEach(i -> live.add(i.id()));
    return runtime.removeAbandonedGroups(live);
  }

  /**
   * Closes the metadata endpoints and flushes the state; instance processes keep running, in their cgroups. The base
   * of the cgroups goes when no instance's group is left in it.
   */
  public Future<Void> close() {
    return runtime.close(state.instances().stream().map(Instance::id).toList(), x -> store.flushed());
  }

  private void save() {
    store.save(state::toJson);
  }
}
