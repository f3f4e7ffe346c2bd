package io.fleetvote.coordinator.db;

import io.fleetvote.common.Tags;
import io.fleetvote.common.msg.DbCommand;
import io.fleetvote.common.msg.DbRoute;
import io.fleetvote.common.msg.DbStatus;
import io.fleetvote.common.msg.MessageException;
import io.fleetvote.coordinator.fleet.FleetInstance;
import io.fleetvote.coordinator.fleet.FleetVolume;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The DB pair's next steps from what the cloud lists and the agents report: it only adds what is missing. */
class DbPairPlanTest {

  private static final DbPairConfig CONFIG = new DbPairConfig(new JsonObject().put("imageId", "ami-0000000000000db01"));
  private static final DbTopology TOPOLOGY = DbTopology.first(3, 1000, new SecureRandom());

  private final List<FleetInstance> instances = new ArrayList<>();
  private final List<FleetVolume> volumes = new ArrayList<>();
  private final Map<String, DbStatus> reports = new HashMap<>();
  private final Set<String> done = new HashSet<>();

  @Test
  void fromNothingBothSlotsAreLaunchedWithTheirGenerationsTokens() {
    DbPairPlan.Outcome outcome = plan();
    assertThat(outcome.steps()).containsExactly(new DbPairPlan.Launch(1, "fvdb-prod-db-s1-g1", null),
        new DbPairPlan.Launch(2, "fvdb-prod-db-s2-g1", null));
    assertThat(outcome.pair().getString("phase")).isEqualTo("launching");
    // An instance of another group, or one terminating, is not the slot's.
    instances.add(instance("i-0000000000000aaa1", "web", 1, "running"));
    instances.add(instance("i-0000000000000aaa2", "db", 2, "shutting-down"));
    assertThat(plan().steps()).hasSize(2).allMatch(s -> s instanceof DbPairPlan.Launch);
  }

  @Test
  void aVolumeIsMadeInTheInstancesZoneAttachedWhenAvailableAndALaunchFollowsAVolumesZone() {
    instances.add(instance("i-0000000000000db01", "db", 1, "running"));
    volumes.add(volume("vol-0000000000000db02", 2, "available", "us-east-1b", null));
    assertThat(plan().steps()).containsExactly(new DbPairPlan.CreateVolume(1, "fvdb-prod-db-v1-g1", "us-east-1a"),
        new DbPairPlan.Launch(2, "fvdb-prod-db-s2-g1", "us-east-1b"));
    volumes.add(volume("vol-0000000000000db01", 1, "creating", "us-east-1a", null));
    assertThat(plan().steps()).containsExactly(new DbPairPlan.Launch(2, "fvdb-prod-db-s2-g1", "us-east-1b"));
    volumes.set(1, volume("vol-0000000000000db01", 1, "available", "us-east-1a", null));
    assertThat(plan().steps()).contains(new DbPairPlan.Attach(1, "vol-0000000000000db01", "i-0000000000000db01"));
  }

  @Test
  void theMastersSlotIsNotLaunchedAgainWhileItsReplicaReplicatesButAPairWithNoReplicaIsHealed() {
    instances.add(instance("i-0000000000000db01", "db", 1, "stopped"));
    instances.add(instance("i-0000000000000db02", "db", 2, "running"));
    volumes.add(volume("vol-0000000000000db01", 1, "in-use", "us-east-1a", "i-0000000000000db01"));
    volumes.add(volume("vol-0000000000000db02", 2, "in-use", "us-east-1a", "i-0000000000000db02"));
    reports.put("i-0000000000000db02", up("i-0000000000000db02", 3308, true, DbStatus.Thread.CONNECTING));
    DbPairPlan.Outcome outcome = plan();
    assertThat(outcome.steps()).as("no empty master launched beside a replica that holds the data").isEmpty();
    assertThat(outcome.problems()).anySatisfy(p -> assertThat(p).contains("slot 1: the master's instance "
        + "i-0000000000000db01 is stopped", "its replica i-0000000000000db02 holds the data", "failing over"));
    assertThat(DbPairPlan.downOfSlot(CONFIG, TOPOLOGY, instances, 1)).map(FleetInstance::instanceId)
        .contains("i-0000000000000db01");
    assertThat(DbPairPlan.downOfSlot(CONFIG, TOPOLOGY, instances, 2)).as("a live slot").isEmpty();
    // Its replica not replicating (a pair never set up, or one not yet): the master's slot is launched as ever.
    reports.put("i-0000000000000db02", up("i-0000000000000db02", 3308, true, DbStatus.Thread.NONE));
    assertThat(plan().steps()).containsExactly(new DbPairPlan.Launch(1, "fvdb-prod-db-s1-g1", "us-east-1a"));
  }

