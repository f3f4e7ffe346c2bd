package io.fleetvote.coordinator.attest;

import io.fleetvote.common.imds.IdentityVerifier;
import io.fleetvote.common.time.ManualClock;
import io.fleetvote.coordinator.fleet.FleetInstance;
import io.fleetvote.testkit.IdentityKeys;
import org.junit.jupiter.api.Test;

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
  private final ManualClock clock = new ManualClock(Instant.parse("2026-12-01T12:00:00Z"));
  private final Map<String, FleetInstance> listed = new HashMap<>();
  private final Function<String, Optional<FleetInstance>> fleet = id -> Optional.ofNullable(listed.get(id));
  private final Attestor attestor = new Attestor(IdentityVerifier.fromPem(CLOUD.publicKeyPem()), "123456789012",
      "us-east-1", clock, Duration.ofMinutes(10));

  @Test
  void aListedInstanceWithTheCloudsSignatureGetsACredentialBoundToIt() {
    listed.put(A, instance(A, "running"));
    Attestor.Session session = attest(A, NONCE);
    assertThat(session.instanceId()).isEqualTo(A);
    assertThat(attestor.authenticate(session.credential())).isEqualTo(A);
    assertThat(session.expiresAt()).isEqualTo(clock.millis() + Duration.ofMinutes(10).toMillis());
  }

  @Test
  void forgedUnlistedOrForeignDocumentsAreRefusedWithTheirReason() {
    listed.put(A, instance(A, "running"));
    String document = IdentityKeys.document(A);
    assertRefused(() -> attestor.attest(document, IdentityKeys.generate().sign(document), NONCE, fleet), "signature");
    assertRefused(() -> attestor.attest(document.replace(A, B), CLOUD.sign(document), NONCE, fleet), "signature");
    assertRefused(() -> attest(B, NONCE), "not-in-fleet");
    listed.put(B, instance(B, "terminated"));
    assertRefused(() -> attest(B, NONCE), "not-in-fleet");
    String foreign = document.replace("123456789012", "999999999999");
    assertRefused(() -> attestor.attest(foreign, CLOUD.sign(foreign), NONCE, fleet), "account");
    assertRefused(() -> attest(A, "short"), "nonce");
  }

  @Test
  void aCopiedDocumentCannotTakeAnInstanceOverAndTheSameAgentMayAttestAgain() {
    listed.put(A, instance(A, "running"));
    Attestor.Session first = attest(A, NONCE);
    assertRefused(() -> attest(A, "someone-elses-nonce-123"), "nonce");
    assertThat(attestor.authenticate(first.credential())).as("the agent's session survives the attempt").isEqualTo(A);

    Attestor.Session again = attest(A, NONCE);
    assertThat(attestor.authenticate(again.credential())).isEqualTo(A);
    assertRefused(() -> attestor.authenticate(first.credential()), "credential");
  }

  @Test
  void credentialsExpireAndARevokedInstanceNeverAttestsAgainUntilItIsGone() {
    listed.put(A, instance(A, "running"));
    Attestor.Session session = attest(A, NONCE);
    clock.advanceMillis(Duration.ofMinutes(10).toMillis());
    assertRefused(() -> attestor.authenticate(session.credential()), "expired");

    Attestor.Session renewed = attest(A, NONCE);
    attestor.revoke(A);
    assertRefused(() -> attestor.authenticate(renewed.credential()), "credential");
    assertRefused(() -> attest(A, NONCE), "revoked");
    assertRefused(() -> attestor.authenticate(null), "credential");

    listed.put(A, instance(A, "terminated"));
    attestor.retain(fleet);
    listed.put(A, instance(A, "running"));
    assertThat(attest(A, "a-new-agent-nonce-0002").instanceId()).as("a new life of the id, as after EC2 reused it")
        .isEqualTo(A);
  }

  private Attestor.Session attest(String instanceId, String nonce) {
    String document = IdentityKeys.document(instanceId);
    return attestor.attest(document, CLOUD.sign(document), nonce, fleet);
  }

  private static FleetInstance instance(String id, String state) {
    return new FleetInstance(id, "web", state, Instant.parse("2026-12-01T10:00:00Z"), null, "127.0.0.1");
  }

  private static void assertRefused(Runnable call, String reason) {
    assertThatThrownBy(call::run).isInstanceOfSatisfying(Attestor.Refused.class,
        e -> assertThat(e.reason()).isEqualTo(reason));
  }
}
