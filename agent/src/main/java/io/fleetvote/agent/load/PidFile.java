package io.fleetvote.agent.load;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** A pid file whose first token is the pid (the sandbox writes {@code "pid startMillis"}), read for every sample. */
final class PidFile {

  /** Why the file names no pid, in words for a missing sample. */
  static final class Unreadable extends Exception {

    private static final long serialVersionUID = 1L;

    private Unreadable(String problem) {
      super(problem, null, false, false);
    }
  }

  private final Path file;

  PidFile(Path file) {
    this.file = file;
  }

  int read() throws Unreadable {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8).trim();
    } catch (IOException e) {
      throw new Unreadable("pid file " + file + " cannot be read (" + e + ")");
    }
    int end = 0;
    while (end < text.length() && !Character.isWhitespace(text.charAt(end))) {
      end++;
    }
    try {
      return Integer.parseInt(text.substring(0, end));
    } catch (NumberFormatException e) {
      throw new Unreadable("pid file " + file + " does not start with a pid (" + e.getMessage() + ")");
    }
  }

  /** The problem of a pid whose process is gone. */
  String notRunning(int pid) {
    return "process " + pid + " of pid file " + file + " is not running";
  }

  @Override
  public String toString() {
    return file.toString();
  }
}
