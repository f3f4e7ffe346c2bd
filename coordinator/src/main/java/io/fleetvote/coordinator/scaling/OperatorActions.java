package io.fleetvote.coordinator.scaling;

import io.fleetvote.common.LogSafe;
import io.fleetvote.common.msg.DrainRequest;
import io.fleetvote.common.msg.MessageException;
import io.fleetvote.common.msg.OperatorCommand;
import io.fleetvote.coordinator.fleet.FleetInstance;
import io.fleetvote.coordinator.ledger.DecisionLedger;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * What operators ask of the leader ({@link OperatorCommand}): bounds, scale by N, pause and resume, protect from
 * scale-in, drain and undrain. Each writes the change to the replicated controls and a ledger entry saying who did
 * what; a scale is an order like the autoscaler's ({@link ScalePlan}). A refusal is a {@link CommandRefused} with the
 * HTTP status that says why.
 */
final class OperatorActions {

  private final Map<String, VoteTally> tallies;
  private final FleetView view;
  private final OrdersInFlight inFlight;
  private final DecisionLedger ledger;
  private final Controls controls;
  private final DecisionRecorder recorder;
  private final OrderExecutor executor;
  private final Clock clock;
  private final Consumer<VoteTally> boundsChanged;

  /** @param boundsChanged told of a group whose bounds changed: it may have to grow or shrink at once */
  OperatorActions(Map<String, VoteTally> tallies, FleetView view, OrdersInFlight inFlight, DecisionLedger ledger,
                  Controls controls, DecisionRecorder recorder, OrderExecutor executor, Clock clock,
                  Consumer<VoteTally> boundsChanged) {
    this.boundsChanged = boundsChanged;
    this.tallies = tallies;
    this.view = view;
    this.inFlight = inFlight;
    this.ledger = ledger;
    this.controls = controls;
    this.recorder = recorder;
    this.executor = executor;
    this.clock = clock;
  }

  /** Carries out an operator's command as the leader of {@code epoch}; the reply names the ledger entry. */
  Future<JsonObject> execute(JsonObject body, long epoch) {
    OperatorCommand command;
    try {
      command = OperatorCommand.fromJson(body);
    } catch (MessageException e) {
      return Future.failedFuture(new CommandRefused(400, e.getMessage()));
    }
    String user = command.user();
    try {
      return switch (command.kind()) {
        case BOUNDS -> bounds(group(command.target()), command.min(), command.max(), user, epoch);
        case SCALE -> scale(group(command.target()), command.by(), user, epoch);
        case PAUSE, RESUME -> pause(group(command.target()), command.kind() == OperatorCommand.Kind.PAUSE, user,
            epoch);
        case PROTECT, UNPROTECT -> protect(instance(command.target()),
            command.kind() == OperatorCommand.Kind.PROTECT, user, epoch);
        case DRAIN, UNDRAIN -> drain(instance(command.target()), command.kind() == OperatorCommand.Kind.DRAIN,
            user, epoch);
      };
    } catch (CommandRefused e) {
      return Future.failedFuture(e);
    }
  }

  private VoteTally group(String name) {
    VoteTally tally = tallies.get(name);
    if (tally == null) {
      throw new CommandRefused(404, "no such group: " + LogSafe.printable(name));
    }
    return tally;
  }

  private FleetInstance instance(String id) {
    FleetInstance instance = view.get(id).orElse(null);
    if (instance == null || !instance.alive() || !tallies.containsKey(instance.group())) {
      throw new CommandRefused(404, "no such instance in a scaled group: " + LogSafe.printable(id));
    }
    return instance;
  }

  private Future<JsonObject> bounds(VoteTally tally, int min, int max, String user, long epoch) {
    GroupConfig before = tally.config();
    try {
      before.withBounds(min, max);
    } catch (MessageException e) {
      return Future.failedFuture(new CommandRefused(400, e.getMessage()));
    }
    GroupControl control = controls.of(before.name()).withBounds(min, max, user, clock.millis());
    String reason = String.format("%s set min %d, max %d (were %d, %d)", user, min, max, before.min(), before.max());
    return controls.write(tally, control).compose(x -> {
      boundsChanged.accept(tally);
      return note(before.name(), reason, user, epoch, null);
    });
  }

