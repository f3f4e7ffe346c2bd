package io.fleetvote.coordinator.attest;

import io.fleetvote.common.LogSafe;
import io.fleetvote.common.imds.IdentityDocument;
import io.fleetvote.common.imds.IdentityVerifier;
import io.fleetvote.common.msg.MessageException;
import io.fleetvote.coordinator.fleet.FleetInstance;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * Which instance an agent is, proved by the cloud: its instance identity document and the cloud's signature of it,
 * as Vault's and SPIRE's AWS attestors take them. A document is accepted for an instance the cloud lists alive in the
 * deployment, of the expected account and region; the first attestation of an instance binds it to the nonce the
 * agent chose (a secret it keeps), so a copy of the document, which anyone on the instance can read, never takes the
 * instance over: a later attestation must bring the same nonce. Each attestation hands out a session credential,
 * kept here only as its hash, that expires and that the coordinators can revoke: a revoked instance cannot attest
 * again. Pure: the caller gives the fleet and the time. Use from one context.
 */
public final class Attestor {

  /** A session handed out: the credential (shown once, to the agent) and the instance it is bound to. */
  public record Session(String credential, String instanceId, long expiresAt) {
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

  private record Bound(String nonceHash) {
  }

  private record Held(String instanceId, long expiresAt) {
  }

  private final IdentityVerifier verifier;
  private final String accountId;
  private final String region;
  private final Clock clock;
  private final long sessionMillis;
  private final SecureRandom random = new SecureRandom();
  private final Map<String, Bound> bound = new HashMap<>();
  private final Map<String, Held> sessions = new HashMap<>();
  private final Set<String> revoked = new HashSet<>();

  /**
   * @param accountId the account the deployment's instances run in (the sandbox's: its owner id); null: whichever
   *                  account owns the instances the fleet lists (instance ids are unique across accounts)
   * @param region    the deployment's region
   */
  public Attestor(IdentityVerifier verifier, String accountId, String region, Clock clock, Duration sessionTtl) {
    this.verifier = verifier;
    this.accountId = accountId;
    this.region = region;
    this.clock = clock;
    this.sessionMillis = sessionTtl.toMillis();
  }

  /**
   * A session for the instance the document names, or {@link Refused} saying why.
   *
   * @param nonce the agent's own secret for this instance, the same at every attestation (at least 16 characters)
   * @param fleet the deployment's instances as the cloud lists them
   */
  public Session attest(String document, String signature, String nonce,
                        Function<String, Optional<FleetInstance>> fleet) {
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
    if (fleet.apply(id).filter(FleetInstance::alive).isEmpty()) {
      throw new Refused("not-in-fleet", id + " is not a live instance of this deployment in the cloud's list");
    }
    if (revoked.contains(id)) {
      throw new Refused("revoked", id + " was revoked: it may not attest again");
    }
    if (nonce == null || nonce.length() < 16 || nonce.length() > 256) {
      throw new Refused("nonce", "the nonce must be 16 to 256 characters");
    }
    String nonceHash = hash(nonce);
    Bound earlier = bound.putIfAbsent(id, new Bound(nonceHash));
    if (earlier != null && !MessageDigest.isEqual(earlier.nonceHash().getBytes(StandardCharsets.US_ASCII),
        nonceHash.getBytes(StandardCharsets.US_ASCII))) {
      throw new Refused("nonce", id + " attested before with another nonce: a copied identity document is not "
          + "the agent of " + id);
    }
    byte[] secret = new byte[32];
    random.nextBytes(secret);
    String credential = Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
    long expiresAt = clock.millis() + sessionMillis;
    sessions.values().removeIf(held -> held.instanceId().equals(id));
    sessions.put(hash(credential), new Held(id, expiresAt));
    return new Session(credential, id, expiresAt);
  }

  /** The instance a credential is bound to, or {@link Refused} (unknown, expired or revoked). */
  public String authenticate(String credential) {
    Held held = credential == null ? null : sessions.get(hash(credential));
    if (held == null) {
      throw new Refused("credential", "unknown session credential");
    }
    if (clock.millis() >= held.expiresAt()) {
      sessions.remove(hash(credential));
      throw new Refused("expired", "the session of " + held.instanceId() + " expired; attest again");
    }
    return held.instanceId();
  }

  /** Ends the instance's session; it may not attest again. */
  public void revoke(String instanceId) {
    revoked.add(instanceId);
    sessions.values().removeIf(held -> held.instanceId().equals(instanceId));
  }

  /** Forgets instances the cloud no longer lists alive: their bindings, sessions and revocations. */
  public void retain(Function<String, Optional<FleetInstance>> fleet) {
    bound.keySet().removeIf(id -> fleet.apply(id).filter(FleetInstance::alive).isEmpty());
    revoked.removeIf(id -> fleet.apply(id).filter(FleetInstance::alive).isEmpty());
    sessions.values().removeIf(held -> fleet.apply(held.instanceId()).filter(FleetInstance::alive).isEmpty());
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
