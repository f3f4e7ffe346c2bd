package io.fleetvote.bench;

import io.fleetvote.load.db.AckedWrite;
import io.fleetvote.load.db.DbWriter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A writer's acknowledged writes in the order they came (on its one event loop, so their times never go back), for
 * the bench's thread: when the first one after a moment came, and the longest silence between two of them, which is
 * how long writes were blocked as the application saw it.
 */
final class AckedWrites implements DbWriter.Listener {

  private final List<Long> seqs = new ArrayList<>();
  private final List<Long> times = new ArrayList<>();

  /** The longest silence between two acknowledgements, {@link System#nanoTime()} of the one before and after. */
  record Gap(long fromNanos, long toNanos) {

    long millis() {
      return TimeUnit.NANOSECONDS.toMillis(toNanos - fromNanos);
    }
  }

  @Override
  public synchronized void acked(long seq, long ackedAtNanos) {
    seqs.add(seq);
    times.add(ackedAtNanos);
  }

  /** When the first write acknowledged after {@code nanos} was; empty while there is none. */
  synchronized Optional<Long> firstAfter(long nanos) {
    int i = after(nanos);
    return i < times.size() ? Optional.of(times.get(i)) : Optional.empty();
  }

  /** From the first acknowledgement to the last, in nanoseconds (0 while there is none). */
  synchronized long span() {
    return times.isEmpty() ? 0 : times.get(times.size() - 1) - times.get(0);
  }

  /** The last acknowledgement's time (0 while there is none). */
  synchronized long last() {
    return times.isEmpty() ? 0 : times.get(times.size() - 1);
  }

  synchronized Set<Long> seqs() {
    return new HashSet<>(seqs);
  }

  /** The writes acknowledged after {@code fromNanos} and up to {@code toNanos}. */
  synchronized Set<Long> seqsBetween(long fromNanos, long toNanos) {
    Set<Long> between = new HashSet<>();
    for (int i = after(fromNanos); i < times.size() && times.get(i) <= toNanos; i++) {
      between.add(seqs.get(i));
    }
    return between;
  }

  /**
   * The longest silence between two consecutive acknowledgements that overlaps {@code fromNanos..toNanos} (the one
   * running at {@code fromNanos} included); empty unless a write was acknowledged before and one after it.
   */
  synchronized Optional<Gap> longestGap(long fromNanos, long toNanos) {
    Gap longest = null;
    for (int i = Math.max(1, after(fromNanos)); i < times.size() && times.get(i - 1) <= toNanos; i++) {
      long gap = times.get(i) - times.get(i - 1);
      if (longest == null || gap > longest.toNanos() - longest.fromNanos()) {
        longest = new Gap(times.get(i - 1), times.get(i));
      }
    }
    return Optional.ofNullable(longest);
  }

  /**
   * The sequence numbers of the writer's acked file, as a checker reads it ({@link AckedWrite#parse}), once the writer
   * is done; throws unless they are exactly the writes this listener saw.
   */
  Set<Long> sameAsFile(Path ackedFile) throws IOException {
    Set<Long> inFile;
    try (Stream<String> lines = Files.lines(ackedFile)) {
      inFile = lines.filter(l -> !l.isBlank()).map(l -> AckedWrite.parse(l).seq()).collect(Collectors.toSet());
    }
    Set<Long> seen = seqs();
    if (!inFile.equals(seen)) {
      throw new IllegalStateException("the acked file " + ackedFile + " holds " + inFile.size() + " writes, the "
          + "writer's listener saw " + seen.size());
    }
    return inFile;
  }

  /** The index of the first acknowledgement after {@code nanos} (the size when there is none). */
  private int after(long nanos) {
    int i = Collections.binarySearch(times, nanos);
    if (i < 0) {
      return -i - 1;
    }
    while (i < times.size() && times.get(i) <= nanos) {
      i++;
    }
    return i;
  }
}
