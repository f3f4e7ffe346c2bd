package io.fleetvote.common.msg;

import io.fleetvote.common.Ids;
import io.vertx.core.json.JsonObject;

/**
 * An app agent asking an LB agent to put its instance in that LB's HAProxy backend (request/reply on
 * {@link io.fleetvote.common.Addresses#lbRegister}). Answered with a {@link RegistrationReply} once the server takes
 * traffic (its first health check passed) or the registration failed.
 *
 * @param instanceId the server's name in HAProxy
 * @param group      the group the instance belongs to (an LB serves one group)
 * @param address    the IPv4 address HAProxy connects to (never a host name: HAProxy would not resolve it)
 * @param port       the application's port
 * @param checkPort  the port where the instance's agent answers HAProxy's agent-check (its load as a weight); 0 when
 *                   the instance has no such agent
 */
public record RegisterRequest(String instanceId, String group, String address, int port, int checkPort) {

  /** A registration without an agent-check: HAProxy's health check alone decides. */
  public RegisterRequest(String instanceId, String group, String address, int port) {
    this(instanceId, group, address, port, 0);
  }

  public JsonObject toJson() {
    return new JsonObject().put("instanceId", instanceId).put("group", group).put("address", address).put("port", port)
        .put("checkPort", checkPort);
  }

  /** Reads and validates a request; throws {@link MessageException} naming the first bad field. */
  public static RegisterRequest fromJson(Object body) {
    JsonObject json = JsonFields.object(body, "registration");
    return new RegisterRequest(
        JsonFields.string(json, "instanceId", 19, Ids.INSTANCE_ID),
        JsonFields.string(json, "group", 63, Ids.NAME),
        JsonFields.string(json, "address", 15, Ids.IPV4),
        JsonFields.intValue(json, "port", 1, 65535),
        JsonFields.intValue(json, "checkPort", 0, 65535, 0));
  }
}
