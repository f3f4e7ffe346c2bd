package io.fleetvote.common.imds;

import io.fleetvote.common.msg.MessageException;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Verifies an instance identity document against the cloud's signature (EC2's base64 SHA256withRSA one, from
 * {@code /latest/dynamic/instance-identity/signature}) with the cloud's RSA certificate: AWS's for the region, or
 * the sandbox's own ({@code identity-certificate.pem} in its state directory). Pure; thread-safe.
 */
public final class IdentityVerifier {

  private static final Pattern PEM = Pattern.compile(
      "-----BEGIN (CERTIFICATE|PUBLIC KEY)-----([A-Za-z0-9+/=\\s]+)-----END \\1-----");

  private final PublicKey key;

  private IdentityVerifier(PublicKey key) {
    this.key = key;
  }

  /** From a PEM certificate (as AWS publishes them) or a PEM public key; throws naming what is wrong with it. */
  public static IdentityVerifier fromPem(String pem) {
    Matcher matcher = PEM.matcher(pem == null ? "" : pem);
    if (!matcher.find()) {
      throw new IllegalArgumentException("not a PEM certificate or public key");
    }
    byte[] der = Base64.getMimeDecoder().decode(matcher.group(2));
    try {
      PublicKey key = matcher.group(1).equals("CERTIFICATE")
          ? CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der)).getPublicKey()
          : KeyFactory.getInstance("RSA").generatePublic(new X509EncodedKeySpec(der));
      if (!key.getAlgorithm().equals("RSA")) {
        throw new IllegalArgumentException("the key is " + key.getAlgorithm() + ", not RSA");
      }
      return new IdentityVerifier(key);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("not a readable " + matcher.group(1).toLowerCase() + ": " + e.getMessage(), e);
    }
  }

  /**
   * The document, read, once its signature is the cloud's; else {@link MessageException} on {@code signature} (it is
   * not the cloud's signature of these bytes) or on the document's first bad field.
   */
  public IdentityDocument verify(String document, String signature) {
    byte[] signed;
    try {
      signed = Base64.getMimeDecoder().decode(signature == null ? "" : signature.strip());
    } catch (IllegalArgumentException e) {
      throw new MessageException("signature", "is not base64");
    }
    try {
      Signature check = Signature.getInstance("SHA256withRSA");
      check.initVerify(key);
      check.update((document == null ? "" : document).getBytes(StandardCharsets.UTF_8));
      if (signed.length == 0 || !check.verify(signed)) {
        throw new MessageException("signature", "is not the cloud's signature of this identity document");
      }
    } catch (GeneralSecurityException e) {
      throw new MessageException("signature", "cannot be checked: " + e.getMessage());
    }
    return IdentityDocument.fromJson(document);
  }
}
