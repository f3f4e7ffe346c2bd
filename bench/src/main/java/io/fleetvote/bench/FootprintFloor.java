package io.fleetvote.bench;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;

import java.util.concurrent.CountDownLatch;

/**
 * The floors under the agent's footprint, run by {@code bench/agent-footprint} with the agent's own JVM flags and
 * class path: {@code jvm} is the JVM alone (it sleeps); {@code vertx HOST PORT} is the least an agent on this stack
 * runs: one Vert.x (the agent's two event loops and two workers), an HTTP server and one TLS connection to the
 * coordinator's agent gateway at HOST:PORT, made again whenever the gateway closes it (it does, to a connection
 * that never attests); no metrics, no JSON records, no roles.
 */
public final class FootprintFloor {

  private FootprintFloor() {
  }

  public static void main(String[] args) throws InterruptedException {
    if (args.length == 1 && args[0].equals("jvm")) {
      new CountDownLatch(1).await();
    }
    if (args.length != 3 || !args[0].equals("vertx")) {
      System.err.println("usage: FootprintFloor jvm | vertx HOST PORT");
      System.exit(2);
    }
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2).setWorkerPoolSize(2));
    vertx.createHttpServer().requestHandler(request -> request.response().end("ok")).listen(0, "127.0.0.1").await();
    // Trusting any certificate: what is measured is the TLS client's code and state, not who it talks to.
    NetClient client = vertx.createNetClient(new NetClientOptions().setSsl(true).setTrustAll(true)
        .setHostnameVerificationAlgorithm("").setConnectTimeout(2000));
    connect(vertx, client, args[1], Integer.parseInt(args[2]));
    new CountDownLatch(1).await();
  }

  private static void connect(Vertx vertx, NetClient client, String host, int port) {
    client.connect(port, host).onComplete(connected -> {
      if (connected.succeeded()) {
        connected.result().closeHandler(x -> connect(vertx, client, host, port));
      } else {
        vertx.setTimer(1000, t -> connect(vertx, client, host, port));
      }
    });
  }
}
