package io.fleetvote.common.auth;

import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Optional;

/**
 * Password hashes as the users file stores them: {@code pbkdf2-sha256$<iterations>$<salt>$<hash>} (salt and hash in
 * base64), PBKDF2 with HMAC-SHA-256 from the JDK. The iterations are in the hash, so a file can raise them user by
 * user; new hashes use {@link #DEFAULT_ITERATIONS} (OWASP's figure for PBKDF2-HMAC-SHA256).
 */
public final class PasswordHash {

  public static final int DEFAULT_ITERATIONS = 600_000;
  public static final int MIN_ITERATIONS = 1_000;
  private static final String SCHEME = "pbkdf2-sha256";
  private static final int SALT_BYTES = 16;
  private static final int HASH_BITS = 256;
  private static final SecureRandom RANDOM = new SecureRandom();

  private final int iterations;
  private final byte[] salt;
  private final byte[] hash;

  private PasswordHash(int iterations, byte[] salt, byte[] hash) {
    this.iterations = iterations;
    this.salt = salt;
    this.hash = hash;
  }

  /** A new hash of {@code password} with a random salt. */
  public static String hash(String password, int iterations) {
    byte[] salt = new byte[SALT_BYTES];
    RANDOM.nextBytes(salt);
    Base64.Encoder b64 = Base64.getEncoder();
    return SCHEME + "$" + iterations + "$" + b64.encodeToString(salt) + "$"
        + b64.encodeToString(derive(password, salt, iterations));
  }

  /** Reads a stored hash; empty when it is not one this class wrote. */
  public static Optional<PasswordHash> parse(String stored) {
    String[] parts = stored == null ? new String[0] : stored.split("\\$", -1);
    if (parts.length != 4 || !parts[0].equals(SCHEME)) {
      return Optional.empty();
    }
    try {
      int iterations = Integer.parseInt(parts[1]);
      byte[] salt = Base64.getDecoder().decode(parts[2]);
      byte[] hash = Base64.getDecoder().decode(parts[3]);
      if (iterations < MIN_ITERATIONS || salt.length < 8 || hash.length != HASH_BITS / 8) {
        return Optional.empty();
      }
      return Optional.of(new PasswordHash(iterations, salt, hash));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  /** True when {@code password} is the one hashed; compares in constant time. Slow on purpose: not on an event loop. */
  public boolean matches(String password) {
    return MessageDigest.isEqual(hash, derive(password, salt, iterations));
  }

  private static byte[] derive(String password, byte[] salt, int iterations) {
    PBEKeySpec spec = new PBEKeySpec(password.toCharArray(), salt, iterations, HASH_BITS);
    try {
      return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("PBKDF2WithHmacSHA256 is not available in this JDK", e);
    } finally {
      spec.clearPassword();
    }
  }
}
