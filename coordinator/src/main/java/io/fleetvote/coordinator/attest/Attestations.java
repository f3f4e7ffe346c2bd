package io.fleetvote.coordinator.attest;

import com.hazelcast.map.IMap;
import io.fleetvote.coordinator.attest.Attestor.Attestation;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Where every coordinator finds what is known of each instance's agent ({@link Attestation}): the cluster's
 * attestations map, under the coordinators' quorum (a minority attests nobody; agents go to the majority). An entry
 * lives 30 days after its last change (EC2 never gives an instance id twice). Changes are compare-and-set: two
 * coordinators attesting one instance at once cannot both bind it.
 */
public final class Attestations {

  /** What is stored for an instance, and the stored text a change must still find there. */
  public record Stored(Optional<Attestation> attestation, String raw) {
  }

  private static final long TTL_DAYS = 30;

  private final Vertx vertx;
  private final IMap<String, String> map;
  private final long opTimeoutMillis;

  /** @param opTimeoutMillis how long an operation may take before it fails (a member frozen, a lost quorum) */
  public Attestations(Vertx vertx, IMap<String, String> map, long opTimeoutMillis) {
    this.vertx = vertx;
    this.map = map;
    this.opTimeoutMillis = opTimeoutMillis;
  }

  /** What is stored for the instance; fails after {@code timeoutMillis} (no worker thread waits meanwhile). */
  public Future<Stored> get(String instanceId, long timeoutMillis) {
    return Future.fromCompletionStage(map.getAsync(instanceId), vertx.getOrCreateContext())
        .timeout(timeoutMillis, TimeUnit.MILLISECONDS)
        .map(raw -> new Stored(raw == null ? Optional.empty()
            : Optional.of(Attestation.fromJson(new JsonObject(raw))), raw));
  }

  public Future<Stored> get(String instanceId) {
    return get(instanceId, opTimeoutMillis);
  }

  /** Stores {@code next} if {@code prior} is still what is stored; false when another coordinator changed it first. */
  public Future<Boolean> replace(String instanceId, Stored prior, Attestation next) {
    String json = next.toJson().encode();
    return vertx.executeBlocking(() -> {
      boolean replaced = prior.raw() == null ? map.putIfAbsent(instanceId, json, TTL_DAYS, TimeUnit.DAYS) == null
          : map.replace(instanceId, prior.raw(), json);
      if (replaced && prior.raw() != null) {
        map.setTtl(instanceId, TTL_DAYS, TimeUnit.DAYS);
      }
      return replaced;
    }, false).timeout(opTimeoutMillis, TimeUnit.MILLISECONDS);
  }
}
