package io.fleetvote.common.process;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** What a pid file of the sandbox holds: {@code "pid startedAtMillis"}, which together name one process. */
public record PidRecord(long pid, long startedAtMillis) {

  /** The record in {@code file}, if the file is there and readable. */
  public static Optional<PidRecord> read(Path file) {
    try {
      String[] parts = Files.readString(file, StandardCharsets.UTF_8).trim().split(" ");
      return Optional.of(new PidRecord(Long.parseLong(parts[0]), Long.parseLong(parts[1])));
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /** Writes the record to {@code file}. */
  public void write(Path file) throws IOException {
    Files.writeString(file, pid + " " + startedAtMillis + "\n", StandardCharsets.UTF_8);
  }

  /** The process, while it lives ({@link ProcessProbe#find}). */
  public Optional<ProcessHandle> live() {
    return ProcessProbe.find(pid, startedAtMillis);
  }
}
