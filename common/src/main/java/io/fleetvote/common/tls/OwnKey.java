package io.fleetvote.common.tls;

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
import java.security.cert.Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A key of a process's own and its self-signed certificate, made once in a PKCS12 keystore by the JDK's keytool and
 * kept (owner-only) in the process's state directory: the sandbox's identity-signing key, a coordinator's TLS key.
 * What others are given to trust it is {@link #certificatePem()}.
 *
 * @param store    the keystore file
 * @param password the keystore's own protection (the directory's permissions are what keep the key)
 */
public record OwnKey(Path store, char[] password, String alias, PrivateKey key, Certificate certificate) {

  private static final Logger LOG = LoggerFactory.getLogger(OwnKey.class);

  /** How to make the key when there is none yet. */
  public record Spec(String alias, String keyAlgorithm, String signatureAlgorithm, String distinguishedName,
                     List<String> extensions) {

    /** RSA 2048 signing SHA256withRSA, as EC2's identity documents are signed. */
    public static Spec rsa(String alias, String distinguishedName) {
      return new Spec(alias, "RSA", "SHA256withRSA", distinguishedName, List.of());
    }

    /** EC P-256 for a TLS server at {@code ip} (its subject alternative name). */
    public static Spec tlsServer(String alias, String distinguishedName, String ip) {
      return new Spec(alias, "EC", "SHA256withECDSA", distinguishedName, List.of("SAN=IP:" + ip));
    }
  }

  /** The key in {@code store}, made first when the file does not exist; blocking (keytool runs the first time). */
  public static OwnKey load(Path store, char[] password, Spec spec)
      throws IOException, GeneralSecurityException, InterruptedException {
    if (!Files.exists(store)) {
      generate(store, password, spec);
    }
    KeyStore keys = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(store)) {
      keys.load(in, password);
    }
    PrivateKey key = (PrivateKey) keys.getKey(spec.alias(), password);
    Certificate certificate = keys.getCertificate(spec.alias());
    if (key == null || certificate == null) {
      throw new GeneralSecurityException(store + " holds no key " + spec.alias() + "; remove it to make a new one");
    }
    return new OwnKey(store, password, spec.alias(), key, certificate);
  }

  /** The certificate, PEM. */
  public String certificatePem() {
    try {
      return "-----BEGIN CERTIFICATE-----\n"
          + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(certificate.getEncoded())
          + "\n-----END CERTIFICATE-----\n";
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot encode the certificate of " + store + ": " + e, e);
    }
  }

  private static void generate(Path store, char[] password, Spec spec) throws IOException, InterruptedException {
    Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
    Path partial = store.resolveSibling(store.getFileName() + ".new");
    Files.createDirectories(store.toAbsolutePath().getParent());
    Files.deleteIfExists(partial);
    // C1 and the serial collector: keytool lives half a second, on machines where every start may make one.
    List<String> command = new ArrayList<>(List.of(keytool.toString(), "-J-XX:TieredStopAtLevel=1",
        "-J-XX:+UseSerialGC", "-genkeypair", "-alias", spec.alias(), "-keyalg", spec.keyAlgorithm(), "-sigalg",
        spec.signatureAlgorithm(), "-validity", "3650", "-dname", spec.distinguishedName(), "-storetype", "PKCS12",
        "-keystore", partial.toString(), "-storepass", new String(password)));
    if (spec.keyAlgorithm().equals("RSA")) {
      command.addAll(List.of("-keysize", "2048"));
    } else {
      command.addAll(List.of("-groupname", "secp256r1"));
    }
    spec.extensions().forEach(extension -> command.addAll(List.of("-ext", extension)));
    Process run = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(run.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!run.waitFor(60, TimeUnit.SECONDS)) {
      run.destroyForcibly();
      throw new IOException("keytool did not make " + store + " within 60 s");
    }
    if (run.exitValue() != 0) {
      throw new IOException("keytool could not make " + store + " (exit " + run.exitValue() + "): " + output.strip());
    }
    Files.setPosixFilePermissions(partial, PosixFilePermissions.fromString("rw-------"));
    Files.move(partial, store);
    LOG.info("made {} ({}, {})", store, spec.keyAlgorithm(), spec.distinguishedName());
  }
}
