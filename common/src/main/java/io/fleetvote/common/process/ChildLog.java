package io.fleetvote.common.process;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;

/** A child's log file: one marked line before each start, and the end of the last start's output. Blocking. */
final class ChildLog {

  private static final int TAIL_BYTES = 4096;
  private static final int TAIL_LINES = 6;
  /** Begins the line written before each start. */
  private static final String START_MARK = "---";

  private final Path file;

  ChildLog(Path file) {
    this.file = file;
  }

  Path file() {
    return file;
  }

  void markStart(List<String> command) throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Files.writeString(file, START_MARK + " " + Instant.now() + " Fleetvote starts: " + String.join(" ", command)
        + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }

  /** The last lines the last start wrote, joined on one line: where a child says why it stopped. */
  String tail() throws IOException {
    try (RandomAccessFile log = new RandomAccessFile(file.toFile(), "r")) {
      long from = Math.max(0, log.length() - TAIL_BYTES);
      byte[] bytes = new byte[(int) (log.length() - from)];
      log.seek(from);
      log.readFully(bytes);
      List<String> lines = Arrays.stream(new String(bytes, StandardCharsets.UTF_8).split("\n"))
          .map(String::strip).filter(line -> !line.isEmpty()).toList();
      int start = 0;
      for (int i = 0; i < lines.size(); i++) {
        if (lines.get(i).startsWith(START_MARK)) {
          start = i + 1;
        }
      }
      start = Math.max(start, lines.size() - TAIL_LINES);
      return start >= lines.size() ? "(nothing)" : String.join(" | ", lines.subList(start, lines.size()));
    }
  }
}
