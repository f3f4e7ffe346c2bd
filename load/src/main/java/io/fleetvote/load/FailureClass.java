package io.fleetvote.load;

import io.netty.channel.ConnectTimeoutException;
import io.vertx.core.http.HttpClosedException;

import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.nio.channels.ClosedChannelException;
import java.util.Locale;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * Why a request failed, as load reports count it:
 * <ul>
 *   <li>{@code refused}: the connection was refused (nothing listening);</li>
 *   <li>{@code reset}: the connection was reset or closed by the peer before a full answer;</li>
 *   <li>{@code timeout}: no answer within the timeout, the connect timeout included;</li>
 *   <li>{@code http-<code>}: an answer whose status is not 2xx, e.g. {@code http-503};</li>
 *   <li>{@code other-<Exception>}: anything else, named by the exception's simple class name
 *       (e.g. {@code other-UnknownHostException}, or {@code other-IllegalStateException} for a request the generator
 *       could not send because its own client was closed).</li>
 * </ul>
 * The exception's type decides; its message only when the type says nothing (an {@link IOException} from a native
 * transport saying "Connection reset by peer"). A wrapped exception is classified by the first cause that decides.
 */
final class FailureClass {

  static final String REFUSED = "refused";
  static final String RESET = "reset";
  static final String TIMEOUT = "timeout";
  static final String OTHER = "other";

  private static final int MAX_CAUSES = 8;
  private static final int MAX_NAME = 60;

  private FailureClass() {
  }

  static boolean isSuccess(int status) {
    return status >= 200 && status < 300;
  }

  /** The class of an answer whose status is not 2xx. */
  static String ofStatus(int status) {
    return "http-" + status;
  }

  static String of(Throwable failure) {
    String known = firstCause(failure, FailureClass::byType);
    if (known == null) {
      known = firstCause(failure, FailureClass::byMessage);
    }
    return known != null ? known : OTHER + "-" + logSafeName(failure.getClass());
  }

  private static String firstCause(Throwable failure, Function<Throwable, String> classify) {
    Throwable cause = failure;
    for (int depth = 0; cause != null && depth < MAX_CAUSES; depth++, cause = cause.getCause()) {
      String known = classify.apply(cause);
      if (known != null) {
        return known;
      }
    }
    return null;
  }

  private static String byType(Throwable failure) {
    // Netty's ConnectTimeoutException is a ConnectException: the timeout must be recognised first.
    if (failure instanceof TimeoutException || failure instanceof ConnectTimeoutException
        || failure instanceof SocketTimeoutException) {
      return TIMEOUT;
    }
    if (failure instanceof ConnectException) {
      return mentions(failure, "timed out") ? TIMEOUT : REFUSED;
    }
    if (failure instanceof HttpClosedException || failure instanceof ClosedChannelException) {
      return RESET;
    }
    return null;
  }

  private static String byMessage(Throwable failure) {
    if (mentions(failure, "connection reset") || mentions(failure, "connection was closed")
        || mentions(failure, "broken pipe")) {
      return RESET;
    }
    if (mentions(failure, "connection refused")) {
      return REFUSED;
    }
    return null;
  }

  private static boolean mentions(Throwable failure, String words) {
    return failure.getMessage() != null && failure.getMessage().toLowerCase(Locale.ROOT).contains(words);
  }

  /** The simple name (an anonymous class has none: its binary name) in letters, digits and underscores only. */
  private static String logSafeName(Class<?> type) {
    String name = type.getSimpleName().isEmpty() ? type.getName().substring(type.getName().lastIndexOf('.') + 1)
        : type.getSimpleName();
    String safe = name.replaceAll("[^A-Za-z0-9_]", "_");
    return safe.length() <= MAX_NAME ? safe : safe.substring(0, MAX_NAME);
  }
}
