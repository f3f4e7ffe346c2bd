package io.fleetvote.common.msg;

import io.fleetvote.common.Ids;
import io.vertx.core.json.JsonObject;

import java.util.Locale;

/**
 * An app instance's vote, published on {@link io.fleetvote.common.Addresses#VOTES} every gossip period. A vote is a
 * lease: it counts until {@code leaseMillis} after it was received unless renewed, so a dead instance's vote
 * disappears by itself.
 *
 * @param instanceId           the voter, from its instance metadata
 * @param deployment           the Fleetvote deployment
 * @param group                the group (server array) it votes on
 * @param vote                 grow, shrink or none
 * @param load                 the load the vote is based on, in percent of the instance's CPU (may exceed 100 when
 *                             the instance's processes use more than their nominal cores)
 * @param warm                 false while the instance is warming up: such a vote is not counted, nor is the voter
 * @param protectedFromScaleIn the instance asks not to be chosen when the group shrinks
 * @param startedAt            when the agent started, epoch milliseconds
 * @param sentAt               when this vote was sent, epoch milliseconds
 * @param leaseMillis          how long the vote counts after it is received
 */
public record Vote(String instanceId, String deployment, String group, VoteKind vote, double load, boolean warm,
                   boolean protectedFromScaleIn, long startedAt, long sentAt, long leaseMillis) {

  /** A vote counts for this many of its agent's periods, so that two lost renewals do not drop it. */
  public static final int LEASE_PERIODS = 3;

  /**
   * The lease an agent gives its votes: {@value #LEASE_PERIODS} of its periods, and the silence after which it
   * leaves a coordinator that stopped answering ({@code linkLeaseMillis}, 0 on a bus of its own): an agent whose
   * coordinator froze is on another, voting again, before its last vote lapses, and its group's count holds.
   */
  public static long leaseMillis(long periodMillis, long linkLeaseMillis) {
    return LEASE_PERIODS * periodMillis + linkLeaseMillis;
  }

  /** The longest lease a vote may ask for. */
  public static final long MAX_LEASE_MILLIS = 600_000;
  /** The most load a vote may report: a runaway or forged figure is refused, not averaged in. */
  public static final double MAX_LOAD = 10_000;

  public JsonObject toJson() {
    return new JsonObject()
        .put("instanceId", instanceId)
        .put("deployment", deployment)
        .put("group", group)
        .put("vote", vote.name().toLowerCase(Locale.ROOT))
        .put("load", load)
        .put("warm", warm)
        .put("protectedFromScaleIn", protectedFromScaleIn)
        .put("startedAt", startedAt)
        .put("sentAt", sentAt)
        .put("leaseMillis", leaseMillis);
  }

  /** Reads and validates a vote; throws {@link MessageException} naming the first bad field. */
  public static Vote fromJson(Object body) {
    JsonObject json = JsonFields.object(body, "vote");
    long startedAt = JsonFields.longValue(json, "startedAt", 0, Long.MAX_VALUE);
    long sentAt = JsonFields.longValue(json, "sentAt", 0, Long.MAX_VALUE);
    if (sentAt < startedAt) {
      throw new MessageException("sentAt", "is before startedAt");
    }
    return new Vote(
        JsonFields.string(json, "instanceId", 19, Ids.INSTANCE_ID),
        JsonFields.string(json, "deployment", 63, Ids.NAME),
        JsonFields.string(json, "group", 63, Ids.NAME),
        JsonFields.enumValue(json, "vote", VoteKind.class),
        JsonFields.doubleValue(json, "load", 0, MAX_LOAD),
        JsonFields.booleanValue(json, "warm", false),
        JsonFields.booleanValue(json, "protectedFromScaleIn", false),
        startedAt,
        sentAt,
        JsonFields.longValue(json, "leaseMillis", 1, MAX_LEASE_MILLIS));
  }
}
