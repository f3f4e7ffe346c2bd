package io.fleetvote.common.msg;

/** An instance's vote on the size of its group (RightScale's {@code rs_vote:<array>=grow|shrink|none}). */
public enum VoteKind {
  /** Load has stayed above {@code growAbove} for {@code growAfter}. */
  GROW,
  /** Load has stayed below {@code shrinkBelow} for {@code shrinkAfter}. */
  SHRINK,
  /** Neither: load is between the thresholds, or has not stayed beyond one long enough. */
  NONE
}
