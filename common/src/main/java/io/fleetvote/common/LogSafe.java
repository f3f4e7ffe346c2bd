package io.fleetvote.common;

/**
 * Text from outside (a message, a reply, a request) made safe for one log line or error message: every character
 * outside printable ASCII becomes {@code ?} (no forged log lines, no terminal escapes), and long text is cut.
 */
public final class LogSafe {

  /** What {@link #printable(String)} keeps. */
  public static final int DEFAULT_MAX = 200;

  private LogSafe() {
  }

  /** At most {@link #DEFAULT_MAX} printable characters, then {@code ...}; null reads {@code null}. */
  public static String printable(String text) {
    return printable(text, DEFAULT_MAX);
  }

  /** At most {@code max} printable characters, then {@code ...}; null reads {@code null}. */
  public static String printable(String text, int max) {
    if (text == null) {
      return "null";
    }
    String line = text.replaceAll("[^\\x20-\\x7e]", "?");
    return line.length() <= max ? line : line.substring(0, max) + "...";
  }
}
