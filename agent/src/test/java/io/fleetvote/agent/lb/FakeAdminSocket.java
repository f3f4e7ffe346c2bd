package io.fleetvote.agent.lb;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.SocketAddress;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Something else on a unix socket where HAProxy's admin socket should be: it reads a command line, answers a fixed
 * text after a delay and closes ({@code reply} null: it never answers). Records the commands and how many
 * connections were open at once.
 */
final class FakeAdminSocket {

  private final Vertx vertx;
  private final String reply;
  private final long delayMs;
  private final List<String> commands = new CopyOnWriteArrayList<>();
  private final AtomicInteger open = new AtomicInteger();
  private final AtomicInteger maxOpen = new AtomicInteger();
  private NetServer server;

  private FakeAdminSocket(Vertx vertx, String reply, long delayMs) {
    this.vertx = vertx;
    this.reply = reply;
    this.delayMs = delayMs;
  }

  static Future<FakeAdminSocket> start(Vertx vertx, Path path, String reply, long delayMs) {
    return start(vertx, SocketAddress.domainSocketAddress(path.toString()), reply, delayMs);
  }

  static Future<FakeAdminSocket> start(Vertx vertx, SocketAddress address, String reply, long delayMs) {
    FakeAdminSocket fake = new FakeAdminSocket(vertx, reply, delayMs);
    return vertx.createNetServer()
        .connectHandler(fake::serve)
        .listen(address)
        .map(server -> {
          fake.server = server;
          return fake;
        });
  }

  /** The TCP port it listens on (0 on a unix socket). */
  int port() {
    return server.actualPort();
  }

  List<String> commands() {
    return commands;
  }

  int maxOpen() {
    return maxOpen.get();
  }

  Future<Void> close() {
    return server.close();
  }

  private void serve(NetSocket socket) {
    maxOpen.accumulateAndGet(open.incrementAndGet(), Math::max);
    socket.closeHandler(v -> open.decrementAndGet());
    Buffer received = Buffer.buffer();
    socket.handler(data -> {
      received.appendBuffer(data);
      String text = received.toString(StandardCharsets.UTF_8);
      if (text.endsWith("\n")) {
        commands.add(text.substring(0, text.length() - 1));
        if (reply != null) {
          vertx.setTimer(Math.max(1, delayMs), t -> socket.end(Buffer.buffer(reply)));
        }
      }
    });
  }
}
