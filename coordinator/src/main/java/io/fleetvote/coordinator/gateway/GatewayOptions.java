package io.fleetvote.coordinator.gateway;

import io.fleetvote.common.msg.JsonFields;
import io.fleetvote.common.msg.MessageException;
import io.vertx.core.json.JsonObject;

import java.util.regex.Pattern;

/**
 * Where the coordinator's agent gateway listens and how it admits agents.
 *
 * @param host                    the address agents connect to (the coordinator's private IP)
 * @param port                    the TLS port; 0 picks one (tests)
 * @param identityCertificate     the cloud's certificate of its identity-document signatures, PEM (AWS's of the
 *                                region; the sandbox's {@code identity-certificate.pem})
 * @param accountId               the account the deployment's instances run in; null: any account whose instances
 *                                the deployment's own DescribeInstances lists (instance ids are unique)
 * @param region                  the deployment's region, which documents must name
 * @param leaseMillis             an agent that sends nothing for this long is disconnected (it pings every third)
 * @param sessionMillis           how long a session credential lasts
 * @param maxConnections          connections beyond this are closed at once
 */
public record GatewayOptions(String host, int port, String identityCertificate, String accountId, String region,
                             long leaseMillis, long sessionMillis, int maxConnections) {

  public static final long DEFAULT_LEASE_MILLIS = 3000;
  public static final long DEFAULT_SESSION_MILLIS = 3_600_000;
  public static final int DEFAULT_MAX_CONNECTIONS = 20_000;
  private static final Pattern ACCOUNT = Pattern.compile("\\d{12}");

  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("host", host).put("port", port)
        .put("identityCertificate", identityCertificate).put("region", region).put("leaseMillis", leaseMillis)
        .put("sessionMillis", sessionMillis).put("maxConnections", maxConnections);
    return accountId == null ? json : json.put("accountId", accountId);
  }

  public static GatewayOptions fromJson(JsonObject json) {
    String certificate = JsonFields.string(json, "identityCertificate", 4096, null);
    if (!certificate.contains("-----BEGIN")) {
      throw new MessageException("identityCertificate", "is not PEM (no -----BEGIN line)");
    }
    return new GatewayOptions(JsonFields.string(json, "host", 64, null), JsonFields.intValue(json, "port", 0, 65535),
        certificate, JsonFields.optionalString(json, "accountId", 12, ACCOUNT),
        JsonFields.string(json, "region", 32, Pattern.compile("[a-z0-9-]+")),
        JsonFields.longValue(json, "leaseMillis", 300, 60_000, DEFAULT_LEASE_MILLIS),
        JsonFields.longValue(json, "sessionMillis", 60_000, 86_400_000, DEFAULT_SESSION_MILLIS),
        JsonFields.intValue(json, "maxConnections", 1, 1_000_000, DEFAULT_MAX_CONNECTIONS));
  }
}
