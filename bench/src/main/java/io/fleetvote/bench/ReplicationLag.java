package io.fleetvote.bench;

import io.fleetvote.load.db.DbWriter;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Each acknowledged row's replication lag: from its acknowledgement (the writer's {@link DbWriter.Listener}) until a
 * read on the replica first returned it ({@link #visible}). The reads ask for the rows from {@link #floor()} on, the
 * lowest acknowledged row not yet seen, so a row committed out of sequence order is found too. A row seen before its
 * acknowledgement came back (the replica applied it while the master's answer was on its way) lags 0. Thread-safe:
 * the writer and the reads report from their own event loops.
 */
final class ReplicationLag implements DbWriter.Listener {

  private long firstSeq = -1;
  private long highestMeasured;
  /** Acknowledged, not seen yet: seq to its ack time (nanoTime). */
  private final TreeMap<Long, Long> unseen = new TreeMap<>();
  /** Seen, not acknowledged yet: seq to when it was first seen. */
  private final Map<Long, Long> seenFirst = new HashMap<>();
  /** By seq - firstSeq: rows whose lag is counted. */
  private final BitSet measured = new BitSet();
  private final List<Long> lagNanos = new ArrayList<>();
  private int beforeAck;

  @Override
  public synchronized void started(long first) {
    firstSeq = first;
    highestMeasured = first - 1;
  }

  @Override
  public synchronized void acked(long seq, long ackedAtNanos) {
    if (seenFirst.remove(seq) != null) {
      beforeAck++;
      measure(seq, 0);
    } else {
      unseen.put(seq, ackedAtNanos);
    }
  }

  /** Where the next read starts: the lowest acknowledged row not seen, else past every row measured. */
  synchronized long floor() {
    if (firstSeq < 0) {
      return Long.MAX_VALUE;
    }
    return unseen.isEmpty() ? highestMeasured + 1 : unseen.firstKey();
  }

  /** A read on the replica, answered at {@code atNanos}, returned these rows. */
  synchronized void visible(List<Long> seqs, long atNanos) {
    for (long seq : seqs) {
      if (seq < firstSeq || measured.get((int) (seq - firstSeq))) {
        continue;
      }
      Long ackedAt = unseen.remove(seq);
      if (ackedAt == null) {
        seenFirst.putIfAbsent(seq, atNanos);
      } else {
        measure(seq, Math.max(0, atNanos - ackedAt));
      }
    }
  }

  /** Acknowledged rows no read has returned yet. */
  synchronized int notSeen() {
    return unseen.size();
  }

  /** Rows seen before their acknowledgement (counted with lag 0). */
  synchronized int seenBeforeAck() {
    return beforeAck;
  }

  /** Every measured row's lag in microseconds, sorted. */
  synchronized long[] lagsMicros() {
    return lagNanos.stream().mapToLong(TimeUnit.NANOSECONDS::toMicros).sorted().toArray();
  }

  private void measure(long seq, long lag) {
    measured.set((int) (seq - firstSeq));
    highestMeasured = Math.max(highestMeasured, seq);
    lagNanos.add(lag);
  }
}
