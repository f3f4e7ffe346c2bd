package io.fleetvote.coordinator.scaling;

import io.fleetvote.common.Ids;
import io.fleetvote.common.msg.JsonFields;
import io.fleetvote.common.msg.MessageException;
import io.fleetvote.common.msg.Role;
import io.vertx.core.json.JsonObject;

import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * One group (RightScale's server array): what its instances are, its bounds, and how votes resize it. Names follow
 * RightScale's elasticity parameters; times are in milliseconds. Defaults are production-sized (minutes); the demo
 * and the tests use seconds.
 */
public final class GroupConfig {

  public static final String DEFAULT_INSTANCE_TYPE = "t3.micro";
  public static final int DEFAULT_MIN = 1;
  public static final int DEFAULT_MAX = 10;
  /** RightScale's decision threshold: the share of eligible voters that must vote grow. */
  public static final double DEFAULT_DECISION_THRESHOLD = 0.51;
  public static final double DEFAULT_SHRINK_THRESHOLD = 0.51;
  public static final int DEFAULT_MIN_VOTERS = 1;
  /** Like AWS's default cooldown; RightScale's examples use 15 minutes. */
  public static final long DEFAULT_CALM_TIME_MS = 300_000;
  public static final int DEFAULT_RESIZE_UP_BY = 1;
  public static final int DEFAULT_RESIZE_DOWN_BY = 1;
  /** Like the cluster autoscaler's max-node-provision-time: a launch not voting by then stops counting as pending. */
  public static final long DEFAULT_BOOT_TIMEOUT_MS = 900_000;
  public static final int MAX_SIZE = 1000;
  /** How long a scale-in victim's sessions may take to finish before its LBs shut them (ELB's default is 300 s). */
  public static final long DEFAULT_DRAIN_TIMEOUT_MS = 30_000;
  /** How long an instance may fail its health check (or its agent stay silent) before it is replaced. */
  public static final long DEFAULT_HEALTH_GRACE_MS = 60_000;
  /** How long a new instance has to become healthy; like AWS Auto Scaling's console default grace period. */
  public static final long DEFAULT_BOOT_GRACE_MS = 300_000;
  /** Replacements per window: AWS Auto Scaling replaces one at a time in small groups. */
  public static final int DEFAULT_MAX_REPLACEMENTS = 1;
  public static final long DEFAULT_REPLACEMENT_WINDOW_MS = 300_000;
  private static final Pattern INSTANCE_TYPE = Pattern.compile("[a-z][a-z0-9-]*\\.[a-z0-9]+");
  private static final Set<String> FIELDS = Set.of("name", "imageId", "instanceType", "min", "max",
      "decisionThreshold", "shrinkThreshold", "minVoters", "calmTimeMs", "resizeUpBy", "resizeDownBy", "bootTimeoutMs",
      "drainTimeoutMs", "autoHeal", "healthGraceMs", "bootGraceMs", "maxReplacements", "replacementWindowMs",
      "agent", "tags");

  private final String name;
  private final String imageId;
  private final String instanceType;
  private final int min;
  private final int max;
  private final double decisionThreshold;
  private final double shrinkThreshold;
  private final int minVoters;
  private final long calmTimeMs;
  private final int resizeUpBy;
  private final int resizeDownBy;
  private final long bootTimeoutMs;
  private final long drainTimeoutMs;
  private final boolean autoHeal;
  private final long healthGraceMs;
  private final long bootGraceMs;
  private final int maxReplacements;
  private final long replacementWindowMs;
  private final JsonObject agent;
  private final List<String> roles;
  private final Map<String, String> tags;

  /** Reads one group; a bad field throws {@link MessageException} naming it. */
  public GroupConfig(JsonObject json) {
    for (String field : json.fieldNames()) {
      if (!FIELDS.contains(field)) {
        throw new MessageException(field, "is not a group setting (known: " + new TreeSet<>(FIELDS) + ")");
      }
    }
    name = JsonFields.string(json, "name", 40, Ids.NAME);
    imageId = JsonFields.string(json, "imageId", 21, Ids.IMAGE_ID);
    instanceType = Objects.requireNonNullElse(JsonFields.optionalString(json, "instanceType", 32, INSTANCE_TYPE),
        DEFAULT_INSTANCE_TYPE);
    min = JsonFields.intValue(json, "min", 0, MAX_SIZE, DEFAULT_MIN);
    max = JsonFields.intValue(json, "max", 1, MAX_SIZE, Math.max(DEFAULT_MAX, min));
    if (max < min) {
      throw new MessageException("max", max + " is below min (" + min + ")");
    }
    decisionThreshold = JsonFields.doubleValue(json, "decisionThreshold", 0.01, 1.0, DEFAULT_DECISION_THRESHOLD);
    shrinkThreshold = JsonFields.doubleValue(json, "shrinkThreshold", 0.01, 1.0, DEFAULT_SHRINK_THRESHOLD);
    minVoters = JsonFields.intValue(json, "minVoters", 1, MAX_SIZE, DEFAULT_MIN_VOTERS);
    calmTimeMs = JsonFields.longValue(json, "calmTimeMs", 0, 86_400_000, DEFAULT_CALM_TIME_MS);
    resizeUpBy = JsonFields.intValue(json, "resizeUpBy", 1, MAX_SIZE, DEFAULT_RESIZE_UP_BY);
    resizeDownBy = JsonFields.intValue(json, "resizeDownBy", 1, MAX_SIZE, DEFAULT_RESIZE_DOWN_BY);
    bootTimeoutMs = JsonFields.longValue(json, "bootTimeoutMs", 1000, 86_400_000, DEFAULT_BOOT_TIMEOUT_MS);
    drainTimeoutMs = JsonFields.longValue(json, "drainTimeoutMs", 0, 3_600_000, DEFAULT_DRAIN_TIMEOUT_MS);
    autoHeal = JsonFields.booleanValue(json, "autoHeal", true);
    healthGraceMs = JsonFields.longValue(json, "healthGraceMs", 1000, 86_400_000, DEFAULT_HEALTH_GRACE_MS);
    bootGraceMs = JsonFields.longValue(json, "bootGraceMs", 0, 86_400_000, DEFAULT_BOOT_GRACE_MS);
    maxReplacements = JsonFields.intValue(json, "maxReplacements", 1, MAX_SIZE, DEFAULT_MAX_REPLACEMENTS);
    replacementWindowMs = JsonFields.longValue(json, "replacementWindowMs", 1000, 86_400_000,
        DEFAULT_REPLACEMENT_WINDOW_MS);
    agent = JsonFields.object(json, "agent").copy();
    try {
      roles = agent.containsKey("roles")
          ? JsonFields.enumValues(agent, "roles", Role.class).stream().map(r -> r.name().toLowerCase(Locale.ROOT))
              .sorted().toList()
          : List.of("app");
    } catch (MessageException e) {
      throw e.within("agent");
    }
    if (roles.isEmpty()) {
      throw new MessageException("agent.roles", "must name at least one role");
    }
    for (String reserved : new String[] {"deployment", "group", "cluster"}) {
      if (agent.containsKey(reserved)) {
        throw new MessageException("agent." + reserved, "is set by the coordinator, not by the group");
      }
    }
    JsonObject rawTags = JsonFields.object(json, "tags");
    Map<String, String> read = new LinkedHashMap<>();
    for (String key : rawTags.fieldNames()) {
      if (key.startsWith("fleetvote:") || key.startsWith("aws:") || key.isEmpty() || key.length() > 128) {
        throw new MessageException("tags." + key, "is reserved or not a valid tag key");
      }
      try {
        read.put(key, JsonFields.string(rawTags, key, 256, null));
      } catch (MessageException e) {
        throw e.within("tags");
      }
    }
    tags = Map.copyOf(read);
  }

  /** The same group with other bounds (an operator's); throws {@link MessageException} when they are invalid. */
  public GroupConfig withBounds(int newMin, int newMax) {
    return new GroupConfig(toJson().put("min", newMin).put("max", newMax));
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("name", name).put("imageId", imageId).put("instanceType", instanceType)
        .put("min", min).put("max", max)
        .put("decisionThreshold", decisionThreshold).put("shrinkThreshold", shrinkThreshold)
        .put("minVoters", minVoters).put("calmTimeMs", calmTimeMs)
        .put("resizeUpBy", resizeUpBy).put("resizeDownBy", resizeDownBy)
        .put("bootTimeoutMs", bootTimeoutMs)
        .put("drainTimeoutMs", drainTimeoutMs)
        .put("autoHeal", autoHeal).put("healthGraceMs", healthGraceMs).put("bootGraceMs", bootGraceMs)
        .put("maxReplacements", maxReplacements).put("replacementWindowMs", replacementWindowMs)
        .put("agent", agent.copy())
        .put("tags", new JsonObject(new LinkedHashMap<>(tags)));
  }

  public String name() {
    return name;
  }

  public String imageId() {
    return imageId;
  }

  public String instanceType() {
    return instanceType;
  }

  public int min() {
    return min;
  }

  public int max() {
    return max;
  }

  public double decisionThreshold() {
    return decisionThreshold;
  }

  public double shrinkThreshold() {
    return shrinkThreshold;
  }

  public int minVoters() {
    return minVoters;
  }

  public long calmTimeMs() {
    return calmTimeMs;
  }

  public int resizeUpBy() {
    return resizeUpBy;
  }

  public int resizeDownBy() {
    return resizeDownBy;
  }

  public long bootTimeoutMs() {
    return bootTimeoutMs;
  }

  /** How long a scale-in victim's sessions may take to finish, at each LB, before they are shut. */
  public long drainTimeoutMs() {
    return drainTimeoutMs;
  }

  /** Unhealthy instances are replaced (launch first, then drain and terminate); false: only reported. */
  public boolean autoHeal() {
    return autoHeal;
  }

  /** How long an instance may be unhealthy (app failing its health check, or agent silent) before it is replaced. */
  public long healthGraceMs() {
    return healthGraceMs;
  }

  /** How long after its launch an instance may take to become healthy before it can count as unhealthy. */
  public long bootGraceMs() {
    return bootGraceMs;
  }

  /** At most this many replacements per {@link #replacementWindowMs()}. */
  public int maxReplacements() {
    return maxReplacements;
  }

  public long replacementWindowMs() {
    return replacementWindowMs;
  }

  /** The instances run an app behind an LB (role app): their app's health counts, and they can be drained. */
  public boolean servesApp() {
    return roles.contains("app");
  }

  /** The agent roles of the group's instances: what their agents may send and receive. */
  public Set<Role> agentRoles() {
    Set<Role> set = EnumSet.noneOf(Role.class);
    roles.forEach(role -> set.add(Role.valueOf(role.toUpperCase(Locale.ROOT))));
    return set;
  }

  /** The agent roles of the group's instances ({@code agent.roles}, default app), for the fleetvote:role tag. */
  public String roleTag() {
    return String.join(",", roles);
  }

  /** The agent's settings for this group's instances (windows, sensor...), sent in their user-data. */
  public JsonObject agent() {
    return agent.copy();
  }

  /** Extra tags for the group's instances, besides the deployment, group and role that Fleetvote sets. */
  public Map<String, String> tags() {
    return tags;
  }

  /** The user-data an instance of the group boots with: its agent's settings, plus what only the coordinator knows. */
  public String userData(String deployment, JsonObject reach) {
    JsonObject fleetvote = agent().put("deployment", deployment).put("group", name).mergeIn(reach);
    return new JsonObject().put("fleetvote", fleetvote).encode();
  }
}
