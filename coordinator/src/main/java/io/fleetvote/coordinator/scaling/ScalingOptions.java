package io.fleetvote.coordinator.scaling;

import io.fleetvote.common.msg.JsonFields;
import io.fleetvote.common.msg.MessageException;
import io.fleetvote.coordinator.fleet.FleetOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * How the coordinators scale: how many there are (for the quorum), where each keeps its ledger file, the tick and
 * lease timing, the groups, and how to reach EC2.
 */
public final class ScalingOptions {

  public static final int DEFAULT_COORDINATORS = 1;
  public static final String DEFAULT_DATA_DIR = "coordinator-data";
  public static final long DEFAULT_TICK_MILLIS = 1000;
  public static final long DEFAULT_FLEET_REFRESH_MILLIS = 10_000;
  public static final long DEFAULT_LEASE_MILLIS = 5000;
  public static final long DEFAULT_RENEW_MILLIS = 1000;
  public static final long DEFAULT_OP_TIMEOUT_MILLIS = 2000;
  public static final int DEFAULT_LEDGER_CAPACITY = 5000;
  /** A run of identical holds is written back to the cluster at most this often. */
  public static final long DEFAULT_HOLD_FLUSH_MILLIS = 10_000;

  private int coordinators = DEFAULT_COORDINATORS;
  private String dataDir = DEFAULT_DATA_DIR;
  private long tickMillis = DEFAULT_TICK_MILLIS;
  private long fleetRefreshMillis = DEFAULT_FLEET_REFRESH_MILLIS;
  private long leaseMillis = DEFAULT_LEASE_MILLIS;
  private long renewMillis = DEFAULT_RENEW_MILLIS;
  private long opTimeoutMillis = DEFAULT_OP_TIMEOUT_MILLIS;
  private int ledgerCapacity = DEFAULT_LEDGER_CAPACITY;
  private long holdFlushMillis = DEFAULT_HOLD_FLUSH_MILLIS;
  private List<GroupConfig> groups = List.of();
  private FleetOptions fleet = new FleetOptions();

  public ScalingOptions() {
  }

  public ScalingOptions(ScalingOptions other) {
    this(other.toJson());
  }

  public ScalingOptions(JsonObject json) {
    coordinators = JsonFields.intValue(json, "coordinators", 1, 7, DEFAULT_COORDINATORS);
    dataDir = Objects.requireNonNullElse(JsonFields.optionalString(json, "dataDir", 4096, null), DEFAULT_DATA_DIR);
    tickMillis = JsonFields.longValue(json, "tickMillis", 50, 60_000, DEFAULT_TICK_MILLIS);
    fleetRefreshMillis = JsonFields.longValue(json, "fleetRefreshMillis", 500, 3_600_000, DEFAULT_FLEET_REFRESH_MILLIS);
    leaseMillis = JsonFields.longValue(json, "leaseMillis", 500, 600_000, DEFAULT_LEASE_MILLIS);
    renewMillis = JsonFields.longValue(json, "renewMillis", 100, 300_000, DEFAULT_RENEW_MILLIS);
    if (renewMillis * 2 >= leaseMillis) {
      throw new MessageException("renewMillis", renewMillis + " must be less than half of leaseMillis (" + leaseMillis
          + ")");
    }
    opTimeoutMillis = JsonFields.longValue(json, "opTimeoutMillis", 100, 60_000, DEFAULT_OP_TIMEOUT_MILLIS);
    ledgerCapacity = JsonFields.intValue(json, "ledgerCapacity", 100, 1_000_000, DEFAULT_LEDGER_CAPACITY);
    holdFlushMillis = JsonFields.longValue(json, "holdFlushMillis", 0, 3_600_000, DEFAULT_HOLD_FLUSH_MILLIS);
    JsonObject groupsJson = new JsonObject().put("groups", json.getValue("groups", new JsonArray()));
    groups = GroupsFile.parse(groupsJson);
    if (json.containsKey("fleet")) {
      try {
        fleet = new FleetOptions(JsonFields.object(json, "fleet"));
      } catch (MessageException e) {
        throw e.within("fleet");
      }
    }
  }

  public JsonObject toJson() {
    JsonArray groupArray = new JsonArray();
    groups.forEach(g -> groupArray.add(g.toJson()));
    return new JsonObject().put("coordinators", coordinators).put("dataDir", dataDir).put("tickMillis", tickMillis)
        .put("fleetRefreshMillis", fleetRefreshMillis).put("leaseMillis", leaseMillis).put("renewMillis", renewMillis)
        .put("opTimeoutMillis", opTimeoutMillis).put("ledgerCapacity", ledgerCapacity)
        .put("holdFlushMillis", holdFlushMillis).put("groups", groupArray).put("fleet", fleet.toJson());
  }

  /** How many coordinators the deployment runs: a majority of them must see each other to act (1, or 3). */
  public int getCoordinators() {
    return coordinators;
  }

  public ScalingOptions setCoordinators(int coordinators) {
    this.coordinators = coordinators;
    return this;
  }

  /** Where this coordinator keeps its copy of the ledger ({@code ledger.jsonl}). */
  public String getDataDir() {
    return dataDir;
  }

  public ScalingOptions setDataDir(String dataDir) {
    this.dataDir = dataDir;
    return this;
  }

  /** How often the leader tallies every group. */
  public long getTickMillis() {
    return tickMillis;
  }

  public ScalingOptions setTickMillis(long tickMillis) {
    this.tickMillis = tickMillis;
    return this;
  }

  /** How often each coordinator describes the fleet through the EC2 API. */
  public long getFleetRefreshMillis() {
    return fleetRefreshMillis;
  }

  public ScalingOptions setFleetRefreshMillis(long fleetRefreshMillis) {
    this.fleetRefreshMillis = fleetRefreshMillis;
    return this;
  }

  public long getLeaseMillis() {
    return leaseMillis;
  }

  public ScalingOptions setLeaseMillis(long leaseMillis) {
    this.leaseMillis = leaseMillis;
    return this;
  }

  public long getRenewMillis() {
    return renewMillis;
  }

  public ScalingOptions setRenewMillis(long renewMillis) {
    this.renewMillis = renewMillis;
    return this;
  }

  /** The timeout of every cluster-map call (a frozen member makes them hang otherwise). */
  public long getOpTimeoutMillis() {
    return opTimeoutMillis;
  }

  public ScalingOptions setOpTimeoutMillis(long opTimeoutMillis) {
    this.opTimeoutMillis = opTimeoutMillis;
    return this;
  }

  public int getLedgerCapacity() {
    return ledgerCapacity;
  }

  public ScalingOptions setLedgerCapacity(int ledgerCapacity) {
    this.ledgerCapacity = ledgerCapacity;
    return this;
  }

  public long getHoldFlushMillis() {
    return holdFlushMillis;
  }

  public ScalingOptions setHoldFlushMillis(long holdFlushMillis) {
    this.holdFlushMillis = holdFlushMillis;
    return this;
  }

  public List<GroupConfig> getGroups() {
    return groups;
  }

  public ScalingOptions setGroups(List<GroupConfig> groups) {
    this.groups = List.copyOf(new ArrayList<>(groups));
    return this;
  }

  public FleetOptions getFleet() {
    return fleet;
  }

  public ScalingOptions setFleet(FleetOptions fleet) {
    this.fleet = fleet;
    return this;
  }
}
