package io.fleetvote.testkit;

import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.util.Base64;

/** A cloud's identity key for tests: signs identity documents as EC2 does, and gives its public key in PEM. */
public final class IdentityKeys {

  private final KeyPair keys;

  private IdentityKeys(KeyPair keys) {
    this.keys = keys;
  }

  /** A fresh RSA-2048 key. */
  public static IdentityKeys generate() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
      generator.initialize(2048);
      return new IdentityKeys(generator.generateKeyPair());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  public String publicKeyPem() {
    return "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder().encodeToString(keys.getPublic().getEncoded())
        + "\n-----END PUBLIC KEY-----\n";
  }

  /** Base64 of SHA256withRSA over the document's UTF-8 bytes. */
  public String sign(String document) {
    try {
      Signature signature = Signature.getInstance("SHA256withRSA");
      signature.initSign(keys.getPrivate());
      signature.update(document.getBytes(StandardCharsets.UTF_8));
      return Base64.getEncoder().encodeToString(signature.sign());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** An identity document as EC2 writes one, for an instance of account 123456789012 in us-east-1. */
  public static String document(String instanceId) {
    return new JsonObject().put("accountId", "123456789012").put("availabilityZone", "us-east-1a")
        .put("imageId", "ami-0123456789abcdef0").put("instanceId", instanceId).put("instanceType", "t3.micro")
        .put("pendingTime", "2026-12-01T10:00:00Z").put("privateIp", "127.0.0.1").put("region", "us-east-1")
        .put("version", "2017-09-30").encodePrettily();
  }
}
