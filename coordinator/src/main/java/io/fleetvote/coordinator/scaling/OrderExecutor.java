package io.fleetvote.coordinator.scaling;

import io.fleetvote.common.Addresses;
import io.fleetvote.common.LogSafe;
import io.fleetvote.common.msg.DrainReply;
import io.fleetvote.common.msg.DrainRequest;
import io.fleetvote.coordinator.fleet.Fleet;
import io.fleetvote.coordinator.fleet.FleetInstance;
import io.fleetvote.coordinator.fleet.LaunchOrder;
import io.fleetvote.coordinator.fleet.RetryListener;
import io.fleetvote.coordinator.ledger.DecisionLedger;
import io.fleetvote.coordinator.ledger.LedgerEntry;
import io.fleetvote.coordinator.ledger.LedgerEntry.Action;
import io.fleetvote.coordinator.ledger.LedgerEntry.Status;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * Carries out the orders written in the ledger over {@link Fleet}: a launch, a termination (each victim drained from
 * its LBs first), a replacement (launch, then drain and terminate the victim), and writes down how each went. The
 * order's client token names its ledger entry, so a successor that sends it again never launches twice.
 */
final class OrderExecutor {

  private static final Logger LOG = LoggerFactory.getLogger(OrderExecutor.class);
  /** The agent answers a drain within the drain timeout, plus the few HAProxy commands around it. */
  private static final long DRAIN_REPLY_MARGIN_MILLIS = 10_000;

  private final Vertx vertx;
  private final String coordinatorId;
  private final Fleet fleet;
  private final DecisionLedger ledger;
  private final FleetView view;
  private final OrdersInFlight inFlight;
  private final Function<String, Optional<GroupConfig>> groups;
  private final Function<GroupConfig, String> userData;
  private final Clock clock;

  /**
   * @param groups   a configured group by name (empty: no longer configured)
   * @param userData the user data an instance of the group boots with
   */
  OrderExecutor(Vertx vertx, String coordinatorId, Fleet fleet, DecisionLedger ledger, FleetView view,
                OrdersInFlight inFlight, Function<String, Optional<GroupConfig>> groups,
                Function<GroupConfig, String> userData, Clock clock) {
    this.vertx = vertx;
    this.coordinatorId = coordinatorId;
    this.fleet = fleet;
    this.ledger = ledger;
    this.view = view;
    this.inFlight = inFlight;
    this.groups = groups;
    this.userData = userData;
    this.clock = clock;
  }

  /** Sends the order of a ledger entry (already counted in flight) to the cloud and writes down how it went. */
  void carryOut(LedgerEntry entry, long epoch) {
    Action action = entry.action();
    Optional<GroupConfig> configured = groups.apply(entry.group());
    if (configured.isEmpty()) {
      inFlight.finished(entry);
      finish(entry, action.failed("group " + entry.group() + " is no longer configured", clock.millis(), epoch));
      return;
    }
    GroupConfig group = configured.get();
    RetryListener retries = (attempt, code, message, nextIn) -> {
      LedgerEntry current = ledger.entry(entry.id()).orElse(entry);
      ledger.put(current.withAction(current.action().retrying(new JsonObject().put("at", clock.millis())
          .put("attempt", attempt).put("error", code).put("message", LogSafe.printable(message))
          .put("nextInMillis", nextIn.toMillis()).put("epoch", epoch))));
    };
    LaunchOrder order = new LaunchOrder(group.name(), group.imageId(), group.instanceType(), action.count(),
        action.clientToken(), userData.apply(group), group.roleTag(), group.tags());
    if (action.kind().equals("launch")) {
      fleet.launch(order, retries).onComplete(result -> {
        inFlight.finished(entry);
        if (result.succeeded()) {
          view.launched(result.result());
          finish(entry, current(entry).done(result.result().stream().map(FleetInstance::instanceId).toList(),
              clock.millis(), epoch));
        } else {
          finish(entry, current(entry).failed(result.cause().getMessage(), clock.millis(), epoch));
        }
      });
      return;
    }
    // A replacement launches first (its token makes a successor's second try the same launch), then the victim
    // leaves its LBs and goes, as a scale-in's does.
    Future<Void> first = !action.kind().equals("replace") ? Future.succeededFuture()
        : fleet.launch(order, retries).compose(replacements -> {
          view.launched(replacements);
          inFlight.replacementLaunched(entry);
          LOG.info("{} {}: {} launched {} to replace {}", coordinatorId, entry.group(), entry.id(),
              replacements.stream().map(FleetInstance::instanceId).toList(), action.instances());
          return noteOn(entry, new JsonObject().put("at", clock.millis()).put("launched", new JsonArray(
              replacements.stream().map(FleetInstance::instanceId).toList())));
        });
    first.compose(x -> drain(entry, group)).compose(x -> fleet.terminate(action.instances(), retries))
        .onComplete(result -> {
          inFlight.finished(entry);
          if (result.succeeded()) {
            view.terminated(action.instances());
            finish(entry, current(entry).done(action.instances(), clock.millis(), epoch));
          } else {
            finish(entry, current(entry).failed(result.cause().getMessage(), clock.millis(), epoch));
          }
        });
  }