  @Test
  void whatCannotBeFixedIsAProblemAndNothingIsTerminatedOrDetached() {
    instances.add(instance("i-0000000000000db01", "db", 1, "running"));
    instances.add(instance("i-0000000000000db03", "db", 1, "running"));
    instances.add(instance("i-0000000000000db02", "db", 2, "running"));
    volumes.add(volume("vol-0000000000000db01", 1, "in-use", "us-east-1a", "i-0000000000000db09"));
    volumes.add(volume("vol-0000000000000db02", 2, "available", "us-east-1b", null));
    DbPairPlan.Outcome outcome = plan();
    assertThat(outcome.steps()).isEmpty();
    assertThat(outcome.problems()).hasSize(3);
    assertThat(outcome.problems().get(0)).contains("2 live instances", "i-0000000000000db01 (the oldest) is used");
    assertThat(outcome.problems()).anySatisfy(p -> assertThat(p).contains("attached to i-0000000000000db09"));
    assertThat(outcome.problems()).anySatisfy(p -> assertThat(p).contains("cannot be attached"));
  }

  @Test
  void theMasterIsCommandedFirstThenTheReplicaFromTheMastersAddressAndPortAndAgainWhenTheyLoseIt() {
    pairUp();
    assertThat(route().master()).as("no route to a master not yet commanded").isNull();
    DbPairPlan.Command master = (DbPairPlan.Command) plan().steps().get(0);
    assertThat(master.op()).isEqualTo(DbCommand.Op.MASTER);
    assertThat(master.instanceId()).isEqualTo("i-0000000000000db01");
    assertThat(master.semiSync()).as("no semi-sync before a replica replicates: commits would wait for none")
        .isFalse();
    assertThat(plan().pair().getString("phase")).isEqualTo("configuring");
    done.add(master.key());
    reports.put("i-0000000000000db01", up("i-0000000000000db01", 3307, false, DbStatus.Thread.NONE));
    DbPairPlan.Command replica = (DbPairPlan.Command) plan().steps().get(0);
    assertThat(replica.op()).isEqualTo(DbCommand.Op.REPLICA);
    assertThat(replica.instanceId()).isEqualTo("i-0000000000000db02");
    assertThat(replica.masterHost() + ":" + replica.masterPort()).isEqualTo("10.0.0.1:3307");
    done.add(replica.key());
    reports.put("i-0000000000000db02", up("i-0000000000000db02", 3308, true, DbStatus.Thread.YES));
    DbPairPlan.Command semiSync = (DbPairPlan.Command) plan().steps().get(0);
    assertThat(semiSync.op()).isEqualTo(DbCommand.Op.MASTER);
    assertThat(semiSync.instanceId()).isEqualTo("i-0000000000000db01");
    assertThat(semiSync.semiSync()).as("semi-sync on once the replica replicates").isTrue();
    done.add(semiSync.key());
    DbPairPlan.Outcome replicating = plan();
    assertThat(replicating.steps()).isEmpty();
    assertThat(replicating.pair().getString("phase")).isEqualTo("replicating");
    assertThat(replicating.pair().getJsonObject("topology").containsKey("appPassword")).isFalse();
    // Semi-sync fell back to async on the master (a commit outwaited its timeout): a problem, said until it is back.
    assertThat(replicating.problems()).singleElement().asString().contains("semi-sync is off on the master "
        + "i-0000000000000db01", "an acknowledged write may not be on it");
    reports.put("i-0000000000000db01", DbStatus.fromJson(reports.get("i-0000000000000db01").toJson()
        .put("semiSyncMaster", true).put("semiSyncClients", 1)));
    assertThat(plan().problems()).isEmpty();
    DbRoute route = route();
    assertThat(route.master()).isEqualTo(new DbRoute.Endpoint("i-0000000000000db01", "10.0.0.1", 3307));
    assertThat(route.replicas()).containsExactly(new DbRoute.Endpoint("i-0000000000000db02", "10.0.0.1", 3308));
    assertThat(route.fence()).isEqualTo(TOPOLOGY.fence());
    // The master read-only again (restarted: read_only=ON at start): commanded again; a replica not replicating too.
    reports.put("i-0000000000000db01", up("i-0000000000000db01", 3307, true, DbStatus.Thread.NONE));
    assertThat(((DbPairPlan.Command) plan().steps().get(0)).op()).isEqualTo(DbCommand.Op.MASTER);
    assertThat(route().master()).as("no route to a read-only master").isNull();
    reports.put("i-0000000000000db01", up("i-0000000000000db01", 3307, false, DbStatus.Thread.NONE));
    reports.put("i-0000000000000db02", up("i-0000000000000db02", 3308, true, DbStatus.Thread.NONE));
    assertThat(((DbPairPlan.Command) plan().steps().get(0)).op()).isEqualTo(DbCommand.Op.REPLICA);
  }