  private Future<JsonObject> pause(VoteTally tally, boolean pause, String user, long epoch) {
    String group = tally.config().name();
    GroupControl control = controls.of(group).withPaused(pause, user, clock.millis());
    return controls.write(tally, control).compose(x -> note(group, user + (pause ? " paused" : " resumed")
        + " the autoscaling of " + group, user, epoch, null));
  }

  private Future<JsonObject> protect(FleetInstance instance, boolean protect, String user, long epoch) {
    VoteTally tally = tallies.get(instance.group());
    GroupControl control = controls.of(instance.group()).withProtected(instance.instanceId(), protect, user,
        clock.millis());
    return controls.write(tally, control).compose(x -> note(instance.group(), user + (protect ? " protected "
        : " unprotected ") + instance.instanceId() + (protect ? " from" : " for") + " scale-in", user, epoch, null));
  }

  private Future<JsonObject> scale(VoteTally tally, int by, String user, long epoch) {
    GroupConfig config = tally.config();
    String group = config.name();
    boolean busy = inFlight.launches(group) > 0 || ledger.unfinished().stream().anyMatch(e -> e.group().equals(group));
    List<FleetInstance> alive = view.members(group).stream()
        .filter(i -> i.alive() && !inFlight.isLeaving(i.instanceId())).toList();
    Decision decision = ScalePlan.plan(config, alive.size(), by, busy, count -> tally.victimsFor(
        new GroupFleet(alive, 0, inFlight.leaving(), ledger.lastResizeAt(group)), count), user, clock.millis());
    return recorder.record(decision, epoch, user).map(entry -> new JsonObject().put("entry", entry.id())
        .put("reason", decision.reason()));
  }

  /**
   * An operator takes an app instance out of its LBs: it keeps running, no longer counts in its group (a replacement
   * is launched when the group falls below its minimum) and stays out until undrained.
   */
  private Future<JsonObject> drain(FleetInstance instance, boolean drain, String user, long epoch) {
    VoteTally tally = tallies.get(instance.group());
    GroupConfig config = tally.config();
    String id = instance.instanceId();
    if (!config.servesApp()) {
      return Future.failedFuture(new CommandRefused(409, id + " is an instance of group " + instance.group()
          + " (roles " + config.roleTag() + "): only app instances behind an LB can be drained"));
    }
    if (!drain && !controls.of(instance.group()).drained().contains(id)) {
      return Future.failedFuture(new CommandRefused(409, id + " is not drained"));
    }
    DrainRequest request = new DrainRequest(drain ? DrainRequest.Kind.DRAIN : DrainRequest.Kind.UNDRAIN,
        config.drainTimeoutMs());
    Future<Void> before = drain ? Future.succeededFuture()
        : controls.write(tally, controls.of(instance.group()).withDrained(id, false, user, clock.millis()));
    return before.compose(x -> executor.askAgent(id, request)
            .recover(err -> Future.failedFuture(new CommandRefused(502, "the agent of " + id + " did not "
                + (drain ? "drain" : "undrain") + " it: " + LogSafe.printable(err.getMessage())))))
        .compose(reply -> (drain ? controls.write(tally, controls.of(instance.group()).withDrained(id, true, user,
            clock.millis())) : Future.<Void>succeededFuture()).map(reply))
        .compose(reply -> note(instance.group(), user + (drain ? " drained " + id + " from its LBs: "
            : " put " + id + " back in its LBs: ") + reply.sentence(), user, epoch,
            new JsonObject().put("instanceId", id).put("drain", reply.toJson()))
            .map(noted -> noted.put("drained", reply.toJson())));
  }

  /** An operator's action that orders nothing: a ledger entry that says who did what, with the details behind it. */
  private Future<JsonObject> note(String group, String reason, String user, long epoch, JsonObject details) {
    Decision decision = new Decision(group, clock.millis(), Decision.Outcome.HOLD, Decision.Rule.OPERATOR,
        Decision.Counts.NONE, view.members(group).size(), 0, 0, List.of(), reason, details);
    return recorder.record(decision, epoch, user)
        .recover(err -> Future.failedFuture(new CommandRefused(503, "done, but the ledger did not take the note: "
            + err.getMessage())))
        .map(entry -> new JsonObject().put("entry", entry.id()).put("reason", reason));
  }
}
