package io.fleetvote.coordinator.scaling;

import io.fleetvote.common.msg.Vote;
import io.fleetvote.coordinator.fleet.FleetInstance;
import io.fleetvote.coordinator.scaling.Decision.Counts;
import io.fleetvote.coordinator.scaling.Decision.Outcome;
import io.fleetvote.coordinator.scaling.Decision.Rule;

import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The votes of one group and what they decide, the RightScale way: each tick, the eligible voters are the group's
 * live, warmed-up instances; the group grows when grow votes / eligible reach {@code decisionThreshold} (with at least
 * {@code minVoters} eligible), shrinks likewise with {@code shrinkThreshold}, outside {@code calmTime} after the last
 * resize and within {@code min}/{@code max}. Instances launched and not yet voting count as pending capacity, so one
 * breach is never acted on twice. Below {@code min} or above {@code max} the bounds act without votes.
 *
 * <p>Pure logic: time comes from the {@link Clock}; one verticle owns an instance, so it is not thread-safe.
 */
public final class VoteTally {

  /** What {@link #record} did with a vote; a refusal carries the reason it is counted and logged under. */
  public enum Admission {
    ACCEPTED(null),
    /** The instance is not one of the group's instances as the cloud describes them. */
    UNKNOWN_INSTANCE("unknown-instance"),
    /** The cloud says the instance belongs to another group than the vote claims. */
    WRONG_GROUP("wrong-group"),
    /** Sent further ahead of the coordinator's clock than the tolerance. */
    FROM_THE_FUTURE("future"),
    /** Older than the vote already held for the instance. */
    STALE("stale");

    private final String reason;

    Admission(String reason) {
      this.reason = reason;
    }

    public String reason() {
      return reason;
    }
  }

  private record Ballot(Vote vote, long receivedAt) {
  }

  private GroupConfig config;
  /** Instances an operator protected from scale-in, on top of those that protect themselves. */
  private Set<String> protectedByOperator = Set.of();
  private final Clock clock;
  private final long futureToleranceMs;
  private final Map<String, Ballot> ballots = new HashMap<>();
  /**
   * When each instance first voted warm (it no longer counts as pending capacity): the moment its capacity came into
   * service, from which calm time counts as it does from a resize.
   */
  private final Map<String, Long> warmedAt = new HashMap<>();

  public VoteTally(GroupConfig config, Clock clock, long futureToleranceMs) {
    this.config = config;
    this.clock = clock;
    this.futureToleranceMs = futureToleranceMs;
  }

  public GroupConfig config() {
    return config;
  }

  /** Takes an operator's bounds (the same group, other min and max). */
  public void reconfigure(GroupConfig changed) {
    if (!changed.name().equals(config.name())) {
      throw new IllegalArgumentException("group " + changed.name() + " is not " + config.name());
    }
    config = changed;
  }

  public void protectedByOperator(Set<String> instanceIds) {
    protectedByOperator = Set.copyOf(instanceIds);
  }

  /**
   * Up to {@code count} instances to terminate, as a shrink would choose them (unhealthy ones first, then silent ones,
   * then the least busy; never a protected one).
   */
  public List<String> victimsFor(GroupFleet fleet, int count) {
    long now = clock.millis();
    List<Candidate> silentOnes = new ArrayList<>();
    List<Candidate> voters = new ArrayList<>();
    for (FleetInstance instance : fleet.instances()) {
      if (!fleet.counts(instance)) {
        continue;
      }
      Ballot ballot = ballots.get(instance.instanceId());
      if (ballot == null || expired(ballot, now) || !ballot.vote().warm()) {
        silentOnes.add(candidate(fleet, instance, Double.NEGATIVE_INFINITY, false));
      } else {
        voters.add(candidate(fleet, instance, ballot.vote().load(), ballot.vote().protectedFromScaleIn()));
      }
    }
    return victims(silentOnes, voters, count);
  }