  @Test
  void duringAFailoverNothingIsPlannedAndNoWriteIsRoutedThenTheOldSlotIsBuiltAnewOfItsNextGeneration() {
    taggedPair();
    reports.put("i-0000000000000db01", up("i-0000000000000db01", 3307, true, DbStatus.Thread.NONE));
    reports.put("i-0000000000000db02", up("i-0000000000000db02", 3308, true, DbStatus.Thread.YES));
    done.add(DbPairPlan.key("i-0000000000000db01", DbCommand.Op.MASTER, "", 0));
    Failover failover = Failover.start(Failover.Kind.AUTOMATIC, 1, 2000, 1, "i-0000000000000db01",
        "i-0000000000000db02", "0-1-10", "dead");
    DbTopology failing = TOPOLOGY.withFailover(failover);
    assertThat(failing.failingOver()).isTrue();
    // The old master fenced (read-only): outside a failover the plan would command it master again; not now.
    DbPairPlan.Outcome outcome = DbPairPlan.plan("prod", CONFIG, failing, instances, volumes, reports, done);
    assertThat(outcome.steps()).isEmpty();
    assertThat(outcome.pair().getString("phase")).isEqualTo("failing over");
    reports.put("i-0000000000000db01", up("i-0000000000000db01", 3307, false, DbStatus.Thread.NONE));
    assertThat(DbPairPlan.route("prod", CONFIG, failing, instances, reports, done, 5000).master())
        .as("no write goes anywhere during a failover, not even to a master still writable").isNull();
    // Promoted: slot 2 is the master's; slot 1's fenced instance and its volume are of the old generation.
    DbTopology after = failing.failedOver(failover.inPhase(Failover.Phase.PROMOTING).promoted("0-1-10"), 4, 3000,
        true);
    assertThat(after.failingOver()).isFalse();
    assertThat(after.masterSlot()).isEqualTo(2);
    assertThat(after.epoch()).isEqualTo(4);
    assertThat(after.instanceGeneration(1)).isEqualTo(2);
    assertThat(after.volumeGeneration(1)).isEqualTo(2);
    assertThat(after.failover().lost()).isZero();
    reports.put("i-0000000000000db01", up("i-0000000000000db01", 3307, true, DbStatus.Thread.NONE));
    reports.put("i-0000000000000db02", up("i-0000000000000db02", 3308, false, DbStatus.Thread.NONE));
    done.add(DbPairPlan.key("i-0000000000000db02", DbCommand.Op.MASTER, "", 0));
    DbPairPlan.Outcome rebuilt = DbPairPlan.plan("prod", CONFIG, after, instances, volumes, reports, done);
    assertThat(rebuilt.steps()).singleElement().isEqualTo(new DbPairPlan.Launch(1,
        DbPairPlan.token("prod", CONFIG, "s", 1, 2), null));
    DbRoute route = DbPairPlan.route("prod", CONFIG, after, instances, reports, done, 5000);
    assertThat(route.master()).isEqualTo(new DbRoute.Endpoint("i-0000000000000db02", "10.0.0.1", 3308));
    assertThat(route.replicas()).as("the old master is no replica of the new one").isEmpty();
    assertThat(DbTopology.fromJson(after.toJson())).isEqualTo(after);
  }

