package io.fleetvote.coordinator.gateway;

import io.fleetvote.common.Addresses;
import io.fleetvote.common.msg.AgentHeartbeat;
import io.fleetvote.common.msg.DbStatus;
import io.fleetvote.common.msg.DeregisterRequest;
import io.fleetvote.common.msg.LbAnnouncement;
import io.fleetvote.common.msg.LbStatus;
import io.fleetvote.common.msg.MessageException;
import io.fleetvote.common.msg.RegisterRequest;
import io.fleetvote.common.msg.Role;
import io.fleetvote.common.msg.Vote;
import io.vertx.core.json.JsonObject;

import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What an agent's connection may send and receive, by the role the cloud gives its instance (the group its tags
 * name, and that group's roles in the coordinator's groups file), never by what the agent claims:
 * <ul>
 *   <li>every agent publishes its own heartbeat and receives its own drain requests and its own credentials
 *   ({@link Addresses#agentSecrets}), which reach no other agent;</li>
 *   <li>an app agent publishes its own votes, asks any LB agent to register or deregister itself, and hears LB
 *   announcements;</li>
 *   <li>an LB agent publishes its own announcements and backend status, hears heartbeats and the DB pair's routes,
 *   and answers the registration requests addressed to it;</li>
 *   <li>a DB agent publishes its own status and receives the leader's commands to its own instance
 *   ({@link Addresses#dbControl}, which carry the pair's passwords).</li>
 * </ul>
 * Every body sent must be a valid record naming the instance the connection is bound to, of its deployment (and, for
 * a vote or heartbeat, of its group). Anything else, operators' commands and the coordinators' own addresses
 * included, is refused with a reason (a metric tag) and a sentence. Pure.
 */
public final class AgentPolicy {

  /** Who a connection is, as the cloud and the groups file say. */
  public record Binding(String instanceId, String deployment, String group, Set<Role> roles) {
    public Binding {
      roles = Set.copyOf(roles);
    }
  }

  /** A refusal: {@code reason} is one of address, role, instance, invalid. */
  public record Refusal(String reason, String message) {
  }

  private static final Pattern LB_REQUEST = Pattern.compile("fleetvote\\.lb\\.([^.]+)\\.(register|deregister)");

  private AgentPolicy() {
  }

  /** Why {@code binding} may not send {@code body} to {@code address}; empty when it may. */
  public static Optional<Refusal> send(Binding binding, String address, JsonObject body) {
    try {
      return switch (address) {
        case Addresses.AGENT_HEARTBEATS -> {
          AgentHeartbeat heartbeat = AgentHeartbeat.fromJson(body);
          yield own(binding, address, heartbeat.instanceId(), heartbeat.deployment(), heartbeat.group());
        }
        case Addresses.VOTES -> {
          Vote vote = Vote.fromJson(body);
          yield role(binding, Role.APP, address).or(() -> own(binding, address, vote.instanceId(), vote.deployment(),
              vote.group()));
        }
        case Addresses.LB_ANNOUNCEMENTS -> {
          LbAnnouncement announcement = LbAnnouncement.fromJson(body);
          yield role(binding, Role.LB, address).or(() -> own(binding, address, announcement.instanceId(),
              announcement.deployment(), binding.group()));
        }
        case Addresses.LB_STATUS -> {
          LbStatus status = LbStatus.fromJson(body);
          yield role(binding, Role.LB, address).or(() -> own(binding, address, status.instanceId(),
              status.deployment(), binding.group()));
        }
        case Addresses.DB_STATUS -> {
          DbStatus status = DbStatus.fromJson(body);
          yield role(binding, Role.DB, address).or(() -> own(binding, address, status.instanceId(),
              status.deployment(), binding.group()));
        }
        default -> lbRequest(binding, address, body);
      };
    } catch (MessageException e) {
      return Optional.of(new Refusal("invalid", "a body for " + address + " that is not valid: " + e.getMessage()));
    }
  }

  /** Why {@code binding} may not receive what {@code address} receives; empty when it may. */
  public static Optional<Refusal> subscribe(Binding binding, String address) {
    if (address.equals(Addresses.agentDrain(binding.instanceId()))
        || address.equals(Addresses.agentSecrets(binding.instanceId()))) {
      return Optional.empty();
    }
    if (address.equals(Addresses.dbControl(binding.instanceId()))) {
      return role(binding, Role.DB, address);
    }
    if (address.equals(Addresses.LB_ANNOUNCEMENTS)) {
      return role(binding, Role.APP, address);
    }
    if (address.equals(Addresses.AGENT_HEARTBEATS) || address.equals(Addresses.DB_ROUTES)
        || address.equals(Addresses.lbRegister(binding.instanceId()))
        || address.equals(Addresses.lbDeregister(binding.instanceId()))) {
      return role(binding, Role.LB, address);
    }
    return Optional.of(new Refusal("address", binding.instanceId() + " may not receive what " + address
        + " receives"));
  }

  private static Optional<Refusal> lbRequest(Binding binding, String address, JsonObject body) {
    Matcher lb = LB_REQUEST.matcher(address);
    if (!lb.matches()) {
      return Optional.of(new Refusal("address", binding.instanceId() + " may not send to " + address));
    }
    Function<JsonObject, String> instance = lb.group(2).equals("register")
        ? json -> RegisterRequest.fromJson(json).instanceId() : json -> DeregisterRequest.fromJson(json).instanceId();
    String named = instance.apply(body);
    return role(binding, Role.APP, address).or(() -> named.equals(binding.instanceId()) ? Optional.empty()
        : Optional.of(new Refusal("instance", binding.instanceId() + " may not (de)register " + named)));
  }

  private static Optional<Refusal> role(Binding binding, Role role, String address) {
    return binding.roles().contains(role) ? Optional.empty() : Optional.of(new Refusal("role", binding.instanceId()
        + " (roles " + binding.roles() + ") has no role " + role + ", which " + address + " needs"));
  }

  private static Optional<Refusal> own(Binding binding, String address, String instanceId, String deployment,
                                       String group) {
    if (!instanceId.equals(binding.instanceId())) {
      return Optional.of(new Refusal("instance", binding.instanceId() + " may not send " + address + " for "
          + instanceId));
    }
    if (!deployment.equals(binding.deployment()) || !group.equals(binding.group())) {
      return Optional.of(new Refusal("instance", binding.instanceId() + " is of " + binding.deployment() + "/"
          + binding.group() + ", not " + deployment + "/" + group));
    }
    return Optional.empty();
  }
}
