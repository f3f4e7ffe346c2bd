package io.fleetvote.agent.lb;

import io.fleetvote.common.Ids;

import java.util.regex.Pattern;

/**
 * The shapes of what Fleetvote writes into HAProxy commands and configuration. Anything else is refused before use:
 * HAProxy's CLI splits on spaces and {@code ;}, and it accepts a hostname as a server address but never resolves it.
 */
final class Arguments {

  /** Backend, frontend and server names; HAProxy itself allows these characters and no others. */
  static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.:-]{1,64}");
  static final int MIN_INTER_MS = 100;
  static final int MAX_INTER_MS = 60_000;
  static final int MAX_RISE_FALL = 100;

  private Arguments() {
  }

  static String name(String what, String value) {
    if (value == null || !NAME.matcher(value).matches()) {
      throw new IllegalArgumentException(what + " '" + printable(value) + "' is not a name of 1 to 64 of "
          + "A-Z a-z 0-9 _ . : -");
    }
    return value;
  }

  /** A dotted IPv4 literal a server can be reached at (not 0.0.0.0, which HAProxy reads as "the client's own"). */
  static String serverIp(String value) {
    if (value == null || !Ids.IPV4.matcher(value).matches() || value.equals("0.0.0.0")) {
      throw new IllegalArgumentException("ip '" + printable(value) + "' is not a dotted IPv4 address of a server "
          + "(HAProxy accepts a hostname but never resolves it)");
    }
    return value;
  }

  static int port(String what, int value) {
    if (value < 1 || value > 65535) {
      throw new IllegalArgumentException(what + " " + value + " is not within 1..65535");
    }
    return value;
  }

  static Haproxy.CheckSettings check(Haproxy.CheckSettings check) {
    if (check == null) {
      throw new IllegalArgumentException("check settings are missing");
    }
    within("check inter (ms)", check.interMillis(), MIN_INTER_MS, MAX_INTER_MS);
    within("check downinter (ms)", check.downInterMillis(), MIN_INTER_MS, MAX_INTER_MS);
    within("check rise", check.rise(), 1, MAX_RISE_FALL);
    within("check fall", check.fall(), 1, MAX_RISE_FALL);
    return check;
  }

  static Haproxy.AgentCheck agent(Haproxy.AgentCheck agent) {
    port("agent port", agent.port());
    within("agent inter (ms)", agent.interMillis(), MIN_INTER_MS, MAX_INTER_MS);
    return agent;
  }

  static long within(String what, long value, long min, long max) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(what + " " + value + " is not within " + min + ".." + max);
    }
    return value;
  }

  static <T> T present(String what, T value) {
    if (value == null) {
      throw new IllegalArgumentException(what + " is missing");
    }
    return value;
  }

  /** The text with control characters spelled out, so that a bad argument reads on one line of a log. */
  static String printable(String text) {
    if (text == null) {
      return "null";
    }
    StringBuilder out = new StringBuilder(text.length());
    for (char c : text.toCharArray()) {
      if (c == '\n') {
        out.append("\\n");
      } else if (c == '\r') {
        out.append("\\r");
      } else if (c < 0x20 || c == 0x7f) {
        out.append(String.format("\\x%02x", (int) c));
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }
}