  private Candidate candidate(GroupFleet fleet, FleetInstance instance, double load, boolean protectsItself) {
    return new Candidate(instance, load, protectsItself || protectedByOperator.contains(instance.instanceId()),
        fleet.unhealthy().contains(instance.instanceId()));
  }

  /**
   * Takes a vote, if it comes from one of the group's instances (as the cloud describes them), is not sent from the
   * future and is not older than the one held.
   *
   * @param groupOfInstance the group the cloud gives the voter (empty when the cloud does not know it)
   */
  public Admission record(Vote vote, Optional<String> groupOfInstance) {
    long now = clock.millis();
    if (groupOfInstance.isEmpty()) {
      return Admission.UNKNOWN_INSTANCE;
    }
    if (!groupOfInstance.get().equals(config.name()) || !vote.group().equals(config.name())) {
      return Admission.WRONG_GROUP;
    }
    if (vote.sentAt() > now + futureToleranceMs) {
      return Admission.FROM_THE_FUTURE;
    }
    Ballot held = ballots.get(vote.instanceId());
    if (held != null && vote.sentAt() < held.vote().sentAt()) {
      return Admission.STALE;
    }
    ballots.put(vote.instanceId(), new Ballot(vote, now));
    if (vote.warm()) {
      warmedAt.putIfAbsent(vote.instanceId(), now);
    }
    return Admission.ACCEPTED;
  }

  /** The live vote of an instance (empty when it has none or it has expired). */
  public Optional<Vote> liveVote(String instanceId) {
    Ballot ballot = ballots.get(instanceId);
    return ballot == null || expired(ballot, clock.millis()) ? Optional.empty() : Optional.of(ballot.vote());
  }

  /** The last vote held for each instance, live or expired (expired votes are dropped at the next decision). */
  public Map<String, Vote> heldVotes() {
    Map<String, Vote> held = new HashMap<>();
    ballots.forEach((id, ballot) -> held.put(id, ballot.vote()));
    return held;
  }

  /** True when the vote held for {@code instanceId} has expired (no renewal within its lease). */
  public boolean voteExpired(String instanceId) {
    Ballot ballot = ballots.get(instanceId);
    return ballot != null && expired(ballot, clock.millis());
  }

