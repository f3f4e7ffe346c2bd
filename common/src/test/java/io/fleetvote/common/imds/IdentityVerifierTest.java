package io.fleetvote.common.imds;

import io.fleetvote.common.msg.MessageException;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.time.Instant;
import java.util.Base64;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The cloud's signature decides: the document it signed is read, any other bytes or key are refused. */
class IdentityVerifierTest {

  private static final KeyPair CLOUD = keys();
  private static final KeyPair OTHER = keys();
  private static final String DOCUMENT = new JsonObject().put("accountId", "123456789012")
      .put("availabilityZone", "us-east-1a").put("imageId", "ami-0123456789abcdef0")
      .put("instanceId", "i-0123456789abcdef0").put("instanceType", "t3.micro")
      .put("pendingTime", "2026-12-01T10:00:00Z").put("privateIp", "127.0.0.1").put("region", "us-east-1")
      .put("version", "2017-09-30").encodePrettily();

  @Test
  void theCloudsSignatureOfTheDocumentVerifiesAndTheDocumentIsRead() {
    IdentityDocument identity = verifier(CLOUD).verify(DOCUMENT, sign(CLOUD, DOCUMENT));
    assertThat(identity.instanceId()).isEqualTo("i-0123456789abcdef0");
    assertThat(identity.accountId()).isEqualTo("123456789012");
    assertThat(identity.pendingTime()).isEqualTo(Instant.parse("2026-12-01T10:00:00Z"));
  }

  @Test
  void anyOtherBytesKeyOrSignatureAreRefused() {
    String forged = DOCUMENT.replace("i-0123456789abcdef0", "i-0fedcba9876543210");
    assertRefused(() -> verifier(CLOUD).verify(forged, sign(CLOUD, DOCUMENT)), "signature");
    assertRefused(() -> verifier(CLOUD).verify(DOCUMENT, sign(OTHER, DOCUMENT)), "signature");
    assertRefused(() -> verifier(CLOUD).verify(DOCUMENT, "not base64!"), "signature");
    assertRefused(() -> verifier(CLOUD).verify(DOCUMENT, ""), "signature");
    assertRefused(() -> verifier(CLOUD).verify(DOCUMENT, null), "signature");
    String noInstance = new JsonObject(DOCUMENT).put("instanceId", "me").encode();
    assertRefused(() -> verifier(CLOUD).verify(noInstance, sign(CLOUD, noInstance)), "instanceId");
  }

  @Test
  void aKeyIsReadFromPemOrRefusedWithAReason() {
    assertThatThrownBy(() -> IdentityVerifier.fromPem("hello")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not a PEM");
    assertThatThrownBy(() -> IdentityVerifier.fromPem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a readable certificate");
  }

  private static IdentityVerifier verifier(KeyPair keys) {
    return IdentityVerifier.fromPem("-----BEGIN PUBLIC KEY-----\n"
        + Base64.getMimeEncoder().encodeToString(keys.getPublic().getEncoded()) + "\n-----END PUBLIC KEY-----\n");
  }

  private static String sign(KeyPair keys, String document) {
    try {
      Signature signature = Signature.getInstance("SHA256withRSA");
      signature.initSign(keys.getPrivate());
      signature.update(document.getBytes(StandardCharsets.UTF_8));
      return Base64.getEncoder().encodeToString(signature.sign());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static KeyPair keys() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
      generator.initialize(2048);
      return generator.generateKeyPair();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static void assertRefused(Runnable verify, String field) {
    assertThatThrownBy(verify::run).isInstanceOfSatisfying(MessageException.class,
        e -> assertThat(e.field()).isEqualTo(field));
  }
}
