package io.fleetvote.coordinator.gateway;

import io.fleetvote.common.LogSafe;
import io.fleetvote.common.link.Frame;
import io.fleetvote.common.link.FrameCodec;
import io.fleetvote.common.link.Silence;
import io.fleetvote.common.msg.MessageException;
import io.fleetvote.coordinator.attest.Attestor;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetSocket;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * One agent's connection to this coordinator: first its attestation, then what {@link AgentPolicy} lets its instance
 * send (forwarded onto the cluster's bus, its origin in a header) and receive (what its subscriptions get). A frame
 * refused is answered with an {@code error} frame and counted; the connection stays open, but one that attests
 * wrongly, sends anything before attesting or sends an oversized frame is closed. Runs on the gateway's context.
 */
final class AgentConnection {

  /** The header naming the connection a message came in on, so a publish never goes back to its sender. */
  static final String ORIGIN = "fleetvote-origin";
  /** The longest an attestation keeps its connection from counting as silent. */
  static final long MAX_ATTESTING_MILLIS = 30_000;

  private final long id;
  private final NetSocket socket;
  private final AgentGateway gateway;
  private final EventBus bus;
  /** Messages delivered to the agent that wait for its answer, by the id given to it. */
  private final Map<Long, Message<Object>> awaiting = new HashMap<>();
  private final Set<String> subscriptions = new HashSet<>();
  private AgentPolicy.Binding binding;
  private boolean attesting;
  private long attestingSince;
  private long nextId;
  private long lastFrameAt;
  private long heardMark;
  private boolean closed;

  AgentConnection(long id, NetSocket socket, AgentGateway gateway, long now) {
    this.id = id;
    this.socket = socket;
    this.gateway = gateway;
    this.bus = gateway.bus();
    this.lastFrameAt = now;
    this.heardMark = gateway.silence().mark();
    socket.handler(FrameCodec.parser(FrameCodec.MAX_FRAME_BYTES, new FrameCodec.Sink() {
      @Override
      public void frame(Frame frame) {
        received(frame);
      }

      @Override
      public void invalid(MessageException problem) {
        heard();
        refuse("frame", "invalid", "a frame that could not be read: " + problem.getMessage(), null);
        if (binding == null) {
          close();
        }
      }

      @Override
      public void oversized(long length) {
        gateway.rejected("frame", "oversized", who() + " sent a frame of " + length + " bytes, more than "
            + FrameCodec.MAX_FRAME_BYTES + ": closing");
        close();
      }
    }));
    socket.closeHandler(x -> closed());
    socket.exceptionHandler(e -> close());
  }

  long id() {
    return id;
  }

  Optional<AgentPolicy.Binding> binding() {
    return Optional.ofNullable(binding);
  }

  /**
   * How long the agent has been silent at {@code now}, less the time the gateway itself was held up
   * ({@link Silence}). While its attestation is the gateway's to answer (the cloud's view or the attestations map may
   * be slow), it is not the agent that is silent: 0, for up to {@value #MAX_ATTESTING_MILLIS} ms (at 5,000 agents,
   * closing those after a lease made them all attest again).
   */
  long silentMillis(long now) {
    return attesting && now - attestingSince < MAX_ATTESTING_MILLIS ? 0
        : gateway.silence().since(now, lastFrameAt, heardMark);
  }

  private void heard() {
    lastFrameAt = gateway.now();
    heardMark = gateway.silence().mark();
  }

  /**
   * A publish for one of this connection's subscriptions, already a frame; dropped (and counted) while the agent does
   * not keep up, so a slow agent never makes the coordinator buffer without bound.
   */
  void deliverPublished(Buffer frame) {
    if (closed) {
      return;
    }
    if (socket.writeQueueFull()) {
      gateway.dropped();
      return;
    }
    socket.write(frame);
  }

  /** A request for one of this connection's subscriptions: it waits for the agent's answer. */
  void deliverRequest(Message<Object> message) {
    if (closed) {
      return;
    }
    JsonObject body = message.body() instanceof JsonObject json ? json : new JsonObject();
    long given = nextId++;
    awaiting.put(given, message);
    // The sender gave up long before: forget it (its late answer is then refused as of an unknown id).
    gateway.later(Frame.MAX_TIMEOUT_MS, () -> awaiting.remove(given));
    write(Frame.message(message.address(), body, given));
  }

  /** Closes the connection; what waited for the agent fails. */
  void close() {
    if (!closed) {
      socket.close();
      closed();
    }
  }

  private void closed() {
    if (closed) {
      return;
    }
    closed = true;
    awaiting.values().forEach(m -> m.fail(503, who() + " disconnected before it answered"));
    awaiting.clear();
    gateway.closed(this, subscriptions);
  }

  private void received(Frame frame) {
    heard();
    if (binding == null) {
      if (frame.type() != Frame.Type.ATTEST || attesting) {
        refuse(frame.type().wire(), "unattested", "the first frame must be one attest", frame.id());
        close();
        return;
      }
      attest(frame);
      return;
    }
    switch (frame.type()) {
      case PING -> write(Frame.pong(gateway.spreadMillis()));
      case PUBLISH -> publish(frame);
      case REQUEST -> request(frame);
      case SUBSCRIBE -> subscribe(frame.address());
      case REPLY, FAIL -> answer(frame);
      default -> refuse(frame.type().wire(), "unexpected", "an agent does not send " + frame.type().wire()
          + " frames", frame.id());
    }
  }

  private void attest(Frame frame) {
    attesting = true;
    attestingSince = gateway.now();
    JsonObject fields = frame.toJson();
    Future<Attested> attested = fields.getString("credential") != null
        ? gateway.resume(fields.getString("instanceId"), fields.getString("credential"))
        : gateway.attest(fields.getString("document"), fields.getString("signature"), fields.getString("nonce"));
    attested.onComplete(result -> {
      attesting = false;
      // The silence counts from the answer.
      heard();
      if (closed) {
        return;
      }
      if (result.failed()) {
        String reason = result.cause() instanceof Attestor.Refused refused ? refused.reason() : "error";
        gateway.rejected("attest", reason, LogSafe.printable(String.valueOf(result.cause().getMessage()), 300)
            + " (from " + socket.remoteAddress() + ")");
        write(Frame.refused(reason, String.valueOf(result.cause().getMessage())));
        socket.end();
        closed();
        return;
      }
      Attested granted = result.result();
      binding = granted.binding();
      write(new Frame(Frame.Type.WELCOME, new JsonObject().put("instanceId", binding.instanceId())
          .put("deployment", binding.deployment()).put("group", binding.group())
          .put("roles", binding.roles().stream().map(r -> r.name().toLowerCase(Locale.ROOT)).toList())
          .put("credential", granted.session().credential()).put("expiresAt", granted.session().expiresAt())
          .put("coordinator", gateway.coordinatorId()).put("leaseMs", gateway.leaseMillis())
          .put("spreadMs", gateway.spreadMillis())
          // Every coordinator's gateway as of now: an agent launched before some of them learns of them here.
          .put("coordinators", gateway.reach().getJsonObject("coordinators"))));
      gateway.attested(this);
    });
  }

  private void publish(Frame frame) {
    if (allowed(frame)) {
      bus.publish(frame.address(), frame.body(), new DeliveryOptions().addHeader(ORIGIN, Long.toString(id)));
    }
  }

  private void request(Frame frame) {
    if (!allowed(frame)) {
      return;
    }
    long timeout = frame.toJson().getLong("timeoutMs");
    long requestId = frame.id();
    bus.request(frame.address(), frame.body(), new DeliveryOptions().setSendTimeout(timeout)
            .addHeader(ORIGIN, Long.toString(id)))
        .onComplete(reply -> {
          if (!closed) {
            write(Frame.answer(requestId, reply));
          }
        });
  }

  private boolean allowed(Frame frame) {
    Optional<AgentPolicy.Refusal> refusal = AgentPolicy.send(binding, frame.address(), frame.body());
    refusal.ifPresent(r -> refuse(frame.type().wire(), r.reason(), r.message(), frame.id()));
    return refusal.isEmpty();
  }

  private void subscribe(String address) {
    Optional<AgentPolicy.Refusal> refusal = AgentPolicy.subscribe(binding, address);
    if (refusal.isPresent()) {
      refuse("subscribe", refusal.get().reason(), refusal.get().message(), null);
      return;
    }
    if (subscriptions.add(address)) {
      gateway.subscribe(address, this);
    }
  }

  private void answer(Frame frame) {
    Message<Object> message = awaiting.remove(frame.id());
    if (message == null) {
      refuse(frame.type().wire(), "unknown-id", "no message of id " + frame.id() + " waits for an answer", null);
      return;
    }
    JsonObject fields = frame.toJson();
    if (frame.type() == Frame.Type.REPLY) {
      message.reply(frame.body());
    } else {
      message.fail(fields.getInteger("code"), fields.getString("message"));
    }
  }

  private void refuse(String what, String reason, String message, Long requestId) {
    gateway.rejected(what, reason, who() + ": " + message);
    if (!closed) {
      write(Frame.error(reason, message, requestId));
    }
  }

  private void write(Frame frame) {
    socket.write(FrameCodec.encode(frame));
  }

  private String who() {
    return binding == null ? "an unattested agent at " + socket.remoteAddress() : binding.instanceId();
  }

  /** An attestation that succeeded: who the agent is, and its session. */
  record Attested(AgentPolicy.Binding binding, Attestor.Session session) {
  }
}