  /**
   * Decides the tick. Empty when nothing could act: no threshold reached and the group within its bounds. Forgets
   * the votes of instances that are no longer in the group.
   */
  public Optional<Decision> decide(GroupFleet fleet) {
    long now = clock.millis();
    Map<String, FleetInstance> present = new HashMap<>();
    for (FleetInstance instance : fleet.instances()) {
      if (fleet.counts(instance)) {
        present.put(instance.instanceId(), instance);
      }
    }
    ballots.keySet().retainAll(present.keySet());
    warmedAt.keySet().retainAll(present.keySet());

    int grow = 0;
    int shrink = 0;
    int none = 0;
    int silent = 0;
    int warming = 0;
    int pending = fleet.launchesInFlight();
    List<Candidate> candidates = new ArrayList<>();
    List<Candidate> silentOnes = new ArrayList<>();
    for (FleetInstance instance : present.values()) {
      boolean booting = !warmedAt.containsKey(instance.instanceId())
          && now - instance.launchTime().toEpochMilli() < config.bootTimeoutMs();
      if (booting) {
        pending++;
      }
      Ballot ballot = ballots.get(instance.instanceId());
      if (ballot == null || expired(ballot, now)) {
        silent++;
        if (!booting) {
          silentOnes.add(candidate(fleet, instance, Double.NEGATIVE_INFINITY, false));
        }
        continue;
      }
      Vote vote = ballot.vote();
      if (!vote.warm()) {
        warming++;
        continue;
      }
      switch (vote.vote()) {
        case GROW -> grow++;
        case SHRINK -> shrink++;
        default -> none++;
      }
      candidates.add(candidate(fleet, instance, vote.load(), vote.protectedFromScaleIn()));
    }
    int eligible = grow + shrink + none;
    double growShare = eligible == 0 ? 0 : (double) grow / eligible;
    double shrinkShare = eligible == 0 ? 0 : (double) shrink / eligible;
    Counts counts = new Counts(grow, shrink, none, silent, warming, eligible, growShare, shrinkShare);
    int size = present.size() + fleet.launchesInFlight();
    Facts facts = new Facts(now, counts, size, pending);

    if (size < config.min()) {
      int change = config.min() - size;
      return Optional.of(facts.decide(Outcome.GROW, Rule.BELOW_MIN, change, List.of(),
          String.format("%d instance(s) below min %d: launch %d", change, config.min(), change)));
    }
    // Above max by instances that are there, not by launches under way: those are never a reason to end one that runs.
    if (present.size() > config.max()) {
      int excess = present.size() - config.max();
      List<String> victims = victims(silentOnes, candidates, excess);
      if (victims.isEmpty()) {
        return Optional.of(facts.hold(Rule.PROTECTED, String.format(
            "%d instance(s) above max %d, but every instance that could go protects itself or is still booting",
            excess, config.max())));
      }
      return Optional.of(facts.decide(Outcome.SHRINK, Rule.ABOVE_MAX, -victims.size(), victims,
          String.format("%d instance(s) above max %d: terminate %s", excess, config.max(), victims)));
    }
    boolean growWanted = grow > 0 && growShare >= config.decisionThreshold();
    boolean shrinkWanted = !growWanted && shrink > 0 && shrinkShare >= config.shrinkThreshold();
    if (!growWanted && !shrinkWanted) {
      return Optional.empty();
    }
    String direction = growWanted ? "grow" : "shrink";
    String votes = growWanted
        ? String.format("%d of %d eligible voted grow (%.0f%% >= %.0f%%)", grow, eligible, growShare * 100,
            config.decisionThreshold() * 100)
        : String.format("%d of %d eligible voted shrink (%.0f%% >= %.0f%%)", shrink, eligible, shrinkShare * 100,
            config.shrinkThreshold() * 100);
    if (eligible < config.minVoters()) {
      Rule rule = warming > 0 && eligible + warming >= config.minVoters() ? Rule.WARMUP : Rule.QUORUM;
      return Optional.of(facts.hold(rule, String.format("%s, but only %d eligible voter(s) of the %d required%s",
          votes, eligible, config.minVoters(), rule == Rule.WARMUP ? " (" + warming + " still warming up)" : "")));
    }
    if (pending > 0) {
      return Optional.of(facts.hold(Rule.PENDING, String.format(
          "%s, but %d launched instance(s) have not voted yet: their capacity is not in the votes", votes, pending)));
    }
    Optional<Map.Entry<String, Long>> inService = cameIntoService(present);
    long settledAt = Math.max(fleet.lastResizeAt(), inService.map(Map.Entry::getValue).orElse(0L));
    long calmLeft = settledAt + config.calmTimeMs() - now;
    if (settledAt > 0 && calmLeft > 0) {
      String since = inService.isPresent() && inService.get().getValue() > fleet.lastResizeAt()
          ? "; " + inService.get().getKey() + " came into service " + (now - inService.get().getValue()) + " ms ago"
          : "";
      return Optional.of(facts.hold(Rule.CALM, String.format("%s, but within calm time (%d ms left of %d ms%s)", votes,
          calmLeft, config.calmTimeMs(), since)));
    }
    if (growWanted) {
      if (size >= config.max()) {
        return Optional.of(facts.hold(Rule.BOUNDS, String.format("%s, but the group is at max (%d)", votes,
            config.max())));
      }
      int change = Math.min(config.resizeUpBy(), config.max() - size);
      return Optional.of(facts.decide(Outcome.GROW, Rule.VOTES, change, List.of(),
          String.format("%s: launch %d (%d -> %d)", votes, change, size, size + change)));
    }
    if (size <= config.min()) {
      return Optional.of(facts.hold(Rule.BOUNDS, String.format("%s, but the group is at min (%d)", votes,
          config.min())));
    }
    List<String> victims = victims(silentOnes, candidates, Math.min(config.resizeDownBy(), size - config.min()));
    if (victims.isEmpty()) {
      return Optional.of(facts.hold(Rule.PROTECTED, votes + ", but every eligible instance protects itself"));
    }
    return Optional.of(facts.decide(Outcome.SHRINK, Rule.VOTES, -victims.size(), victims,
        String.format("%s: terminate %s, %s (%d -> %d)", votes, victims, chosenBecause(victims, fleet, silentOnes),
            size, size - victims.size())));
  }

