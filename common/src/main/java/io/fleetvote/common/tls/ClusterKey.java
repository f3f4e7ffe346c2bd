package io.fleetvote.common.tls;

import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.net.PfxOptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.List;

/**
 * The key the coordinators of one deployment share (a PKCS12 file, made once by {@code ./fleetvote cluster-key} and
 * copied to each): their clustered event bus is TLS with client certificates, each presenting it and trusting only
 * it, so a process without it can neither send on their bus nor receive from it. The file's permissions keep the key
 * (owner-only); its store password is a constant, as a PEM key has none.
 */
public final class ClusterKey {

  public static final String ALIAS = "fleetvote-cluster";
  private static final String PASSWORD = "fleetvote-cluster";
  private static final OwnKey.Spec SPEC = new OwnKey.Spec(ALIAS, "EC", "SHA256withECDSA",
      "CN=Fleetvote coordinators", List.of());

  private ClusterKey() {
  }

  /** The cluster key in {@code file}, made first when there is none; blocking (keytool). */
  public static OwnKey make(Path file) throws IOException, GeneralSecurityException, InterruptedException {
    return OwnKey.load(file, PASSWORD.toCharArray(), SPEC);
  }

  /** The cluster key in {@code file}, which must exist: a coordinator that made its own would talk to nobody. */
  public static OwnKey load(Path file) throws IOException, GeneralSecurityException, InterruptedException {
    if (!Files.isRegularFile(file)) {
      throw new IOException("no cluster key at " + file + " (make one with ./fleetvote cluster-key --file FILE and give "
          + "every coordinator the same file)");
    }
    return OwnKey.load(file, PASSWORD.toCharArray(), SPEC);
  }

  /**
   * A secret derived from the cluster key, the same at every coordinator that holds it: what they sign agents'
   * session credentials with (HMAC), so any of them checks a credential another handed out.
   */
  public static byte[] sessionKey(OwnKey key) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      digest.update("fleetvote agent session key\n".getBytes(StandardCharsets.US_ASCII));
      return digest.digest(key.key().getEncoded());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Makes {@code eventBus} TLS with the key in {@code file}: it presents it, and requires and trusts only it. */
  public static EventBusOptions secure(EventBusOptions eventBus, Path file) {
    String path = file.toAbsolutePath().toString();
    return eventBus.setSsl(true)
        .setKeyCertOptions(new PfxOptions().setPath(path).setPassword(PASSWORD).setAlias(ALIAS))
        .setTrustOptions(new PfxOptions().setPath(path).setPassword(PASSWORD))
        .setClientAuth(ClientAuth.REQUIRED);
  }
}
