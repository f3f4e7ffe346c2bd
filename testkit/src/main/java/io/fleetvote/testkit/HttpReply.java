package io.fleetvote.testkit;

import io.vertx.core.json.JsonObject;

import java.net.http.HttpHeaders;
import java.util.List;
import java.util.Optional;

/**
 * One HTTP answer as a test looks at it: the request it answers ({@code GET http://...}, for messages), the status,
 * the headers and the body.
 */
public record HttpReply(String request, int status, HttpHeaders headers, String body) {

  /** The body as a JSON object. */
  public JsonObject json() {
    return new JsonObject(body);
  }

  /** The {@code error} of a JSON error body ({@code {"error": "..."}}). */
  public String error() {
    return json().getString("error");
  }

  /** This reply when its status is {@code expected}; else an {@link Unexpected} naming the request and the body. */
  public HttpReply expect(int expected) {
    if (status != expected) {
      throw new Unexpected(this, expected);
    }
    return this;
  }

  /** The first value of a header, if there is one. */
  public Optional<String> header(String name) {
    return headers.firstValue(name);
  }

  /** Every {@code Set-Cookie} header, whole (attributes included). */
  public List<String> setCookies() {
    return headers.allValues("set-cookie");
  }

  /** The value a {@code Set-Cookie} header gives the cookie {@code name}, without its attributes. */
  public Optional<String> cookie(String name) {
    return setCookies().stream().filter(c -> c.startsWith(name + "=")).findFirst()
        .map(c -> c.substring(name.length() + 1, c.indexOf(';') < 0 ? c.length() : c.indexOf(';')));
  }

  /** A status other than the one the caller needed. */
  public static final class Unexpected extends RuntimeException {

    private static final long serialVersionUID = 1L;
    private final transient HttpReply reply;

    Unexpected(HttpReply reply, int expected) {
      super(reply.request + " answered " + reply.status + " (not " + expected + "): " + reply.body);
      this.reply = reply;
    }

    public HttpReply reply() {
      return reply;
    }
  }
}
