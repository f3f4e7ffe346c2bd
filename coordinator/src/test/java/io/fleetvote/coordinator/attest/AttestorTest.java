package io.fleetvote.coordinator.attest;

import io.fleetvote.common.imds.IdentityVerifier;
import io.fleetvote.common.time.ManualClock;
import io.fleetvote.coordinator.fleet.FleetInstance;
import io.fleetvote.testkit.IdentityKeys;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Which instance an agent is: the cloud's signature, the cloud's list, the agent's nonce, then a credential. */
class AttestorTest {

  private static final IdentityKeys CLOUD = IdentityKeys.generate();
  private static final String A = "i-000000000000000a1";
  private static final String B = "i-000000000000000b1";
  private static final String NONCE = "agent-a-own-secret-0001";
  private static final byte[] SESSION_KEY = "the coordinators' session key, 32+".getBytes(StandardCharsets.US_ASCII);
  private final ManualClock clock = new ManualClock(Instant.parse("2026-12-01T12:00:00Z"));
  private final Map<String, FleetInstance> listed = new HashMap<>();
  private final Function<String, Optional<FleetInstance>> fleet = id -> Optional.ofNullable(listed.get(id));
  private final Map<String, Attestor.Attestation> store = new HashMap<>();
  private final Attestor attestor = attestor(SESSION_KEY);

  @Test
  void aListedInstanceWithTheCloudsSignatureGetsACredentialBoundToIt() {
    listed.put(A, instance(A, "running"));
    Attestor.Session session = attest(A, NONCE);
    assertThat(session.instanceId()).isEqualTo(A);
    resume(A, session.credential());
    assertThat(session.expiresAt()).isEqualTo(clock.millis() + Duration.ofMinutes(10).toMillis());
    assertThat(Attestor.Attestation.fromJson(stored(A).orElseThrow().toJson())).as("stored as JSON")
        .isEqualTo(stored(A).orElseThrow());
    assertThat(stored(A).orElseThrow().toJson().encode()).as("hashes only").doesNotContain(NONCE)
        .doesNotContain(session.credential());
  }

  @Test
  void forgedUnlistedOrForeignDocumentsAreRefusedWithTheirReason() {
    listed.put(A, instance(A, "running"));
    String document = IdentityKeys.document(A);
    assertRefused(() -> attestor.identify(document, IdentityKeys.generate().sign(document), fleet), "signature");
    assertRefused(() -> attestor.identify(document.replace(A, B), CLOUD.sign(document), fleet), "signature");
    assertRefused(() -> attest(B, NONCE), "not-in-fleet");
    listed.put(B, instance(B, "terminated"));
    assertRefused(() -> attest(B, NONCE), "not-in-fleet");
    String foreign = document.replace("123456789012", "999999999999");
    assertRefused(() -> attestor.identify(foreign, CLOUD.sign(foreign), fleet), "account");
    assertRefused(() -> attest(A, "short"), "nonce");
  }

  @Test
  void aCopiedDocumentCannotTakeAnInstanceOverAndTheSameAgentMayAttestAgain() {
    listed.put(A, instance(A, "running"));
    Attestor.Session first = attest(A, NONCE);
    assertRefused(() -> attest(A, "someone-elses-nonce-123"), "nonce");
    resume(A, first.credential()); // the agent's session survives the attempt

    Attestor.Session again = attest(A, NONCE);
    resume(A, again.credential());
    assertRefused(() -> resume(A, first.credential()), "credential");
    assertRefused(() -> resume(B, again.credential()), "credential");
  }

  @Test
  void credentialsExpireAndARevokedInstanceNeitherResumesNorAttestsAgain() {
    listed.put(A, instance(A, "running"));
    Attestor.Session session = attest(A, NONCE);
    clock.advanceMillis(Duration.ofMinutes(10).toMillis());
    assertRefused(() -> resume(A, session.credential()), "expired");

    Attestor.Session renewed = attest(A, NONCE);
    store.put(A, Attestor.revoked(stored(A)));
    assertRefused(() -> resume(A, renewed.credential()), "revoked");
    assertRefused(() -> attest(A, NONCE), "revoked");
    assertRefused(() -> resume(A, null), "credential");
    assertRefused(() -> attestor.current(A, renewed.credential(), Optional.empty()), "credential");

    listed.put(A, instance(A, "terminated"));
    assertRefused(() -> resume(A, renewed.credential()), "not-in-fleet");
  }

  @Test
  void aCredentialIsTheCoordinatorsOwnForOneInstanceAndStillResumesWhenNothingCanBeRead() {
    listed.put(A, instance(A, "running"));
    listed.put(B, instance(B, "running"));
    Attestor.Session session = attest(A, NONCE);
    assertThat(attestor.verify(A, session.credential(), fleet)).as("with the map unavailable: signature and expiry")
        .isEqualTo(session.expiresAt());
    assertRefused(() -> attestor.verify(B, session.credential(), fleet), "credential");
    assertRefused(() -> attestor.verify(A, session.credential().replace(A, B), fleet), "credential");
    String tampered = session.credential().substring(0, session.credential().lastIndexOf('.') + 1) + "AAAA";
    assertRefused(() -> attestor.verify(A, tampered, fleet), "credential");
    Attestor other = attestor("another deployment's session key".getBytes(StandardCharsets.US_ASCII));
    assertRefused(() -> other.verify(A, session.credential(), fleet), "credential");
    assertRefused(() -> attestor.verify(A, "a.b", fleet), "credential");
    assertRefused(() -> attestor.verify(A, null, fleet), "credential");
  }

  private Attestor attestor(byte[] sessionKey) {
    return new Attestor(IdentityVerifier.fromPem(CLOUD.publicKeyPem()), sessionKey, "123456789012", "us-east-1",
        clock, Duration.ofMinutes(10));
  }

  /** What the gateway checks of a credential when the map answers. */
  private void resume(String instanceId, String credential) {
    attestor.verify(instanceId, credential, fleet);
    attestor.current(instanceId, credential, stored(instanceId));
  }

  /** Identify, then bind, storing what the attestation stores (the coordinators' map in the gateway). */
  private Attestor.Session attest(String instanceId, String nonce) {
    String document = IdentityKeys.document(instanceId);
    String id = attestor.identify(document, CLOUD.sign(document), fleet);
    Attestor.Granted granted = attestor.bind(id, nonce, stored(id));
    store.put(id, granted.stored());
    return granted.session();
  }

  private Optional<Attestor.Attestation> stored(String instanceId) {
    return Optional.ofNullable(store.get(instanceId));
  }

  private static FleetInstance instance(String id, String state) {
    return new FleetInstance(id, "web", state, Instant.parse("2026-12-01T10:00:00Z"), null, "127.0.0.1");
  }

  private static void assertRefused(Runnable call, String reason) {
    assertThatThrownBy(call::run).isInstanceOfSatisfying(Attestor.Refused.class,
        e -> assertThat(e.reason()).isEqualTo(reason));
  }
}
