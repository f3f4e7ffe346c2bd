package io.fleetvote.agent;

import io.fleetvote.agent.link.CoordinatorLink;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;

/**
 * How the agent's verticles talk to the rest of the fleet: on the agent's own event bus, and, when the agent has
 * coordinators, through its {@link CoordinatorLink}: a publish goes to both (a verticle of the same agent hears it
 * locally, the link never sends it back), a request goes through the link, and a consumer listens locally and has
 * the link deliver what its address receives in the fleet. The local bus alone is for tests of one agent's
 * verticles.
 */
final class AgentBus {

  private final Vertx vertx;
  private final CoordinatorLink link;

  private AgentBus(Vertx vertx, CoordinatorLink link) {
    this.vertx = vertx;
    this.link = link;
  }

  static AgentBus local(Vertx vertx) {
    return new AgentBus(vertx, null);
  }

  static AgentBus linked(Vertx vertx, CoordinatorLink link) {
    return new AgentBus(vertx, link);
  }

  void publish(String address, JsonObject body) {
    vertx.eventBus().publish(address, body);
    if (link != null) {
      link.publish(address, body);
    }
  }

  /** How long the agent may be with a silent coordinator before it moves: the link's lease, 0 on the local bus. */
  long moveMillis() {
    return link == null ? 0 : link.leaseMillis();
  }

  /** The answer's body; a failure is a {@link io.vertx.core.eventbus.ReplyException} as on the event bus. */
  Future<Object> request(String address, JsonObject body, long timeoutMs) {
    if (link == null) {
      return vertx.eventBus().request(address, body, new DeliveryOptions().setSendTimeout(timeoutMs))
          .map(Message::body);
    }
    return link.request(address, body, timeoutMs).map(Object.class::cast);
  }

  <T> Future<Void> consumer(String address, Handler<Message<T>> handler) {
    Future<Void> registered = vertx.eventBus().<T>consumer(address, handler).completion();
    if (link != null) {
      link.subscribe(address);
    }
    return registered;
  }

  /** Runs {@code action} each time a coordinator takes the agent (never on the local bus alone). */
  void onConnected(Runnable action) {
    if (link != null) {
      link.onConnected(action);
    }
  }
}
