package io.fleetvote.coordinator.db;

import io.fleetvote.common.LogSafe;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.mysqlclient.MySQLAuthenticationPlugin;
import io.vertx.mysqlclient.MySQLConnectOptions;
import io.vertx.mysqlclient.MySQLConnection;
import io.vertx.mysqlclient.MySQLException;
import io.vertx.mysqlclient.SslMode;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The leader coordinator's own look at the pair's master, one of the two observers {@link MasterFailureDetector}
 * asks: a new connection and {@code SELECT 1}, both within {@link #TIMEOUT_MS} (a connection that comes or answers
 * later, from a stalled server, is closed then, not kept). It never fails: an empty problem means reached, otherwise
 * why not, in a few words. A server that answers with an error (access denied before the pair's accounts exist)
 * counts as reached: it is alive.
 */
final class MasterProbe {

  static final long TIMEOUT_MS = 1000;
  private static final int MAX_PROBLEM = 200;

  private final Vertx vertx;

  MasterProbe(Vertx vertx) {
    this.vertx = vertx;
  }

  /** Connects to {@code host:port} as {@code user} and runs {@code SELECT 1}: "" when it answered, else why not. */
  Future<String> probe(String host, int port, String user, String password) {
    MySQLConnectOptions options = new MySQLConnectOptions().setHost(host).setPort(port).setUser(user)
        .setPassword(password).setSslMode(SslMode.DISABLED)
        .setAuthenticationPlugin(MySQLAuthenticationPlugin.MYSQL_NATIVE_PASSWORD);
    AtomicBoolean over = new AtomicBoolean();
    Future<MySQLConnection> connecting = MySQLConnection.connect(vertx, options);
    connecting.onSuccess(connection -> {
      if (over.get()) {
        connection.close();
      }
    });
    return connecting.compose(connection -> connection.query("SELECT 1").execute()
            .eventually(() -> connection.close()))
        .timeout(TIMEOUT_MS, TimeUnit.MILLISECONDS)
        .map(rows -> "")
        .recover(e -> {
          over.set(true);
          connecting.onSuccess(MySQLConnection::close);
          if (e instanceof MySQLException) {
            // The server answered, with an error (an account not made yet, a privilege): it is there.
            return Future.succeededFuture("");
          }
          String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
          return Future.succeededFuture(LogSafe.printable(why, MAX_PROBLEM));
        });
  }
}
