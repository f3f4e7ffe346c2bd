package io.fleetvote.coordinator.db;

import io.fleetvote.common.msg.DbStatus;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The DB agents' latest reports of one deployment, as a coordinator heard them: one per instance, forgotten after
 * {@code leaseMillis} without a new one (an agent that is gone is not reported as its last words). Pure: the caller
 * gives the time.
 */
public final class DbReports {

  /** A report and when it was heard. */
  public record Heard(DbStatus status, long heardAt) {
  }

  private final String deployment;
  private final long leaseMillis;
  private final Map<String, Heard> byInstance = new LinkedHashMap<>();

  public DbReports(String deployment, long leaseMillis) {
    this.deployment = deployment;
    this.leaseMillis = leaseMillis;
  }

  /** Keeps the report if it is of this deployment and newer than the one held; whether it was kept. */
  public synchronized boolean heard(DbStatus status, long now) {
    if (!status.deployment().equals(deployment)) {
      return false;
    }
    Heard held = byInstance.get(status.instanceId());
    if (held != null && held.status().sentAt() > status.sentAt()) {
      return false;
    }
    byInstance.put(status.instanceId(), new Heard(status, now));
    return true;
  }

  /** The reports heard within the lease, by instance id. */
  public synchronized List<Heard> current(long now) {
    byInstance.values().removeIf(h -> now - h.heardAt() > leaseMillis);
    return byInstance.values().stream().sorted(Comparator.comparing(h -> h.status().instanceId())).toList();
  }

  /** What {@code GET /api/db} answers: each DB instance's report and its age. */
  public JsonObject toJson(long now) {
    JsonArray instances = new JsonArray();
    for (Heard heard : current(now)) {
      instances.add(heard.status().toJson().put("ageMillis", now - heard.heardAt()));
    }
    return new JsonObject().put("deployment", deployment).put("instances", instances);
  }
}
