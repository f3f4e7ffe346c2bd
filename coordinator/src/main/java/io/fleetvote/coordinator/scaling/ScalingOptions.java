package io.fleetvote.coordinator.scaling;

import io.fleetvote.common.msg.JsonFields;
import io.fleetvote.common.msg.MessageException;
import io.fleetvote.coordinator.db.DbPairConfig;
import io.fleetvote.coordinator.fleet.FleetOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * How the coordinators scale: the tick, the groups, and how to reach EC2. Leadership and the ledger (how many
 * coordinators, the lease, the data directory) are the coordinator's: {@link io.fleetvote.coordinator.CoordinatorOptions}.
 */
public final class ScalingOptions {

  public static final long DEFAULT_TICK_MILLIS = 1000;
  public static final long DEFAULT_FLEET_REFRESH_MILLIS = 10_000;
  /** A run of identical holds is written back to the cluster at most this often. */
  public static final long DEFAULT_HOLD_FLUSH_MILLIS = 10_000;
  /** Fields that were scaling options before leadership became the coordinator's. */
  private static final List<String> MOVED = List.of("coordinators", "dataDir", "leaseMillis", "renewMillis",
      "opTimeoutMillis", "ledgerCapacity");

  private long tickMillis = DEFAULT_TICK_MILLIS;
  private long fleetRefreshMillis = DEFAULT_FLEET_REFRESH_MILLIS;
  private long holdFlushMillis = DEFAULT_HOLD_FLUSH_MILLIS;
  private List<GroupConfig> groups = List.of();
  private FleetOptions fleet = new FleetOptions();
  private DbPairConfig db;

  public ScalingOptions() {
  }

  public ScalingOptions(ScalingOptions other) {
    this(other.toJson());
  }

  public ScalingOptions(JsonObject json) {
    for (String moved : MOVED) {
      if (json.containsKey(moved)) {
        throw new MessageException(moved, "is a coordinator option now (leadership and the ledger serve every "
            + "component): set it beside \"scaling\", not inside it");
      }
    }
    tickMillis = JsonFields.longValue(json, "tickMillis", 50, 60_000, DEFAULT_TICK_MILLIS);
    fleetRefreshMillis = JsonFields.longValue(json, "fleetRefreshMillis", 500, 3_600_000, DEFAULT_FLEET_REFRESH_MILLIS);
    holdFlushMillis = JsonFields.longValue(json, "holdFlushMillis", 0, 3_600_000, DEFAULT_HOLD_FLUSH_MILLIS);
    JsonObject groupsJson = new JsonObject().put("groups", json.getValue("groups", new JsonArray()))
        .put("db", json.getValue("db"));
    groups = GroupsFile.parse(groupsJson);
    db = GroupsFile.db(groupsJson).orElse(null);
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
    return new JsonObject().put("tickMillis", tickMillis).put("fleetRefreshMillis", fleetRefreshMillis)
        .put("holdFlushMillis", holdFlushMillis).put("groups", groupArray).put("fleet", fleet.toJson())
        .put("db", db == null ? null : db.toJson());
  }

  /** The DB pair the coordinators run (the groups file's {@code db} section); empty when there is none. */
  public Optional<DbPairConfig> getDb() {
    return Optional.ofNullable(db);
  }

  public ScalingOptions setDb(DbPairConfig db) {
    this.db = db;
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
