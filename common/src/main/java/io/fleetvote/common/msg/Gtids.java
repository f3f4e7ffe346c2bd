package io.fleetvote.common.msg;

import java.util.Map;
import java.util.TreeMap;

/**
 * Arithmetic on MariaDB GTID lists ({@code domain-server-seq,...}, as {@code @@gtid_binlog_pos} and its kin write
 * them): what a failover lost, what an old master holds that the new one never had.
 */
public final class Gtids {

  /** The largest domain or server id: both are 32-bit unsigned in MariaDB. */
  private static final long MAX_ID = 4_294_967_295L;

  private Gtids() {
  }

  /**
   * Transactions in {@code has} that {@code upTo} does not have: per replication domain, the sequence number in
   * {@code has} less the one in {@code upTo} (none when {@code upTo} is ahead). An empty list has nothing; a list
   * that is not one throws {@link MessageException}.
   */
  public static long past(String has, String upTo) {
    Map<Long, Long> had = sequences(has);
    Map<Long, Long> got = sequences(upTo);
    return had.entrySet().stream().mapToLong(e -> Math.max(0, e.getValue() - got.getOrDefault(e.getKey(), 0L))).sum();
  }

  /**
   * Transactions in {@code has} past {@code upTo} in the domains both list (a domain only one lists is not compared).
   */
  public static long pastInShared(String has, String upTo) {
    Map<Long, Long> had = sequences(has);
    Map<Long, Long> got = sequences(upTo);
    return had.entrySet().stream().filter(e -> got.containsKey(e.getKey()))
        .mapToLong(e -> Math.max(0, e.getValue() - got.get(e.getKey()))).sum();
  }

  /**
   * Each domain's sequence number in a GTID list; throws {@link MessageException} for one that is not a list, or
   * that MariaDB cannot have written: a domain or server id past 2^32 - 1, a sequence number past 2^63 - 1 (what
   * Fleetvote compares), a domain listed twice.
   */
  public static Map<Long, Long> sequences(String gtids) {
    Map<Long, Long> out = new TreeMap<>();
    if (gtids == null || gtids.isEmpty()) {
      return out;
    }
    if (!DbStatus.GTID_LIST.matcher(gtids).matches()) {
      throw new MessageException("gtid", "is not a GTID list: " + gtids);
    }
    for (String gtid : gtids.split(",")) {
      String[] parts = gtid.trim().split("-");
      long domain = Long.parseLong(parts[0]);
      if (domain > MAX_ID || Long.parseLong(parts[1]) > MAX_ID) {
        throw new MessageException("gtid", "has a domain or server id past " + MAX_ID + ": " + gtid);
      }
      long sequence;
      try {
        sequence = Long.parseLong(parts[2]);
      } catch (NumberFormatException e) {
        throw new MessageException("gtid", "has a sequence number past " + Long.MAX_VALUE + ": " + gtid);
      }
      if (out.put(domain, sequence) != null) {
        throw new MessageException("gtid", "lists domain " + domain + " twice: " + gtids);
      }
    }
    return out;
  }
}
