package io.fleetvote.coordinator.db;

import io.fleetvote.common.Tags;
import io.fleetvote.common.msg.DbCommand;
import io.fleetvote.common.msg.DbRoute;
import io.fleetvote.common.msg.DbStatus;
import io.fleetvote.common.msg.Gtids;
import io.fleetvote.coordinator.fleet.FleetInstance;
import io.fleetvote.coordinator.fleet.FleetVolume;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What the leader does next for the DB pair, from what the cloud lists (the pair's instances and volumes, by their
 * {@code fleetvote:db-slot} tags), what the DB agents report and the topology. Pure. Per slot, one step at a time,
 * in order: launch the slot's instance (in its volume's zone, when the volume exists), create its volume (in the
 * instance's zone), attach it, then, once MariaDB answers on both, make the master's the master and the other's its
 * replica. A slot's live instance is never launched again and nothing is ever terminated or detached here: the
 * plan only adds what is missing. The master's slot is not launched again while its instance is stopped and its
 * replica replicates either: that is a failover's case (a new instance there would start an empty master, its
 * volume held by the stopped one). (A terminated master's volume is free: a new instance runs MariaDB on it.) What it
 * cannot fix is a problem, said in a sentence.
 */
public final class DbPairPlan {

  /** One thing to do for one slot. */
  public sealed interface Step {
    int slot();
  }

  /** RunInstances for the slot: its generation's client token; in {@code zone} when its volume is there. */
  public record Launch(int slot, String clientToken, String zone) implements Step {
  }

  /** CreateVolume for the slot, in its instance's zone. */
  public record CreateVolume(int slot, String clientToken, String zone) implements Step {
  }

  /** AttachVolume of the slot's volume to the slot's instance. */
  public record Attach(int slot, String volumeId, String instanceId) implements Step {
  }

  /**
   * A command to the slot's DB agent; {@code key} says what a success makes true (see {@link #key}); {@code semiSync}
   * whether it turns semi-sync on (a master's only once its replica replicates: before, its commits would wait for
   * none and fall back to asynchronous replication after the timeout).
   */
  public record Command(int slot, String instanceId, DbCommand.Op op, String masterHost, int masterPort, String key,
                        boolean semiSync) implements Step {
  }

  /** What the plan found: the steps, the problems it cannot fix, and the pair as the API shows it. */
  public record Outcome(List<Step> steps, List<String> problems, JsonObject pair) {
  }

  private DbPairPlan() {
  }

  /**
   * @param deployment the deployment (in client tokens)
   * @param instances  the deployment's instances that are not terminated (those of other groups are ignored)
   * @param volumes    the deployment's volumes
   * @param reports    the DB agents' current reports, by instance id
   * @param done       the keys of the commands carried out in this leader's epoch ({@link #key})
   */
  /**
   * The slot's live instances of the pair, of the slot's current generation, oldest first: the first is the slot's (a
   * problem names the others).
   */
  static List<FleetInstance> ofSlot(DbPairConfig config, DbTopology topology, List<FleetInstance> instances,
                                    int slot) {
    return instances.stream().filter(i -> i.group().equals(config.name()) && i.alive()
        && String.valueOf(slot).equals(i.tags().get(Tags.DB_SLOT))
        && ofGeneration(i.tags(), topology.instanceGeneration(slot))).sorted(Comparator.comparing(
            FleetInstance::launchTime, Comparator.nullsLast(Comparator.naturalOrder()))).toList();
  }

  /**
   * The slot's instance of its current generation that is down (stopping, stopped, shutting down, terminated, as far
   * as the listing still has it), the newest first; empty when the slot has a live one or none is listed.
   */
  static Optional<FleetInstance> downOfSlot(DbPairConfig config, DbTopology topology, List<FleetInstance> instances,
                                            int slot) {
    if (!ofSlot(config, topology, instances, slot).isEmpty()) {
      return Optional.empty();
    }
    return instances.stream().filter(i -> i.group().equals(config.name()) && !i.alive()
        && String.valueOf(slot).equals(i.tags().get(Tags.DB_SLOT))
        && ofGeneration(i.tags(), topology.instanceGeneration(slot))).max(Comparator.comparing(
            FleetInstance::launchTime, Comparator.nullsFirst(Comparator.naturalOrder())));
  }

  private static int slotOf(FleetInstance instance) {
    return "2".equals(instance.tags().get(Tags.DB_SLOT)) ? 2 : 1;
  }

  /** Whether tags mark the generation; none marks any (instances and volumes made before generations were tagged). */
  static boolean ofGeneration(Map<String, String> tags, int generation) {
    String tagged = tags.get(Tags.DB_GENERATION);
    return tagged == null || tagged.equals(Integer.toString(generation));
  }

  public static Outcome plan(String deployment, DbPairConfig config, DbTopology topology,
                             List<FleetInstance> instances, List<FleetVolume> volumes, Map<String, DbStatus> reports,
                             Set<String> done) {
    List<Step> steps = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    JsonArray slots = new JsonArray();
    Optional<FleetInstance>[] live = new Optional[3];
    for (int slot = 1; slot <= 2; slot++) {
      int s = slot;
      List<FleetInstance> ofSlot = ofSlot(config, topology, instances, slot);
      List<FleetVolume> volumesOfSlot = volumes.stream().filter(v -> config.name().equals(v.tags().get(Tags.GROUP))
          && String.valueOf(s).equals(v.tags().get(Tags.DB_SLOT)) && v.usable()
          && ofGeneration(v.tags(), topology.volumeGeneration(s))).toList();
      if (ofSlot.size() > 1) {
        problems.add("slot " + slot + " has " + ofSlot.size() + " live instances " + ofSlot.stream()
            .map(FleetInstance::instanceId).toList() + ": " + ofSlot.get(0).instanceId() + " (the oldest) is used");
      }
      if (volumesOfSlot.size() > 1) {
        problems.add("slot " + slot + " has " + volumesOfSlot.size() + " volumes " + volumesOfSlot.stream()
            .map(FleetVolume::volumeId).toList() + ": " + volumesOfSlot.get(0).volumeId() + " is used");
      }
      live[slot] = ofSlot.stream().findFirst();
      Optional<FleetVolume> volume = volumesOfSlot.stream().findFirst();
      JsonObject view = new JsonObject().put("slot", slot)
          .put("role", slot == topology.masterSlot() ? "master" : "replica")
          .put("instanceId", live[slot].map(FleetInstance::instanceId).orElse(null))
          .put("instanceState", live[slot].map(FleetInstance::state).orElse(null))
          .put("volumeId", volume.map(FleetVolume::volumeId).orElse(null))
          .put("volumeState", volume.map(FleetVolume::state).orElse(null));
      slots.add(view);
      if (live[slot].isEmpty()) {
        Optional<FleetInstance> down = downOfSlot(config, topology, instances, slot);
        Optional<DbStatus> holder = slot != topology.masterSlot() || down.isEmpty() ? Optional.empty()
            : ofSlot(config, topology, instances, topology.replicaSlot()).stream().findFirst()
            .map(i -> reports.get(i.instanceId()))
            .filter(r -> r.server() == DbStatus.Server.UP && r.readOnly() && r.replica());
        if (holder.isPresent()) {
          problems.add("slot " + slot + ": the master's instance " + down.get().instanceId() + " is "
              + down.get().state() + ", its replica " + holder.get().instanceId() + " holds the data: not launched "
              + "again (a new master there would be empty, its volume held by the stopped one); failing over to the "
              + "replica is the way back");
        } else {
          steps.add(new Launch(slot, token(deployment, config, "s", slot, topology.instanceGeneration(slot)),
              volume.map(FleetVolume::zone).orElse(null)));
        }
        continue;
      }
      FleetInstance instance = live[slot].get();
      if (volume.isEmpty()) {
        if (instance.zone() == null) {
          problems.add("slot " + slot + ": " + instance.instanceId() + " has no availability zone yet");
        } else {
          steps.add(new CreateVolume(slot, token(deployment, config, "v", slot, topology.volumeGeneration(slot)),
              instance.zone()));
        }
        continue;
      }
      FleetVolume data = volume.get();
      if (data.instanceId() == null && data.state().equals("available")) {
        if (!data.zone().equals(instance.zone())) {
          problems.add("slot " + slot + ": volume " + data.volumeId() + " is in " + data.zone() + ", its instance "
              + instance.instanceId() + " in " + instance.zone() + ": it cannot be attached");
        } else if (instance.state().equals("running")) {
          steps.add(new Attach(slot, data.volumeId(), instance.instanceId()));
        }
      } else if (data.instanceId() != null && !data.instanceId().equals(instance.instanceId())) {
        problems.add("slot " + slot + ": volume " + data.volumeId() + " is attached to " + data.instanceId()
            + ", not to the slot's instance " + instance.instanceId());
      }
      DbStatus report = reports.get(instance.instanceId());
      view.put("server", report == null ? "unheard" : report.server().name().toLowerCase(java.util.Locale.ROOT));
    }
    if (live[1].isPresent() && live[2].isPresent()) {
      command(config, topology, live, reports, done).ifPresent(steps::add);
    }
    instances.stream().filter(i -> i.group().equals(config.name()) && i.alive() && i.tags().containsKey(Tags.DB_SLOT)
        && !ofSlot(config, topology, instances, slotOf(i)).contains(i)).forEach(i -> problems.add(i.instanceId()
        + " (slot " + i.tags().get(Tags.DB_SLOT) + ", generation " + i.tags().get(Tags.DB_GENERATION) + ") is no "
        + "longer its slot's: it is kept, out of every backend, for what it holds; terminate it when done with it"));
    live[topology.replicaSlot()].map(i -> reports.get(i.instanceId()))
        .filter(r -> r.server() == DbStatus.Server.UP).flatMap(r -> errant(topology, r)).ifPresent(problems::add);
    if (topology.failingOver()) {
      // The failover's own steps alone: a MASTER command now would clear the fence of the old master, a launch in its
      // slot would start an empty master.
      steps.clear();
    }
    String phase = topology.failingOver() ? "failing over" : phase(steps, live, reports, topology);
    DbStatus masterReport = live[topology.masterSlot()].map(i -> reports.get(i.instanceId())).orElse(null);
    if (phase.equals("replicating") && config.semiSync() && !masterReport.semiSyncMaster()) {
      problems.add("semi-sync is off on the master " + masterReport.instanceId() + " (a commit waited past the "
          + "semi-sync timeout for the replica, or someone turned it off): until the replica acknowledges again, an "
          + "acknowledged write may not be on it, and a failover of this master waits for an operator");
    }
    JsonObject pair = new JsonObject().put("name", config.name()).put("topology", topology.toPublicJson())
        .put("phase", phase).put("slots", slots)
        .put("problems", new JsonArray(problems));
    return new Outcome(List.copyOf(steps), List.copyOf(problems), pair);
  }

  /**
   * Where writes and reads go now: the master once it was commanded in this epoch and reports itself writable; the
   * replicas that report both replication threads running. Never a read-only master, never a writable replica, and
   * no master at all while a failover is under way.
   */
  public static DbRoute route(String deployment, DbPairConfig config, DbTopology topology,
                              List<FleetInstance> instances, Map<String, DbStatus> reports, Set<String> done,
                              long now) {
    DbRoute.Endpoint master = null;
    List<DbRoute.Endpoint> replicas = new ArrayList<>();
    for (int slot = 1; slot <= 2; slot++) {
      for (FleetInstance instance : ofSlot(config, topology, instances, slot).stream().limit(1).toList()) {
        DbStatus report = reports.get(instance.instanceId());
        if (instance.privateIp() == null || report == null || report.server() != DbStatus.Server.UP) {
          continue;
        }
        DbRoute.Endpoint endpoint = new DbRoute.Endpoint(instance.instanceId(), instance.privateIp(), report.port());
        if (slot == topology.masterSlot() && !report.readOnly() && !topology.failingOver()
            && done.contains(key(instance.instanceId(), DbCommand.Op.MASTER, "", 0))) {
          master = endpoint;
        } else if (slot == topology.replicaSlot() && report.readOnly()
            && report.ioThread() == DbStatus.Thread.YES && report.sqlThread() == DbStatus.Thread.YES) {
          replicas.add(endpoint);
        }
      }
    }
    return new DbRoute(deployment, config.name(), topology.fence(), now, master, replicas);
  }

  /** The key of a command's effect: the instance, the op and, for a replica, its master's address. */
  public static String key(String instanceId, DbCommand.Op op, String masterHost, int masterPort) {
    return instanceId + "/" + op + (op == DbCommand.Op.REPLICA ? "/" + masterHost + ":" + masterPort : "");
  }

  /** The key of a master's semi-sync turned on for its replica. */
  public static String semiSyncKey(String masterId, String replicaId) {
    return key(masterId, DbCommand.Op.MASTER, "", 0) + "/semi-sync/" + replicaId;
  }

  private static Optional<Step> command(DbPairConfig config, DbTopology topology, Optional<FleetInstance>[] live,
                                        Map<String, DbStatus> reports, Set<String> done) {
    FleetInstance master = live[topology.masterSlot()].get();
    FleetInstance replica = live[topology.replicaSlot()].get();
    DbStatus masterReport = reports.get(master.instanceId());
    if (masterReport == null || masterReport.server() != DbStatus.Server.UP) {
      return Optional.empty();
    }
    String masterKey = key(master.instanceId(), DbCommand.Op.MASTER, "", 0);
    DbStatus replicaReport = reports.get(replica.instanceId());
    boolean replicating = replicaReport != null && replicaReport.server() == DbStatus.Server.UP
        && replicaReport.ioThread() == DbStatus.Thread.YES;
    if (!done.contains(masterKey) || masterReport.readOnly()) {
      return Optional.of(new Command(topology.masterSlot(), master.instanceId(), DbCommand.Op.MASTER, "", 0,
          masterKey, config.semiSync() && replicating));
    }
    if (replicaReport == null || replicaReport.server() != DbStatus.Server.UP || master.privateIp() == null) {
      return Optional.empty();
    }
    String replicaKey = key(replica.instanceId(), DbCommand.Op.REPLICA, master.privateIp(), masterReport.port());
    if (replicaReport.ioThread() == DbStatus.Thread.NONE && errant(topology, replicaReport).isPresent()) {
      return Optional.empty();
    }
    if (!done.contains(replicaKey) || replicaReport.ioThread() == DbStatus.Thread.NONE) {
      return Optional.of(new Command(topology.replicaSlot(), replica.instanceId(), DbCommand.Op.REPLICA,
          master.privateIp(), masterReport.port(), replicaKey, config.semiSync()));
    }
    String semiKey = semiSyncKey(master.instanceId(), replica.instanceId());
    if (config.semiSync() && replicating && !done.contains(semiKey)) {
      return Optional.of(new Command(topology.masterSlot(), master.instanceId(), DbCommand.Op.MASTER, "", 0,
          semiKey, true));
    }
    return Optional.empty();
  }

  /**
   * The errant check of an old master before it rejoins (reference B2): every domain's sequence number in its
   * {@code gtid_binlog_pos} at most the position its replica was promoted at; otherwise it holds writes the new master
   * never had, and is quarantined: kept read-only, out of every backend, its binlog kept for reconciliation. Why, when
   * it is errant; only for the latest failover's old master while it replicates from nothing.
   */
  static Optional<String> errant(DbTopology topology, DbStatus report) {
    String promoted = rejoinPosition(topology, report.instanceId());
    if (promoted.isEmpty() || report.ioThread() != DbStatus.Thread.NONE) {
      return Optional.empty();
    }
    long extra = Gtids.past(report.gtidBinlogPos(), promoted);
    return extra == 0 ? Optional.empty() : Optional.of("the old master " + report.instanceId() + " is quarantined: "
        + "its binlog (" + report.gtidBinlogPos() + ") holds " + extra + " transaction(s) past the position its "
        + "replica was promoted at (" + promoted + "), writes the new master never had; it is kept "
        + "read-only and out of every backend: reconcile them, then rebuild its slot (POST /api/db/rebuild)");
  }

  /**
   * The position a server's binlog must not be past when it starts replicating: for the latest failover's old master,
   * the position its replica was promoted at; empty (nothing to check) for any other server, and before a failover is
   * done.
   */
  static String rejoinPosition(DbTopology topology, String instanceId) {
    Failover last = topology.failover();
    return last != null && last.phase() == Failover.Phase.DONE && last.oldMaster().equals(instanceId)
        ? last.promotedGtid() : "";
  }

  private static String phase(List<Step> steps, Optional<FleetInstance>[] live, Map<String, DbStatus> reports,
                              DbTopology topology) {
    if (steps.stream().anyMatch(s -> s instanceof Launch)) {
      return "launching";
    }
    if (steps.stream().anyMatch(s -> s instanceof CreateVolume || s instanceof Attach)) {
      return "attaching";
    }
    if (steps.stream().anyMatch(s -> s instanceof Command)) {
      return "configuring";
    }
    DbStatus replica = live[topology.replicaSlot()].map(i -> reports.get(i.instanceId())).orElse(null);
    DbStatus master = live[topology.masterSlot()].map(i -> reports.get(i.instanceId())).orElse(null);
    if (master == null || replica == null || master.server() != DbStatus.Server.UP
        || replica.server() != DbStatus.Server.UP) {
      return "starting";
    }
    return replica.ioThread() == DbStatus.Thread.YES && replica.sqlThread() == DbStatus.Thread.YES
        ? "replicating" : "degraded";
  }

  /** {@code fvdb-<deployment>-<pair>-<s|v><slot>-g<generation>}: at most 64 characters, as EC2 allows. */
  static String token(String deployment, DbPairConfig config, String kind, int slot, int generation) {
    String token = "fvdb-" + deployment + "-" + config.name() + "-" + kind + slot + "-g" + generation;
    return token.length() <= 64 ? token : token.substring(0, 40) + "-" + Integer.toHexString(token.hashCode())
        + "-" + kind + slot + "-g" + generation;
  }
}