  /** Why the victims were chosen, in the order {@link #victims} prefers them. */
  private static String chosenBecause(List<String> victims, GroupFleet fleet, List<Candidate> silentOnes) {
    if (victims.stream().anyMatch(fleet.unhealthy()::contains)) {
      return "unhealthy first";
    }
    if (silentOnes.stream().anyMatch(c -> victims.contains(c.instance().instanceId()))) {
      return "without a live vote first";
    }
    return "the least busy";
  }

  /**
   * The launched instance that came into service last (its first warm vote), and when: the votes of the others still
   * carry the load they had before it took its share. An instance first seen warm long after its launch (by a
   * coordinator that just started) did not just come into service and is left out.
   */
  private Optional<Map.Entry<String, Long>> cameIntoService(Map<String, FleetInstance> present) {
    return warmedAt.entrySet().stream()
        .filter(e -> present.containsKey(e.getKey())
            && e.getValue() - present.get(e.getKey()).launchTime().toEpochMilli() < config.bootTimeoutMs())
        .max(Map.Entry.comparingByValue());
  }

  private boolean expired(Ballot ballot, long now) {
    return now - ballot.receivedAt() >= ballot.vote().leaseMillis();
  }

  /**
   * Unhealthy instances first, then those without a live vote, then the least busy voters; never one that protects
   * itself.
   */
  private static List<String> victims(List<Candidate> silentOnes, List<Candidate> voters, int count) {
    Comparator<Candidate> leastUseful = Comparator.comparingDouble(Candidate::load)
        .thenComparing((Candidate c) -> c.instance().launchTime(), Comparator.reverseOrder())
        .thenComparing(c -> c.instance().instanceId());
    List<Candidate> ordered = new ArrayList<>(silentOnes);
    ordered.sort(leastUseful);
    List<Candidate> byLoad = new ArrayList<>(voters);
    byLoad.sort(leastUseful);
    ordered.addAll(byLoad);
    List<Candidate> unhealthyFirst = new ArrayList<>(ordered.stream().filter(Candidate::unhealthy).toList());
    ordered.stream().filter(c -> !c.unhealthy()).forEach(unhealthyFirst::add);
    return unhealthyFirst.stream().filter(c -> !c.protectedFromScaleIn()).limit(count)
        .map(c -> c.instance().instanceId()).toList();
  }

  private record Candidate(FleetInstance instance, double load, boolean protectedFromScaleIn, boolean unhealthy) {
  }

  /** The facts of one tick, to build its decision from. */
  private final class Facts {
    private final long now;
    private final Counts counts;
    private final int size;
    private final int pending;

    private Facts(long now, Counts counts, int size, int pending) {
      this.now = now;
      this.counts = counts;
      this.size = size;
      this.pending = pending;
    }

    Decision decide(Outcome outcome, Rule rule, int change, List<String> victims, String reason) {
      return new Decision(config.name(), now, outcome, rule, counts, size, pending, change, victims, reason);
    }

    Decision hold(Rule rule, String reason) {
      return decide(Outcome.HOLD, rule, 0, List.of(), reason);
    }
  }
}
