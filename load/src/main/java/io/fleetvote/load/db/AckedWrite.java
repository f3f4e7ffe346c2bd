package io.fleetvote.load.db;

import io.fleetvote.common.LogSafe;

/**
 * One line of the writer's {@code --acked} file: a write the server acknowledged, as {@code <seq> <acked at>}, the
 * sequence number and the acknowledgement's time in microseconds since the epoch (UTC), e.g.
 * {@code 1042 1765068325123456}. A checker reads the file back with {@link #parse} and looks for every row.
 */
public record AckedWrite(long seq, long ackedAtMicros) {

  public AckedWrite {
    if (seq < 1) {
      throw new IllegalArgumentException("sequence number " + seq + " is not positive");
    }
    if (ackedAtMicros < 0) {
      throw new IllegalArgumentException("ack time " + ackedAtMicros + " is before the epoch");
    }
  }

  /** The file's line, without its line break. */
  public String line() {
    return seq + " " + ackedAtMicros;
  }

  /** A line of the file; {@link IllegalArgumentException} quoting (at most 80 characters of) a bad one. */
  public static AckedWrite parse(String line) {
    String[] fields = line.strip().split(" ");
    if (fields.length != 2) {
      throw bad(line);
    }
    try {
      return new AckedWrite(Long.parseLong(fields[0]), Long.parseLong(fields[1]));
    } catch (NumberFormatException e) {
      throw bad(line);
    }
  }

  private static IllegalArgumentException bad(String line) {
    return new IllegalArgumentException("not an acked-write line (<seq> <acked at, microseconds since the epoch>): '"
        + LogSafe.printable(line, 80) + "'");
  }
}
