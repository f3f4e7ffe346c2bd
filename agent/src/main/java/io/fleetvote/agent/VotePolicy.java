package io.fleetvote.agent;

import io.fleetvote.agent.load.LoadSample;
import io.fleetvote.common.msg.MessageException;
import io.fleetvote.common.msg.VoteKind;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * An app instance's vote from its own load samples, the way RightScale's alert-based voting worked, but on
 * samples seconds apart. Feed it every sample in the order taken; each {@link #record} returns the vote as of that
 * sample:
 * <ul>
 *   <li>{@link VoteKind#GROW} when the samples have been strictly above {@code growAbove} without a break from a
 *   first sample to this one at {@code t}, and {@code t - t0 >= growAfter}, where {@code t0} is the start of the
 *   interval the first sample covers: a sample is the average load since the previous one, so {@code t0} is the
 *   previous sample's time (the first sample's own time when there is no previous one in order, after a missing
 *   sample, or at the end of the warm-up). A sample at exactly {@code growAbove} is not above it. With
 *   {@code growAfter} 0 one sample above is enough.</li>
 *   <li>{@link VoteKind#SHRINK} likewise for samples strictly below {@code shrinkBelow} for {@code shrinkAfter}.</li>
 *   <li>{@link VoteKind#NONE} otherwise. Between the two thresholds (both included) a sample breaks both runs,
 *   so the vote is NONE there whatever came before: the band is the hysteresis that keeps an instance near a
 *   threshold from flapping between grow and shrink. {@code shrinkBelow < growAbove} is required.</li>
 * </ul>
 * A missing sample (the sensor could not read) breaks both runs: the vote is NONE until a new run is long enough.
 * So does a sample older than the previous one (the wall clock went back). During {@code warmup} after the agent
 * started the instance is not warm, its vote is NONE and its samples do not start a run: a JVM's start-up burst
 * never counts towards a grow vote (the HPA's CPU initialization period). Not thread-safe: one sampler feeds it.
 */
public final class VotePolicy {

  /**
   * The thresholds, in percent of the sensor's CPU, and the windows.
   *
   * @param growAbove   a sample above this is a grow sample
   * @param growAfter   how long samples must have been above {@code growAbove} to vote grow
   * @param shrinkBelow a sample below this is a shrink sample; must be below {@code growAbove}
   * @param shrinkAfter how long samples must have been below {@code shrinkBelow} to vote shrink
   * @param warmup      how long after the agent started it neither votes nor counts samples
   */
  public record Settings(double growAbove, Duration growAfter, double shrinkBelow, Duration shrinkAfter,
                         Duration warmup) {

    /** Throws {@link MessageException} naming {@code shrinkBelow} when it is not below {@code growAbove}. */
    public Settings {
      Objects.requireNonNull(growAfter, "growAfter");
      Objects.requireNonNull(shrinkAfter, "shrinkAfter");
      Objects.requireNonNull(warmup, "warmup");
      if (!(shrinkBelow < growAbove)) {
        throw new MessageException("shrinkBelow", shrinkBelow + " must be below growAbove (" + growAbove
            + "): between the two the vote is none");
      }
    }
  }

  /**
   * The vote as of one sample.
   *
   * @param vote   grow, shrink or none
   * @param warm   false during the warm-up, when the vote is always none and is not to be counted
   * @param sample the sample it was decided on
   */
  public record Decision(VoteKind vote, boolean warm, LoadSample sample) {
  }

  private final Settings settings;
  private final Instant warmAt;
  private final Clock clock;
  private Instant lastSample;
  /** The time of the previous sample that was read, in order and after the warm-up: where the next one's interval starts. */
  private Instant intervalStart;
  private Instant growingSince;
  private Instant shrinkingSince;

  /** A policy for an agent that started at {@code startedAt}; {@code clock} says when the warm-up is over. */
  public VotePolicy(Settings settings, Instant startedAt, Clock clock) {
    this.settings = Objects.requireNonNull(settings, "settings");
    this.warmAt = startedAt.plus(settings.warmup());
    this.clock = clock;
  }

  /** Takes the next sample into account and returns the vote as of that sample. */
  public Decision record(LoadSample sample) {
    boolean warm = !clock.instant().isBefore(warmAt);
    boolean inOrder = lastSample == null || !sample.when().isBefore(lastSample);
    lastSample = sample.when();
    if (!warm || !inOrder || sample.isMissing() || sample.when().isBefore(warmAt)) {
      growingSince = null;
      shrinkingSince = null;
      intervalStart = null;
      return new Decision(VoteKind.NONE, warm, sample);
    }
    Instant covers = intervalStart == null || intervalStart.isBefore(warmAt) ? sample.when() : intervalStart;
    intervalStart = sample.when();
    double load = sample.cpuPercent();
    growingSince = load > settings.growAbove() ? Objects.requireNonNullElse(growingSince, covers) : null;
    shrinkingSince = load < settings.shrinkBelow() ? Objects.requireNonNullElse(shrinkingSince, covers) : null;
    if (lasted(growingSince, sample.when(), settings.growAfter())) {
      return new Decision(VoteKind.GROW, true, sample);
    }
    if (lasted(shrinkingSince, sample.when(), settings.shrinkAfter())) {
      return new Decision(VoteKind.SHRINK, true, sample);
    }
    return new Decision(VoteKind.NONE, true, sample);
  }

  public Settings settings() {
    return settings;
  }

  private static boolean lasted(Instant since, Instant now, Duration window) {
    return since != null && Duration.between(since, now).compareTo(window) >= 0;
  }
}
