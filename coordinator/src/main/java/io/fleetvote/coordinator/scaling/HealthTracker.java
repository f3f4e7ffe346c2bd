package io.fleetvote.coordinator.scaling;

import io.fleetvote.common.msg.AgentHeartbeat;
import io.fleetvote.common.msg.Role;
import io.fleetvote.coordinator.fleet.FleetInstance;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * How healthy each instance is, from its agent's heartbeats: pure logic on the caller's clock. An instance is failing
 * while its app (role app) fails its agent's health probe, or while its agent sends no heartbeat. Every failure has a
 * start, so a grace can be measured from it; a failure never starts before this tracker did (a coordinator that just
 * started has heard nobody yet, and must not count them as silent since their launch). Overload is not a failure: the
 * agent's probe is a liveness check that the app answers off its work queue.
 */
public final class HealthTracker {

  /**
   * An instance's health at one moment.
   *
   * @param failing    its app fails its probe, or its agent is silent
   * @param since      since when (epoch ms)
   * @param why        what fails, for people
   * @param wasHealthy it has been healthy since this tracker started: a failure now is not a slow boot
   */
  public record Health(boolean failing, long since, String why, boolean wasHealthy) {

    static final Health OK = new Health(false, 0, "", true);

    /** Failing for long enough to be replaced: past its grace, and past its boot grace unless it was healthy. */
    public boolean due(long now, long launchedAt, long graceMillis, long bootGraceMillis) {
      return failing && now - since >= graceMillis && (wasHealthy || now - launchedAt >= bootGraceMillis);
    }

    /** Failing, and not just booting. */
    public boolean unhealthy(long now, long launchedAt, long bootGraceMillis) {
      return failing && (wasHealthy || now - launchedAt >= bootGraceMillis);
    }
  }

  private record Seen(long heardAt, boolean app, boolean appReady, String problem, long failingSince,
                      boolean wasHealthy) {
  }

  private final long expireAfterMillis;
  private final long startedAt;
  private final Map<String, Seen> seen = new HashMap<>();

  /**
   * @param expireAfterMillis a heartbeat older than this means the agent is silent
   * @param startedAt         when this tracker began listening (epoch ms)
   */
  public HealthTracker(long expireAfterMillis, long startedAt) {
    this.expireAfterMillis = expireAfterMillis;
    this.startedAt = startedAt;
  }

  /** Takes a heartbeat received at {@code now}. */
  public void heard(AgentHeartbeat heartbeat, long now) {
    boolean app = heartbeat.roles().contains(Role.APP) && heartbeat.appPort() > 0;
    boolean ready = !app || heartbeat.appReady();
    Seen before = seen.get(heartbeat.instanceId());
    long failingSince = ready ? 0 : before != null && before.failingSince() > 0 ? before.failingSince() : now;
    boolean wasHealthy = ready || before != null && before.wasHealthy();
    seen.put(heartbeat.instanceId(), new Seen(now, app, ready, heartbeat.appProblem(), failingSince, wasHealthy));
  }

  /** The instance's health at {@code now}. */
  public Health health(FleetInstance instance, long now) {
    Seen last = seen.get(instance.instanceId());
    long launched = instance.launchTime().toEpochMilli();
    if (last == null) {
      return new Health(true, Math.max(startedAt, launched), "its agent has sent no heartbeat since it was launched",
          false);
    }
    if (now - last.heardAt() >= expireAfterMillis) {
      return new Health(true, last.heardAt(), "its agent has sent no heartbeat for " + seconds(now - last.heardAt()),
          last.wasHealthy());
    }
    if (!last.appReady()) {
      String problem = last.problem().isEmpty() ? "fails its health check" : last.problem();
      return new Health(true, last.failingSince(), "its app " + problem, last.wasHealthy());
    }
    return Health.OK;
  }

  /** Forgets the instances that are no longer in the fleet. */
  public void retain(Set<String> instanceIds) {
    seen.keySet().retainAll(instanceIds);
  }

  static String seconds(long millis) {
    return String.format(Locale.ROOT, "%.1f s", millis / 1000.0);
  }
}
