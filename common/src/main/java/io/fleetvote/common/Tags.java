package io.fleetvote.common;

/** The EC2 tag keys through which the cloud is the source of truth for what Fleetvote runs. */
public final class Tags {

  private Tags() {
  }

  /** Which Fleetvote deployment (one cluster, one set of coordinators) an instance, volume or snapshot belongs to. */
  public static final String DEPLOYMENT = "fleetvote:deployment";

  /** The group (RightScale's server array) an instance belongs to. */
  public static final String GROUP = "fleetvote:group";

  /** The agent roles of an instance, comma-separated: {@code app}, {@code lb}, {@code db}. */
  public static final String ROLE = "fleetvote:role";

  /**
   * A DB pair's slot ({@code 1} or {@code 2}) on an instance and on the data volume that belongs to it: the volume of
   * slot N is attached to the instance of slot N. Which slot is master is the coordinators' topology, not a tag.
   */
  public static final String DB_SLOT = "fleetvote:db-slot";

  /**
   * The generation of the slot's instance or volume it belongs to: after a failover the old master's instance and
   * volume keep their slot tag but no longer belong to the slot, whose next generation is built anew.
   */
  public static final String DB_GENERATION = "fleetvote:db-generation";
}
