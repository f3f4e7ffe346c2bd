package io.fleetvote.coordinator.scaling;

import com.hazelcast.map.IMap;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The operators' controls of every group ({@link GroupControl}), read from the replicated map and applied to the
 * groups' tallies: bounds replace the groups file's, protected instances are never victims.
 */
final class Controls {

  private static final Logger LOG = LoggerFactory.getLogger(Controls.class);

  private final Vertx vertx;
  private final IMap<String, String> map;
  private final long opTimeoutMillis;
  private final Map<String, VoteTally> tallies;
  private final Map<String, GroupConfig> fromFile = new HashMap<>();
  private final Map<String, GroupControl> controls = new HashMap<>();

  /** @param tallies the groups' tallies by name, kept by the caller; their configurations are the groups file's */
  Controls(Vertx vertx, IMap<String, String> map, long opTimeoutMillis, Map<String, VoteTally> tallies,
           List<GroupConfig> groupsFile) {
    this.vertx = vertx;
    this.map = map;
    this.opTimeoutMillis = opTimeoutMillis;
    this.tallies = tallies;
    groupsFile.forEach(g -> fromFile.put(g.name(), g));
  }

  /** The group's controls as last read or written (none: {@link GroupControl#NONE}). */
  GroupControl of(String group) {
    return controls.getOrDefault(group, GroupControl.NONE);
  }

  /** Reads every group's controls from the replicated map and applies them; a failure is logged, nothing changes. */
  Future<Void> refresh(String coordinatorId) {
    return vertx.executeBlocking(() -> Map.copyOf(map), false).map(all -> {
      for (VoteTally tally : tallies.values()) {
        String json = all.get(tally.config().name());
        apply(tally, json == null ? GroupControl.NONE : GroupControl.fromJson(new JsonObject(json)));
      }
      return (Void) null;
    }).onFailure(err -> LOG.warn("{}: could not read the operators' controls: {}", coordinatorId, err.getMessage()));
  }

  /** Writes a group's controls to the cluster, then applies them; fails with 503 when the cluster does not take it. */
  Future<Void> write(VoteTally tally, GroupControl control) {
    String group = tally.config().name();
    return Future.fromCompletionStage(map.setAsync(group, control.toJson().encode()), vertx.getOrCreateContext())
        .timeout(opTimeoutMillis, TimeUnit.MILLISECONDS)
        .recover(err -> Future.failedFuture(new CommandRefused(503, "the cluster did not take the change (no "
            + "quorum?): " + err.getMessage())))
        .onSuccess(x -> apply(tally, control));
  }

  private void apply(VoteTally tally, GroupControl control) {
    String group = tally.config().name();
    controls.put(group, control);
    tally.reconfigure(control.apply(fromFile.get(group)));
    tally.protectedByOperator(control.protectedInstances());
  }
}