  @Test
  void anOldMasterFencedByItsAgentRejoinsWhenCleanAndIsQuarantinedWhenItHoldsErrantWrites() {
    taggedPair();
    Failover failover = Failover.start(Failover.Kind.AUTOMATIC, 1, 2000, 1, "i-0000000000000db01",
        "i-0000000000000db02", "0-1-10", "dead").inPhase(Failover.Phase.PROMOTING).promoted("0-1-10");
    DbTopology after = TOPOLOGY.withFailover(failover).failedOver(failover, 4, 3000, false);
    assertThat(after.instanceGeneration(1)).as("fenced by its agent: still the slot's").isEqualTo(1);
    reports.put("i-0000000000000db02", withGtid(up("i-0000000000000db02", 3308, false, DbStatus.Thread.NONE),
        "0-2-11"));
    done.add(DbPairPlan.key("i-0000000000000db02", DbCommand.Op.MASTER, "", 0));
    // Clean: all it wrote is at most the promoted position: commanded to replicate from the new master.
    reports.put("i-0000000000000db01", withGtid(up("i-0000000000000db01", 3307, true, DbStatus.Thread.NONE),
        "0-1-10"));
    DbPairPlan.Outcome clean = DbPairPlan.plan("prod", CONFIG, after, instances, volumes, reports, done);
    assertThat(clean.problems()).isEmpty();
    DbPairPlan.Command rejoin = (DbPairPlan.Command) clean.steps().get(0);
    assertThat(rejoin.op()).isEqualTo(DbCommand.Op.REPLICA);
    assertThat(rejoin.instanceId()).isEqualTo("i-0000000000000db01");
    assertThat(rejoin.masterPort()).isEqualTo(3308);
    // Errant: a write past the promoted position (written, never acknowledged to anyone, kept after its crash).
    reports.put("i-0000000000000db01", withGtid(up("i-0000000000000db01", 3307, true, DbStatus.Thread.NONE),
        "0-1-11"));
    DbPairPlan.Outcome errant = DbPairPlan.plan("prod", CONFIG, after, instances, volumes, reports, done);
    assertThat(errant.steps()).as("quarantined: no command").isEmpty();
    assertThat(errant.problems()).singleElement().asString().contains("quarantined", "1 transaction(s)", "0-1-11",
        "0-1-10", "read-only");
    assertThat(DbPairPlan.route("prod", CONFIG, after, instances, reports, done, 5000).replicas())
        .as("out of every backend").isEmpty();
    // Once it replicates (an operator reconciled it), no check any more: its binlog then holds the new master's too.
    reports.put("i-0000000000000db01", withGtid(up("i-0000000000000db01", 3307, true, DbStatus.Thread.YES),
        "0-2-50"));
    assertThat(DbPairPlan.plan("prod", CONFIG, after, instances, volumes, reports, done).problems()).isEmpty();
  }

  @Test
  void nothingIsCommandedWhileTheMasterDoesNotAnswer() {
    pairUp();
    reports.put("i-0000000000000db01", DbStatus.unavailable("i-0000000000000db01", "prod", 1, DbStatus.Server.DOWN,
        "gone", 3307));
    DbPairPlan.Outcome outcome = plan();
    assertThat(outcome.steps()).isEmpty();
    assertThat(outcome.pair().getString("phase")).isEqualTo("starting");
  }

  @Test
  void aTopologyRoundTripsAndABadOneIsNamed() {
    assertThat(DbTopology.fromJson(TOPOLOGY.toJson())).isEqualTo(TOPOLOGY);
    assertThat(TOPOLOGY.toString()).doesNotContain(TOPOLOGY.appPassword()).doesNotContain(
        TOPOLOGY.replicationPassword());
    assertThat(TOPOLOGY.nextInstance(2).instanceGeneration(2)).isEqualTo(2);
    assertThat(TOPOLOGY.nextInstance(2).instanceGeneration(1)).isEqualTo(1);
    assertThat(TOPOLOGY.fence()).isEqualTo(1);
    assertThat(TOPOLOGY.fencedFor(1).fence()).as("a new leader, even of a lower epoch (a new cluster)").isEqualTo(2);
    assertThat(TOPOLOGY.fencedFor(1).fenceEpoch()).isEqualTo(1);
    assertThatThrownBy(() -> DbTopology.fromJson(TOPOLOGY.toJson().put("masterSlot", 3)))
        .isInstanceOf(MessageException.class).hasMessageContaining("masterSlot");
    assertThatThrownBy(() -> DbTopology.fromJson(TOPOLOGY.toJson().put("appPassword", "x'; DROP")))
        .isInstanceOf(MessageException.class).hasMessageContaining("appPassword").hasMessageNotContaining("DROP");
  }

