package io.fleetvote.agent.link;

import io.fleetvote.common.msg.JsonFields;
import io.fleetvote.common.msg.MessageException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * How an agent reaches the coordinators: their gateways' addresses (it holds one connection, to any of them) and
 * the certificates it trusts them by (PEM, concatenated), both in the user-data the coordinator launches it with.
 *
 * @param nonceFile where the agent keeps its attestation nonce, made on its first start (owner-only)
 */
public record LinkOptions(List<String> addresses, String certificates, String nonceFile) {

  public static final String DEFAULT_NONCE_FILE = "fleetvote-agent.nonce";
  private static final Pattern HOST_PORT = Pattern.compile("[A-Za-z0-9.:\\[\\]-]{1,100}:\\d{1,5}");

  public LinkOptions {
    addresses = List.copyOf(addresses);
  }

  /** No coordinators: a standalone agent. */
  public static LinkOptions none() {
    return new LinkOptions(List.of(), "", DEFAULT_NONCE_FILE);
  }

  public boolean linked() {
    return !addresses.isEmpty();
  }

  public JsonObject toJson() {
    return new JsonObject().put("addresses", new JsonArray(addresses)).put("certificates", certificates)
        .put("nonceFile", nonceFile);
  }

  public static LinkOptions fromJson(JsonObject json) {
    List<String> addresses = JsonFields.strings(json, "addresses", 7, 100, HOST_PORT);
    String certificates = JsonFields.optionalString(json, "certificates", 64 * 1024, null);
    if (!addresses.isEmpty() && (certificates == null || !certificates.contains("-----BEGIN CERTIFICATE-----"))) {
      throw new MessageException("certificates", "the coordinators' certificates (PEM) are needed to reach them");
    }
    return new LinkOptions(addresses, Objects.requireNonNullElse(certificates, ""),
        Objects.requireNonNullElse(JsonFields.optionalString(json, "nonceFile", 4096, null), DEFAULT_NONCE_FILE));
  }
}
