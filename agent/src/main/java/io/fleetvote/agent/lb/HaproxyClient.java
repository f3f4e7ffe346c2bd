package io.fleetvote.agent.lb;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.SocketAddress;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * {@link Haproxy} over HAProxy's admin socket (a unix domain socket, or a loopback TCP address), one command per
 * connection: write {@code command\n}, read until HAProxy closes. At most {@code maxConnections} commands are in
 * flight; the others wait in a queue, so a burst of registrations is answered rather than refused by HAProxy's
 * {@code stats maxconn}. A command runs, and its future completes, on the context of whoever called it.
 */
public final class HaproxyClient implements Haproxy {

  /** A reply larger than this is not HAProxy's answer to our commands (thousands of servers fit). */
  private static final int MAX_REPLY_BYTES = 16 * 1024 * 1024;
  /** The weight a server with an agent-check starts at: the agent's {@code N%} is a share of it. */
  private static final int AGENT_INITIAL_WEIGHT = 100;

  private final Vertx vertx;
  private final SocketAddress address;
  private final HaproxyClientOptions options;
  private final NetClient client;

  private final Object slots = new Object();
  /** Guarded by {@code slots}: commands connected or connecting, and those waiting for one of them to end. */
  private int running;
  private final ArrayDeque<Runnable> waiting = new ArrayDeque<>();

  public HaproxyClient(Vertx vertx, SocketAddress address) {
    this(vertx, address, new HaproxyClientOptions());
  }