  /** Asks an instance's agent to leave its LBs, or to come back; the reply says what each LB did. */
  Future<DrainReply> askAgent(String instanceId, DrainRequest request) {
    return vertx.eventBus().request(Addresses.agentDrain(instanceId), request.toJson(), new DeliveryOptions()
            .setSendTimeout(request.drainTimeoutMillis() + DRAIN_REPLY_MARGIN_MILLIS))
        .map(reply -> DrainReply.fromJson(reply.body()));
  }

  /** Adds a note to an order's entry (how its drains went, what a replacement launched); never fails the order. */
  private Future<Void> noteOn(LedgerEntry entry, JsonObject note) {
    LedgerEntry current = ledger.entry(entry.id()).orElse(entry);
    return ledger.put(current.withAction(current.action().noted(note))).<Void>mapEmpty()
        .recover(err -> Future.succeededFuture());
  }

  /**
   * Asks each victim's agent to leave its LBs gracefully and waits for the answers (or the drain timeout plus a
   * margin); what each said goes to the ledger. A victim whose agent does not answer is terminated all the same:
   * its LBs reap its entry.
   */
  private Future<Void> drain(LedgerEntry entry, GroupConfig group) {
    List<Future<JsonObject>> drains = new ArrayList<>();
    for (String id : entry.action().instances()) {
      drains.add(askAgent(id, new DrainRequest(DrainRequest.Kind.LEAVE, group.drainTimeoutMs()))
          .map(reply -> reply.toJson().put("sentence", reply.sentence()))
          .recover(err -> Future.succeededFuture(new JsonObject().put("instanceId", id)
              .put("error", LogSafe.printable(err.getMessage())))));
    }
    return Future.join(drains).compose(all -> {
      JsonArray drained = new JsonArray();
      drains.forEach(d -> drained.add(d.result()));
      LOG.info("{} {}: {} drained before termination: {}", coordinatorId, entry.group(), entry.id(), drained.encode());
      return noteOn(entry, new JsonObject().put("at", clock.millis()).put("drained", drained));
    });
  }

  private Action current(LedgerEntry entry) {
    return ledger.entry(entry.id()).map(LedgerEntry::action).orElse(entry.action());
  }

  private void finish(LedgerEntry entry, Action finished) {
    LedgerEntry done = ledger.entry(entry.id()).orElse(entry).withAction(finished);
    if (finished.status() == Status.FAILED) {
      LOG.warn("{} {}: {} failed: {}", coordinatorId, entry.group(), entry.id(), finished.error());
    } else {
      LOG.info("{} {}: {} done: {} {}", coordinatorId, entry.group(), entry.id(), finished.kind(), finished.instances());
    }
    ledger.put(done).onFailure(err -> LOG.warn("{}: could not record the end of {}: {}", coordinatorId, entry.id(),
        err.toString()));
  }
}
