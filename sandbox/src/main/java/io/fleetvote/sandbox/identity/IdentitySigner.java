package io.fleetvote.sandbox.identity;

import io.fleetvote.common.tls.OwnKey;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.util.Base64;

/**
 * Signs the sandbox's instance identity documents as EC2 signs its own ({@code /latest/dynamic/instance-identity/
 * signature}: base64 of SHA256withRSA over the document's bytes), with an RSA key of the sandbox's own. The key and
 * its self-signed certificate are made once per state directory (by the JDK's keytool) and kept there; the
 * certificate, in PEM, is what coordinators are given to verify documents, as they are given AWS's RSA certificate
 * of their region on EC2.
 */
public final class IdentitySigner {

  private static final String ALIAS = "fleetvote-sandbox-identity";
  /** The keystore's own protection; the state directory (owner-only) is what keeps the key. */
  private static final char[] STORE_PASSWORD = "fleetvote-sandbox".toCharArray();
  static final String KEYSTORE = "identity.p12";
  public static final String CERTIFICATE = "identity-certificate.pem";

  private final PrivateKey key;
  private final String certificatePem;

  private IdentitySigner(PrivateKey key, String certificatePem) {
    this.key = key;
    this.certificatePem = certificatePem;
  }

  /** The state directory's signing key, made first when there is none; blocking (keytool runs the first time). */
  public static IdentitySigner load(Path stateDir) throws IOException, GeneralSecurityException, InterruptedException {
    OwnKey own = OwnKey.load(stateDir.resolve(KEYSTORE), STORE_PASSWORD,
        OwnKey.Spec.rsa(ALIAS, "CN=Fleetvote sandbox instance identity"));
    String pem = own.certificatePem();
    Files.writeString(stateDir.resolve(CERTIFICATE), pem);
    return new IdentitySigner(own.key(), pem);
  }

  /** The signature EC2 serves beside the document: base64 of SHA256withRSA over its UTF-8 bytes. */
  public String sign(String document) {
    try {
      Signature signature = Signature.getInstance("SHA256withRSA");
      signature.initSign(key);
      signature.update(document.getBytes(StandardCharsets.UTF_8));
      return Base64.getEncoder().encodeToString(signature.sign());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot sign an identity document: " + e, e);
    }
  }

  /** The certificate that verifies {@link #sign}'s signatures, PEM. */
  public String certificatePem() {
    return certificatePem;
  }
}
