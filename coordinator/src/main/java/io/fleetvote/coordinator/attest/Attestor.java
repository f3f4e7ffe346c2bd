package io.fleetvote.coordinator.attest;

import io.fleetvote.common.LogSafe;
import io.fleetvote.common.auth.Hmac;
import io.fleetvote.common.imds.IdentityDocument;
import io.fleetvote.common.imds.IdentityVerifier;
import io.fleetvote.common.msg.JsonFields;
import io.fleetvote.common.msg.MessageException;
import io.fleetvote.coordinator.fleet.FleetInstance;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Which instance an agent is, proved by the cloud: its instance identity document and the cloud's signature of it,
 * as Vault's and SPIRE's AWS attestors take them. A document is accepted for an instance the cloud lists alive in the
 * deployment, of the expected account and region; the first attestation of an instance binds it to the nonce the
 * agent chose (a secret it keeps), so a copy of the document, which anyone on the instance can read, never takes the
 * instance over: a later attestation must bring the same nonce. Each attestation hands out a session credential
 * signed with the coordinators' shared session key (so any coordinator can check it alone), stored only as its
 * hash, with which the agent resumes at any coordinator until it expires; a new attestation makes the last
 * credential stale, and a revoked instance can neither resume nor attest again. What is remembered of an instance is
 * one {@link Attestation}, kept by the caller where every coordinator reads it (the cluster's attestations map), so
 * an instance is bound once for the deployment, not once per coordinator. When that map cannot answer (a minority,
 * a member frozen), binding is refused but a signed, unexpired credential still resumes ({@link #verify} without
 * {@link #current}): the system degrades rather than locking every agent out. Pure: the caller gives the fleet, the
 * stored attestation and the time.
 */
public final class Attestor {

  /** A session handed out: the credential (shown once, to the agent) and the instance it is bound to. */
  public record Session(String credential, String instanceId, long expiresAt) {
  }

  /**
   * What the coordinators remember of an instance's agent.
   *
   * @param nonceHash   the hash of the nonce it first attested with
   * @param sessionHash the hash of its current session credential; null when it has none (revoked)
   * @param expiresAt   when that credential expires, epoch milliseconds
   * @param revoked     true once an operator revoked it: it may not attest again
   */
  public record Attestation(String nonceHash, String sessionHash, long expiresAt, boolean revoked) {

    public JsonObject toJson() {
      return new JsonObject().put("nonceHash", nonceHash).put("sessionHash", sessionHash).put("expiresAt", expiresAt)
          .put("revoked", revoked);
    }

    /** Reads a stored attestation; a {@link MessageException} names a bad field. */
    public static Attestation fromJson(JsonObject json) {
      return new Attestation(JsonFields.string(json, "nonceHash", 64, HASH),
          JsonFields.optionalString(json, "sessionHash", 64, HASH),
          JsonFields.longValue(json, "expiresAt", 0, Long.MAX_VALUE, 0), JsonFields.booleanValue(json, "revoked", false));
    }
  }

  /** An attestation granted: the session for the agent and what to store in place of what was. */
  public record Granted(Session session, Attestation stored) {
  }

  /** Why an attestation or a credential was refused, in the words an operator reads in the log. */
  public static final class Refused extends RuntimeException {

    private final String reason;

    public Refused(String reason, String message) {
      super(message, null, false, false);
      this.reason = reason;
    }

    /** A metric tag: {@code signature}, {@code document}, {@code account}, {@code not-in-fleet}, ... */
    public String reason() {
      return reason;
    }
  }

  private static final Pattern HASH = Pattern.compile("[0-9a-f]{64}");
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

  private final IdentityVerifier verifier;
  private final byte[] sessionKey;
  private final String accountId;
  private final String region;
  private final Clock clock;
  private final long sessionMillis;
  private final SecureRandom random = new SecureRandom();

  /**
   * @param sessionKey what session credentials are signed with, the same at every coordinator (from the cluster key)
   * @param accountId the account the deployment's instances run in (the sandbox's: its owner id); null: whichever
   *                  account owns the instances the fleet lists (instance ids are unique across accounts)
   * @param region    the deployment's region
   */
  public Attestor(IdentityVerifier verifier, byte[] sessionKey, String accountId, String region, Clock clock,
                  Duration sessionTtl) {
    this.verifier = verifier;
    this.sessionKey = sessionKey.clone();
    this.accountId = accountId;
    this.region = region;
    this.clock = clock;
    this.sessionMillis = sessionTtl.toMillis();
  }

  /**
   * The instance the document names, once the cloud's signature, the account, the region and the cloud's list of the
   * deployment vouch for it; else {@link Refused} saying why.
   *
   * @param fleet the deployment's instances as the cloud lists them
   */
  public String identify(String document, String signature, Function<String, Optional<FleetInstance>> fleet) {
    IdentityDocument identity;
    try {
      identity = verifier.verify(document, signature);
    } catch (MessageException e) {
      throw new Refused(e.field().equals("signature") ? "signature" : "document",
          "identity refused: " + LogSafe.printable(e.getMessage()));
    }
    String id = identity.instanceId();
    if ((accountId != null && !identity.accountId().equals(accountId)) || !identity.region().equals(region)) {
      throw new Refused("account", id + " is of account " + identity.accountId() + " in " + identity.region()
          + ", not this deployment's " + accountId + " in " + region);
    }
    alive(id, fleet);
    return id;
  }

  /**
   * A session for {@code instanceId}, identified by {@link #identify}, whose agent brings {@code nonce}; {@code held}
   * is what is stored of it (empty: its first attestation). Refused when it was revoked or bound to another nonce.
   */
  public Granted bind(String instanceId, String nonce, Optional<Attestation> held) {
    if (held.map(Attestation::revoked).orElse(false)) {
      throw new Refused("revoked", instanceId + " was revoked: it may not attest again");
    }
    if (nonce == null || nonce.length() < 16 || nonce.length() > 256) {
      throw new Refused("nonce", "the nonce must be 16 to 256 characters");
    }
    String nonceHash = hash(nonce);
    if (held.isPresent() && !MessageDigest.isEqual(held.get().nonceHash().getBytes(StandardCharsets.US_ASCII),
        nonceHash.getBytes(StandardCharsets.US_ASCII))) {
      throw new Refused("nonce", instanceId + " attested before with another nonce: a copied identity document is "
          + "not the agent of " + instanceId);
    }
    long expiresAt = clock.millis() + sessionMillis;
    byte[] secret = new byte[16];
    random.nextBytes(secret);
    String payload = instanceId + "." + expiresAt + "." + B64.encodeToString(secret);
    String credential = payload + "." + B64.encodeToString(mac(payload));
    return new Granted(new Session(credential, instanceId, expiresAt),
        new Attestation(nonceHash, hash(credential), expiresAt, false));
  }

  /**
   * {@code instanceId}'s agent resumes its session with {@code credential} (at this coordinator or another): the
   * credential must carry this coordinators' signature, name the instance and be unexpired, and the instance must
   * still be alive in the cloud's list. Returns when it expires. What the stored attestation says of it (revoked,
   * stale) is {@link #current}'s to check.
   */
  public long verify(String instanceId, String credential, Function<String, Optional<FleetInstance>> fleet) {
    String[] parts = credential == null ? new String[0] : credential.split("\\.", -1);
    if (parts.length != 4 || !parts[0].equals(instanceId) || !MessageDigest.isEqual(mac(parts[0] + "." + parts[1]
        + "." + parts[2]), decode(parts[3]))) {
      throw new Refused("credential", "not a session credential of " + instanceId + " from these coordinators");
    }
    long expiresAt;
    try {
      expiresAt = Long.parseLong(parts[1]);
    } catch (NumberFormatException e) {
      throw new Refused("credential", "not a session credential of " + instanceId + " from these coordinators");
    }
    if (clock.millis() >= expiresAt) {
      throw new Refused("expired", "the session of " + instanceId + " expired; attest again");
    }
    alive(instanceId, fleet);
    return expiresAt;
  }

  /** A verified credential, checked against what is stored: refused when revoked, or stale (a later attestation). */
  public void current(String instanceId, String credential, Optional<Attestation> held) {
    Attestation stored = held.orElseThrow(() -> new Refused("credential", instanceId + " has no session"));
    if (stored.revoked()) {
      throw new Refused("revoked", instanceId + " was revoked: its sessions are over");
    }
    if (stored.sessionHash() == null || !MessageDigest.isEqual(stored.sessionHash().getBytes(StandardCharsets.US_ASCII),
        hash(credential).getBytes(StandardCharsets.US_ASCII))) {
      throw new Refused("credential", "a stale session credential of " + instanceId + " (it attested again since)");
    }
  }

  /** What to store of an instance an operator revoked: no session, and no attestation ever again. */
  public static Attestation revoked(Optional<Attestation> held) {
    return new Attestation(held.map(Attestation::nonceHash).orElse(hash("revoked before it attested")), null, 0,
        true);
  }

  private static void alive(String id, Function<String, Optional<FleetInstance>> fleet) {
    if (fleet.apply(id).filter(FleetInstance::alive).isEmpty()) {
      throw new Refused("not-in-fleet", id + " is not a live instance of this deployment in the cloud's list");
    }
  }

  private byte[] mac(String payload) {
    return Hmac.sha256(sessionKey, payload);
  }


  private static byte[] decode(String text) {
    try {
      return Base64.getUrlDecoder().decode(text);
    } catch (IllegalArgumentException e) {
      return new byte[0];
    }
  }

  private static String hash(String secret) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest(secret.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
