package io.fleetvote.coordinator.scaling;

import io.fleetvote.coordinator.ledger.DecisionLedger;
import io.fleetvote.coordinator.ledger.LedgerEntry;
import io.fleetvote.coordinator.ledger.LedgerEntry.Action;
import io.fleetvote.coordinator.ledger.LedgerEntry.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.ToLongFunction;

/**
 * Writes the leader's decisions to the ledger. An order is written before it goes out (the write fails without
 * quorum, and then nothing happens) and is then handed to the {@link OrderExecutor}. Holds coalesce: the holds of
 * one group and rule that keep coming (each within the group's coalescing window, its calm time or more, of the
 * last) are one entry whose count, last time and latest decision grow, written back to the cluster every
 * {@code holdFlushMillis}, so votes that flip back and forth write one entry per rule, not one per flip; an order
 * ends the group's runs. A healing hold (an outage, the replacement limit) is written once and then updated,
 * whatever the votes write in between.
 */
final class DecisionRecorder {

  private static final Logger LOG = LoggerFactory.getLogger(DecisionRecorder.class);
  static final String AUTOSCALER = "autoscaler";

  private final String coordinatorId;
  private final DecisionLedger ledger;
  private final OrdersInFlight inFlight;
  private final OrderExecutor executor;
  private final MeterRegistry meters;
  private final long holdFlushMillis;
  private final Map<String, Long> holdFlushedAt = new HashMap<>();
  /** Per group, the ledger entry of its current healing hold. */
  private final Map<String, String> healHolds = new HashMap<>();
  /** Per group and rule, the ledger entry of the latest hold. */
  private final Map<String, Map<Decision.Rule, String>> holds = new HashMap<>();
  private final ToLongFunction<String> coalesceMillis;

  /**
   * @param coalesceMillis per group: how long after a hold another of the same rule still joins its entry
   */
  DecisionRecorder(String coordinatorId, DecisionLedger ledger, OrdersInFlight inFlight, OrderExecutor executor,
                   MeterRegistry meters, long holdFlushMillis, ToLongFunction<String> coalesceMillis) {
    this.coalesceMillis = coalesceMillis;
    this.coordinatorId = coordinatorId;
    this.ledger = ledger;
    this.inFlight = inFlight;
    this.executor = executor;
    this.meters = meters;
    this.holdFlushMillis = holdFlushMillis;
  }

  /** The autoscaler's decision. */
  void record(Decision decision, long epoch) {
    record(decision, epoch, AUTOSCALER);
  }

  /** Writes a decision to the ledger (and carries out its order); completes with the entry once written. */
  Future<LedgerEntry> record(Decision decision, long epoch, String actor) {
    Counter.builder("fleetvote.coordinator.decisions").tag("group", decision.group())
        .tag("outcome", decision.outcome().name().toLowerCase()).tag("rule", decision.rule().name().toLowerCase())
        .description("Decisions the leader made, by group, outcome and rule").register(meters).increment();
    if (!decision.acts()) {
      if (!actor.equals(AUTOSCALER)) {
        LedgerEntry noted = new LedgerEntry(ledger.nextId(epoch), epoch, decision.at(), decision.at(), 1, actor,
            decision, null);
        LOG.info("{} e{} {}: {} ({})", coordinatorId, epoch, decision.group(), decision.reason(), actor);
        return ledger.put(noted);
      }
      recordHold(decision, epoch);
      return Future.succeededFuture();
    }
    holds.remove(decision.group());
    LedgerEntry entry = new LedgerEntry(ledger.nextId(epoch), epoch, decision.at(), decision.at(), 1, actor, decision,
        null);
    Action action = decision.outcome() == Decision.Outcome.REPLACE
        ? new Action("replace", token(decision.group(), entry.id(), decision.at()), 1, decision.victims(),
            Status.ORDERED, List.of(), 0, 0, null)
        : decision.change() > 0
        ? new Action("launch", token(decision.group(), entry.id(), decision.at()), decision.change(), List.of(),
            Status.ORDERED, List.of(), 0, 0, null)
        : new Action("terminate", null, -decision.change(), decision.victims(), Status.ORDERED, List.of(), 0, 0, null);
    LedgerEntry ordered = entry.withAction(action);
    // Counted as in flight before the ledger write completes, so the next tick does not order it again.
    inFlight.started(ordered);
    return ledger.put(ordered)
        .onSuccess(written -> {
          LOG.info("{} e{} {}: {} ({})", coordinatorId, epoch, decision.group(), decision.reason(), written.id());
          executor.carryOut(written, epoch);
        })
        .onFailure(err -> {
          inFlight.finished(ordered);
          LOG.warn("{} e{} {}: not acting, the ledger refused the order: {}", coordinatorId, epoch, decision.group(),
              err.toString());
        });
  }

