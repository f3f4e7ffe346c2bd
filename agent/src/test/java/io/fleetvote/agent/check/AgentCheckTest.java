package io.fleetvote.agent.check;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

/** The agent-check's answers, and its server against peers that misbehave. */
@ExtendWith(VertxExtension.class)
class AgentCheckTest {

  @Test
  void theWeightGrowsWithHalfTheHeadroomAndNoWordTakesABusyInstanceOut() {
    assertThat(AgentCheckReply.of(false, false, 30)).isEqualTo("up 85%\n");
    assertThat(AgentCheckReply.of(false, false, 100)).as("saturated: less traffic, never none").isEqualTo("up 50%\n");
    assertThat(AgentCheckReply.of(false, false, 250)).isEqualTo("up 50%\n");
    assertThat(AgentCheckReply.of(false, false, 0)).isEqualTo("up 100%\n");
    assertThat(AgentCheckReply.of(false, false, Double.NaN)).as("not measured").isEqualTo("up 100%\n");
    assertThat(AgentCheckReply.of(true, false, 50)).isEqualTo("drain #leaving\n");
    assertThat(AgentCheckReply.of(false, true, 50)).as("a space before #, or HAProxy ignores it")
        .isEqualTo("down #app refuses connections\n");
  }

  @Test
  void theSmoothedLoadFollowsByTimeNotByHowOftenItIsRead() {
    SmoothedLoad once = new SmoothedLoad(3000);
    SmoothedLoad often = new SmoothedLoad(3000);
    assertThat(once.update(0, 0)).isZero();
    often.update(0, 0);
    for (long t = 100; t <= 3000; t += 100) {
      often.update(100, t);
    }
    assertThat(once.update(100, 3000)).as("one time constant: 1 - 1/e of the way").isCloseTo(63.2, offset(0.1))
        .isCloseTo(often.update(100, 3000), offset(0.1));
    assertThat(once.update(Double.NaN, 4000)).as("a missing sample changes nothing").isCloseTo(63.2, offset(0.1));
  }

  @Test
  void eachConnectionGetsOneLineAndIsClosedWhateverThePeerSendsOrDoesNotRead(Vertx vertx) throws Exception {
    AtomicReference<String> says = new AtomicReference<>("up 40%\n");
    AgentCheckVerticle check = new AgentCheckVerticle("i-0000000000000c001", "127.0.0.1", 0, says::get,
        Clock.systemUTC());
    vertx.deployVerticle(check).await();
    NetClient client = vertx.createNetClient();
    assertThat(read(vertx, client, check.port(), null).await(5, TimeUnit.SECONDS)).isEqualTo("up 40%\n");
    assertThat(read(vertx, client, check.port(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n\u0000\u00ff garbage")
        .await(5, TimeUnit.SECONDS)).as("garbage is ignored").isEqualTo("up 40%\n");

    List<NetSocket> neverRead = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      NetSocket socket = client.connect(check.port(), "127.0.0.1").await(5, TimeUnit.SECONDS);
      socket.pause();
      neverRead.add(socket);
    }
    says.set("up 90%\n");
    assertThat(read(vertx, client, check.port(), null).await(5, TimeUnit.SECONDS))
        .as("answered while 200 peers hold connections they never read").isEqualTo("up 90%\n");

    says.set(null);
    AgentCheckVerticle failing = new AgentCheckVerticle("i-0000000000000c002", "127.0.0.1", 0,
        () -> { throw new IllegalStateException("no load yet"); }, Clock.systemUTC());
    vertx.deployVerticle(failing).await();
    assertThat(read(vertx, client, failing.port(), null).await(5, TimeUnit.SECONDS))
        .as("no answer rather than a made-up one: HAProxy keeps the last").isEmpty();
    says.set("up 55%\n");
    assertThat(read(vertx, client, check.port(), null).await(5, TimeUnit.SECONDS)).isEqualTo("up 55%\n");
    neverRead.forEach(NetSocket::close);
  }

  /**
   * Connects, sends {@code send} (if any), and reads until the agent closes. Connected from a Vert.x context, so the
   * handlers are in place when the connection completes: the agent answers at once and closes, and a handler set in
   * a later task would miss the line.
   */
  private static Future<String> read(Vertx vertx, NetClient client, int port, String send) {
    Promise<String> text = Promise.promise();
    vertx.runOnContext(x -> client.connect(port, "127.0.0.1").onComplete(connected -> {
      if (connected.failed()) {
        text.fail(connected.cause());
        return;
      }
      NetSocket socket = connected.result();
      Buffer received = Buffer.buffer();
      socket.handler(received::appendBuffer);
      socket.endHandler(end -> text.tryComplete(received.toString()));
      socket.exceptionHandler(text::tryFail);
      if (send != null) {
        socket.write(send);
      }
    }));
    return text.future();
  }
}
