package io.fleetvote.common.msg;

import java.util.Map;
import java.util.TreeMap;

/**
 * Arithmetic on MariaDB GTID lists ({@code domain-server-seq,...}, as {@code @@gtid_binlog_pos} and its kin write
 * them): what a failover lost, what an old master holds that the new one never had.
 */
public final class Gtids {

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

  /** Each domain's sequence number in a GTID list; throws {@link MessageException} for one that is not a list. */
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
      out.merge(Long.parseLong(parts[0]), Long.parseLong(parts[2]), Math::max);
    }
    return out;
  }
}
