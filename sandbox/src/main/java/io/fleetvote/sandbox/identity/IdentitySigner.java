package io.fleetvote.sandbox.identity;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Signs the sandbox's instance identity documents as EC2 signs its own ({@code /latest/dynamic/instance-identity/
 * signature}: base64 of SHA256withRSA over the document's bytes), with an RSA key of the sandbox's own. The key and
 * its self-signed certificate are made once per state directory (by the JDK's keytool) and kept there; the
 * certificate, in PEM, is what coordinators are given to verify documents, as they are given AWS's RSA certificate
 * of their region on EC2.
 */
public final class IdentitySigner {

  private static final Logger LOG = LoggerFactory.getLogger(IdentitySigner.class);
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
    Path store = stateDir.resolve(KEYSTORE);
    if (!Files.exists(store)) {
      generate(store);
    }
    KeyStore keys = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(store)) {
      keys.load(in, STORE_PASSWORD);
    }
    PrivateKey key = (PrivateKey) keys.getKey(ALIAS, STORE_PASSWORD);
    Certificate certificate = keys.getCertificate(ALIAS);
    if (key == null || certificate == null) {
      throw new GeneralSecurityException(store + " holds no key " + ALIAS + "; remove it to make a new one");
    }
    String pem = "-----BEGIN CERTIFICATE-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(certificate.getEncoded())
        + "\n-----END CERTIFICATE-----\n";
    Files.writeString(stateDir.resolve(CERTIFICATE), pem);
    return new IdentitySigner(key, pem);
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

  private static void generate(Path store) throws IOException, InterruptedException {
    Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
    Path partial = store.resolveSibling(store.getFileName() + ".new");
    Files.deleteIfExists(partial);
    // C1 and the serial collector: keytool lives half a second, on machines where every sandbox start makes one.
    List<String> command = List.of(keytool.toString(), "-J-XX:TieredStopAtLevel=1", "-J-XX:+UseSerialGC",
        "-genkeypair", "-alias", ALIAS, "-keyalg", "RSA", "-keysize",
        "2048", "-sigalg", "SHA256withRSA", "-validity", "3650", "-dname", "CN=Fleetvote sandbox instance identity",
        "-storetype", "PKCS12", "-keystore", partial.toString(), "-storepass", new String(STORE_PASSWORD));
    Process keytoolRun = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(keytoolRun.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!keytoolRun.waitFor(60, TimeUnit.SECONDS)) {
      keytoolRun.destroyForcibly();
      throw new IOException("keytool did not make the identity key within 60 s");
    }
    if (keytoolRun.exitValue() != 0) {
      throw new IOException("keytool could not make the identity key (exit " + keytoolRun.exitValue() + "): "
          + output.strip());
    }
    Files.setPosixFilePermissions(partial, PosixFilePermissions.fromString("rw-------"));
    Files.move(partial, store);
    LOG.info("made the sandbox's instance identity key: {}", store);
  }
}
