package io.fleetvote.agent.check;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.micrometer.backends.BackendRegistries;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * HAProxy's agent-check on a port of the agent's own: each connection gets one line ({@link AgentCheckReply}) at once
 * and is closed. Off the app's work queue and outside its CPU quota, so it answers while the app is saturated.
 * Whatever a peer sends is ignored (HAProxy sends nothing unless {@code agent-send} is set): it is counted and logged
 * at most once every 10 s; a peer that never reads costs one small write and a closed socket; nothing it does
 * reaches the rest of the agent.
 */
public final class AgentCheckVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(AgentCheckVerticle.class);
  /** A peer that holds a connection open after its answer is cut after this long. */
  private static final int IDLE_TIMEOUT_SECONDS = 2;
  private static final long LOG_EVERY_MILLIS = 10_000;

  private final String instanceId;
  private final String host;
  private final int port;
  private final Supplier<String> reply;
  private final Clock clock;
  private Counter answered;
  private Counter ignoredBytes;
  private long ignoredLoggedAt = Long.MIN_VALUE / 2;
  private int actualPort;

  /** {@code reply} gives the line to send now; it is called on the event loop for every connection. */
  public AgentCheckVerticle(String instanceId, String host, int port, Supplier<String> reply, Clock clock) {
    this.instanceId = instanceId;
    this.host = host;
    this.port = port;
    this.reply = reply;
    this.clock = clock;
  }

  @Override
  public Future<?> start() {
    MeterRegistry registry = Objects.requireNonNullElseGet(BackendRegistries.getDefaultNow(), SimpleMeterRegistry::new);
    answered = Counter.builder("fleetvote.agent.check.answers").description("Agent-check connections answered")
        .register(registry);
    ignoredBytes = Counter.builder("fleetvote.agent.check.ignored.bytes")
        .description("Bytes agent-check peers sent, which the agent ignores").register(registry);
    return vertx.createNetServer(new NetServerOptions().setHost(host).setPort(port).setTcpNoDelay(true)
            .setIdleTimeout(IDLE_TIMEOUT_SECONDS))
        .connectHandler(this::answer)
        .listen()
        .onSuccess(server -> {
          actualPort = server.actualPort();
          LOG.info("{}: agent-check listening on {}:{}", instanceId, host, actualPort);
        });
  }

  /** The port it listens on (the one asked for, or the one picked for port 0). */
  public int port() {
    return actualPort;
  }

  private void answer(NetSocket socket) {
    socket.handler(data -> ignored(socket, data.length()));
    socket.exceptionHandler(err -> LOG.debug("{}: agent-check connection from {}: {}", instanceId,
        socket.remoteAddress(), err.toString()));
    String line;
    try {
      line = reply.get();
    } catch (RuntimeException e) {
      // Saying nothing keeps HAProxy's last weight and state: better than a made-up answer.
      LOG.warn("{}: no agent-check answer could be made: {}", instanceId, e.toString());
      socket.close();
      return;
    }
    answered.increment();
    socket.end(Buffer.buffer(line));
  }

  private void ignored(NetSocket socket, int bytes) {
    ignoredBytes.increment(bytes);
    long now = clock.millis();
    if (now - ignoredLoggedAt >= LOG_EVERY_MILLIS) {
      ignoredLoggedAt = now;
      LOG.warn("{}: agent-check: {} byte(s) from {} ignored (HAProxy's agent-check sends nothing; more within 10 s are "
          + "only counted)", instanceId, bytes, socket.remoteAddress());
    }
  }
}