  @Test
  void theDbSectionNamesEachBadField() {
    assertThatThrownBy(() -> new DbPairConfig(new JsonObject())).hasMessageContaining("imageId");
    assertThatThrownBy(() -> new DbPairConfig(new JsonObject().put("imageId", "ami-0000000000000db01")
        .put("volumeGiB", 0))).hasMessageContaining("volumeGiB");
    assertThatThrownBy(() -> new DbPairConfig(new JsonObject().put("imageId", "ami-0000000000000db01")
        .put("database", "wiki; drop"))).hasMessageContaining("database");
    assertThatThrownBy(() -> new DbPairConfig(new JsonObject().put("imageId", "ami-0000000000000db01")
        .put("credentials", new JsonObject().put("source", "plaintext")))).hasMessageContaining("credentials.source");
    assertThatThrownBy(() -> new DbPairConfig(new JsonObject().put("imageId", "ami-0000000000000db01")
        .put("agent", new JsonObject().put("roles", "app")))).hasMessageContaining("agent.roles");
    assertThatThrownBy(() -> new DbPairConfig(new JsonObject().put("imageId", "ami-0000000000000db01")
        .put("failover", new JsonObject().put("applyWaitSeconds", 0))))
        .hasMessageContaining("failover.applyWaitSeconds");
    assertThat(CONFIG.applyWaitSeconds()).as("the promotion's apply bound by default").isEqualTo(5);
    assertThat(new DbPairConfig(CONFIG.toJson().put("failover", new JsonObject().put("applyWaitSeconds", 30)))
        .applyWaitSeconds()).isEqualTo(30);
    assertThat(CONFIG.group().agentRoles()).extracting(Enum::name).containsExactly("DB");
    assertThat(new DbPairConfig(CONFIG.toJson()).toJson()).isEqualTo(CONFIG.toJson());
  }

  private void pairUp() {
    instances.add(instance("i-0000000000000db01", "db", 1, "running"));
    instances.add(instance("i-0000000000000db02", "db", 2, "running"));
    volumes.add(volume("vol-0000000000000db01", 1, "in-use", "us-east-1a", "i-0000000000000db01"));
    volumes.add(volume("vol-0000000000000db02", 2, "in-use", "us-east-1a", "i-0000000000000db02"));
    reports.put("i-0000000000000db01", up("i-0000000000000db01", 3307, true, DbStatus.Thread.NONE));
    reports.put("i-0000000000000db02", up("i-0000000000000db02", 3308, true, DbStatus.Thread.NONE));
  }

  /** Both slots' instances (of generation 1) and their volumes, attached. */
  private void taggedPair() {
    instances.add(tagged(instance("i-0000000000000db01", "db", 1, "running"), 1));
    instances.add(tagged(instance("i-0000000000000db02", "db", 2, "running"), 1));
    volumes.add(volume("vol-0000000000000db01", 1, "in-use", "us-east-1a", "i-0000000000000db01"));
    volumes.add(volume("vol-0000000000000db02", 2, "in-use", "us-east-1a", "i-0000000000000db02"));
  }

  private DbRoute route() {
    return DbPairPlan.route("prod", CONFIG, TOPOLOGY, instances, reports, done, 5000);
  }

  private DbPairPlan.Outcome plan() {
    return DbPairPlan.plan("prod", CONFIG, TOPOLOGY, instances, volumes, reports, done);
  }

  private static FleetInstance instance(String id, String group, int slot, String state) {
    return new FleetInstance(id, group, state, Instant.ofEpochMilli(1000 + instancesMade++), null, "10.0.0.1",
        "us-east-1a", Map.of(Tags.DB_SLOT, Integer.toString(slot)));
  }

  private static DbStatus withGtid(DbStatus status, String binlog) {
    return DbStatus.fromJson(status.toJson().put("gtidBinlogPos", binlog));
  }

  private static FleetInstance tagged(FleetInstance instance, int generation) {
    Map<String, String> tags = new HashMap<>(instance.tags());
    tags.put(Tags.DB_GENERATION, Integer.toString(generation));
    return new FleetInstance(instance.instanceId(), instance.group(), instance.state(), instance.launchTime(),
        instance.clientToken(), instance.privateIp(), instance.zone(), tags);
  }

  private static int instancesMade;

  private static FleetVolume volume(String id, int slot, String state, String zone, String instanceId) {
    return new FleetVolume(id, state, zone, 10, instanceId, instanceId == null ? null : "attached",
        instanceId == null ? null : "/dev/sdf", Map.of(Tags.GROUP, "db", Tags.DB_SLOT, Integer.toString(slot),
        Tags.DB_GENERATION, "1"));
  }

  private static DbStatus up(String id, int port, boolean readOnly, DbStatus.Thread io) {
    JsonObject json = DbStatus.unavailable(id, "prod", 1, DbStatus.Server.UP, "", port).toJson()
        .put("readOnly", readOnly).put("ioThread", io.name().toLowerCase()).put("sqlThread", io.name().toLowerCase())
        .put("serverId", 7);
    return DbStatus.fromJson(json);
  }
}