  /** A healing decision: an order is recorded as any; a hold updates the group's healing hold. */
  void recordHealing(Decision decision, long epoch) {
    if (decision.acts()) {
      healHolds.remove(decision.group());
      record(decision, epoch);
      return;
    }
    Optional<LedgerEntry> held = Optional.ofNullable(healHolds.get(decision.group())).flatMap(ledger::entry)
        .filter(e -> e.epoch() == epoch && e.decision().rule() == decision.rule()
            && e.decision().victims().equals(decision.victims()));
    healHolds.put(decision.group(), writeHold(held, decision, epoch).id());
  }

  /** The group heals nothing now: its next healing hold is a new entry. */
  void healed(String group) {
    healHolds.remove(group);
  }

  /**
   * The client token of a launch: the ledger entry that ordered it, when it was decided, and its group, at most 64
   * characters. Entry ids start again at e1 in a new cluster (an empty ledger) while EC2 remembers tokens for at least
   * a day after an instance's end: the decision's time keeps a new ledger's first launch from being taken for an
   * earlier one's (EC2 would answer with the old, terminated reservation, or IdempotentParameterMismatch). A
   * successor sends the order again with the token written in the entry, never a new one.
   */
  static String token(String group, String entryId, long decidedAt) {
    String token = "fv-" + entryId + "-" + Long.toString(decidedAt, 36) + "-" + group;
    return token.length() <= 64 ? token : token.substring(0, 64);
  }

  /** Holds of one rule that keep coming make one entry whose count and last time grow; written back now and then. */
  private void recordHold(Decision decision, long epoch) {
    Map<Decision.Rule, String> ofGroup = holds.computeIfAbsent(decision.group(), g -> new EnumMap<>(Decision.Rule.class));
    Optional<LedgerEntry> held = Optional.ofNullable(ofGroup.get(decision.rule())).flatMap(ledger::entry)
        .filter(e -> coalesces(e, decision, epoch, coalesceMillis.applyAsLong(decision.group())));
    ofGroup.put(decision.rule(), writeHold(held, decision, epoch).id());
  }

  /**
   * Whether {@code hold} joins the entry {@code held}: the autoscaler's hold of the same rule, in the same epoch,
   * seen last at most {@code windowMillis} before. Pure.
   */
  static boolean coalesces(LedgerEntry held, Decision hold, long epoch, long windowMillis) {
    return held.action() == null && held.actor().equals(AUTOSCALER) && held.epoch() == epoch
        && held.decision().rule() == hold.rule() && hold.at() - held.lastAt() <= windowMillis;
  }

  /** The held entry seen again (flushed to the cluster every holdFlushMillis), or a new entry; returns the entry. */
  private LedgerEntry writeHold(Optional<LedgerEntry> held, Decision decision, long epoch) {
    if (held.isPresent()) {
      LedgerEntry again = held.get().seenAgain(decision.at(), decision);
      long flushedAt = holdFlushedAt.getOrDefault(again.id(), 0L);
      if (decision.at() - flushedAt >= holdFlushMillis) {
        holdFlushedAt.put(again.id(), decision.at());
        ledger.put(again);
      } else {
        ledger.keepLocally(again);
      }
      return again;
    }
    LedgerEntry entry = new LedgerEntry(ledger.nextId(epoch), epoch, decision.at(), decision.at(), 1, AUTOSCALER,
        decision, null);
    holdFlushedAt.put(entry.id(), decision.at());
    LOG.info("{} e{} {}: hold ({}): {}", coordinatorId, epoch, decision.group(), decision.rule(), decision.reason());
    ledger.put(entry).onFailure(err -> LOG.warn("{}: could not write a hold to the ledger: {}", coordinatorId,
        err.toString()));
    return entry;
  }
}