  public HaproxyClient(Vertx vertx, SocketAddress address, HaproxyClientOptions options) {
    this.vertx = vertx;
    this.address = address;
    this.options = new HaproxyClientOptions(options);
    this.client = vertx.createNetClient(new NetClientOptions()
        .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, this.options.getCommandTimeoutMs())));
  }

  /** The admin socket: its path, or {@code host:port}. */
  public String address() {
    return address.isDomainSocket() ? address.path() : address.host() + ":" + address.port();
  }

  /** Closes the connections' client; commands in flight fail. */
  public Future<Void> close() {
    return client.close();
  }

  @Override
  public Future<Added> addServer(String backend, String name, String ip, int port, CheckSettings check,
                                 AgentCheck agent) {
    String command = "add server " + backend + "/" + name + " " + ip + ":" + port + (check == null ? ""
        : " check inter " + check.interMillis() + "ms downinter " + check.downInterMillis() + "ms rise " + check.rise()
        + " fall " + check.fall())
        + (agent == null ? "" : " agent-check agent-port " + agent.port() + " agent-inter " + agent.interMillis()
        + "ms weight " + AGENT_INITIAL_WEIGHT);
    return run(command, () -> {
      server(backend, name);
      Arguments.serverIp(ip);
      Arguments.port("port", port);
      Arguments.check(check);
      if (agent != null) {
        Arguments.agent(agent);
      }
    }, Replies::added);
  }

  @Override
  public Future<Void> enableHealth(String backend, String name) {
    return onServer("enable health", backend, name);
  }

  @Override
  public Future<Void> enableAgent(String backend, String name) {
    return onServer("enable agent", backend, name);
  }

  @Override
  public Future<Void> disableAgent(String backend, String name) {
    return onServer("disable agent", backend, name);
  }

  @Override
  public Future<Void> setState(String backend, String name, AdminState state) {
    String command = "set server " + backend + "/" + name + " state "
        + (state == null ? "null" : state.name().toLowerCase(Locale.ROOT));
    return run(command, () -> {
      server(backend, name);
      Arguments.present("state", state);
    }, Replies::empty);
  }

  @Override
  public Future<Void> shutdownSessions(String backend, String name) {
    return onServer("shutdown sessions server", backend, name);
  }

  /** {@code <verb> <backend>/<name>}, answered by an empty line when it worked. */
  private Future<Void> onServer(String verb, String backend, String name) {
    return run(verb + " " + backend + "/" + name, () -> server(backend, name), Replies::empty);
  }

  @Override
  public Future<Deleted> deleteServer(String backend, String name) {
    return run("del server " + backend + "/" + name, () -> server(backend, name), Replies::deleted);
  }

  @Override
  public Future<List<ServerState>> servers(String backend) {
    String stateCommand = "show servers state " + backend;
    String statCommand = "show stat " + backend + " 4 -1";
    try {
      Arguments.name("backend", backend);
    } catch (IllegalArgumentException e) {
      return refused(stateCommand, e);
    }
    // Both answered before judging either, so an unknown backend always reports show servers state's answer.
    return sendBoth(stateCommand, statCommand, (stateReply, statReply) -> Replies.join(backend, stateCommand,
        stateReply, Replies.serversState(stateCommand, stateReply), statCommand, statReply,
        Replies.stat(statCommand, statReply)));
  }

  @Override
  public Future<Totals> totals(String frontend, String backend) {
    String frontendCommand = "show stat " + frontend + " 1 -1";
    String backendCommand = "show stat " + backend + " 2 -1";
    try {
      Arguments.name("frontend", frontend);
      Arguments.name("backend", backend);
    } catch (IllegalArgumentException e) {
      return refused(frontendCommand, e);
    }
    return sendBoth(frontendCommand, backendCommand, (frontendReply, backendReply) -> Replies.totals(frontendCommand,
        frontendReply, backendCommand, backendReply));
  }

  /** Two commands on two connections, both answered before either is judged; the first failure is the result. */
  private <T> Future<T> sendBoth(String first, String second, TwoReplies<T> parse) {
    Future<String> firstReply = send(first);
    Future<String> secondReply = send(second);
    return Future.join(firstReply, secondReply).transform(done -> {
      if (firstReply.failed() || secondReply.failed()) {
        return Future.failedFuture(firstReply.failed() ? firstReply.cause() : secondReply.cause());
      }
      try {
        return Future.succeededFuture(parse.apply(firstReply.result(), secondReply.result()));
      } catch (HaproxyException e) {
        return Future.failedFuture(e);
      }
    });
  }

  @FunctionalInterface
  private interface TwoReplies<T> {
    T apply(String first, String second) throws HaproxyException;
  }

  @Override
  public Future<Info> info() {
    return run("show info", () -> { }, Replies::info);
  }

  private static void server(String backend, String name) {
    Arguments.name("backend", backend);
    Arguments.name("server name", name);
  }

  private static <T> Future<T> refused(String command, IllegalArgumentException problem) {
    return Future.failedFuture(new HaproxyException(Arguments.printable(command), null,
        problem.getMessage() + "; nothing was sent"));
  }

  /** Checks the arguments (nothing is sent when one is bad), sends the command and reads the reply strictly. */
  private <T> Future<T> run(String command, Runnable checkArguments, BiFunction<String, String, T> parse) {
    try {
      checkArguments.run();
    } catch (IllegalArgumentException e) {
      return refused(command, e);
    }
    return send(command).compose(reply -> {
      try {
        return Future.succeededFuture(parse.apply(command, reply));
      } catch (HaproxyException e) {
        return Future.failedFuture(e);
      }
    });
  }

  /** The raw reply, once a connection slot is free. */
  private Future<String> send(String command) {
    Context caller = vertx.getOrCreateContext();
    Promise<String> reply = Promise.promise();
    Runnable start = () -> caller.runOnContext(v -> exchange(command).onComplete(done -> {
      release();
      reply.handle(done);
    }));
    boolean now;
    synchronized (slots) {
      now = running < options.getMaxConnections();
      if (now) {
        running++;
      } else {
        waiting.add(start);
      }
    }
    if (now) {
      start.run();
    }
    return reply.future();
  }

  /** Hands the slot to the next waiting command, if any. */
  private void release() {
    Runnable next;
    synchronized (slots) {
      next = waiting.poll();
      if (next == null) {
        running--;
      }
    }
    if (next != null) {
      next.run();
    }
  }

  /** One connection: connect, write the command, collect until HAProxy closes; closed on failure or timeout. */
  private Future<String> exchange(String command) {
    Promise<String> reply = Promise.promise();
    long timeoutMs = options.getCommandTimeoutMs();
    long timer = vertx.setTimer(timeoutMs, t -> reply.tryFail(new HaproxyException(command, null,
        "no complete reply from " + address() + " within " + timeoutMs + " ms (the command may still take effect)")));
    client.connect(address).onComplete(connected -> {
      if (connected.failed()) {
        reply.tryFail(new HaproxyException(command, null, "cannot connect to HAProxy's admin socket " + address()
            + " (" + connected.cause().getMessage() + "): is HAProxy running?", connected.cause()));
        return;
      }
      NetSocket socket = connected.result();
      if (reply.future().isComplete()) {
        socket.close();
        return;
      }
      reply.future().onFailure(e -> socket.close());
      Buffer received = Buffer.buffer();
      socket.handler(data -> {
        received.appendBuffer(data);
        if (received.length() > MAX_REPLY_BYTES) {
          reply.tryFail(new HaproxyException(command, null, "reply longer than " + MAX_REPLY_BYTES + " bytes"));
        }
      });
      socket.endHandler(v -> reply.tryComplete(received.toString(StandardCharsets.UTF_8)));
      socket.exceptionHandler(e -> reply.tryFail(new HaproxyException(command, null, "connection to " + address()
          + " failed: " + e.getMessage(), e)));
      socket.write(command + "\n");
    });
    return reply.future().onComplete(done -> vertx.cancelTimer(timer));
  }
}
