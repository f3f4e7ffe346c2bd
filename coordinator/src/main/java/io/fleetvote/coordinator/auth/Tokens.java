package io.fleetvote.coordinator.auth;

import io.fleetvote.common.auth.Hmac;
import io.fleetvote.coordinator.auth.UsersFile.Role;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.Base64;
import java.util.Locale;
import java.util.Optional;

/**
 * Session cookies and bearer tokens, signed with the users file's secret: {@code <payload>.<HMAC-SHA256>} where the
 * payload names the user, the role and the expiry. Stateless, so any coordinator accepts a token another issued; a
 * user removed from the file or given another role loses the old token's rights at once (checked on each request).
 * The CSRF token of a session is derived from it: a page can send it back in a header, a cross-site form cannot.
 */
public final class Tokens {

  /** What a valid token says. */
  public record Claims(String name, Role role, long expiresAtMillis) {
  }

  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder B64D = Base64.getUrlDecoder();
  private static final SecureRandom RANDOM = new SecureRandom();

  private final byte[] secret;
  private final Clock clock;

  public Tokens(byte[] secret, Clock clock) {
    this.secret = secret.clone();
    this.clock = clock;
  }

  /** A token for {@code name} in {@code role} that expires {@code minutes} from now. */
  public String issue(String name, Role role, long minutes) {
    byte[] nonce = new byte[12];
    RANDOM.nextBytes(nonce);
    String payload = "v1." + B64.encodeToString(name.getBytes(StandardCharsets.UTF_8)) + "."
        + role.name().toLowerCase(Locale.ROOT) + "." + (clock.millis() + minutes * 60_000) + "." + B64.encodeToString(nonce);
    return payload + "." + B64.encodeToString(mac(payload));
  }

  /** The claims of a well-formed, correctly signed, unexpired token; empty otherwise. */
  public Optional<Claims> verify(String token) {
    if (token == null || token.length() > 1024) {
      return Optional.empty();
    }
    int dot = token.lastIndexOf('.');
    if (dot < 0) {
      return Optional.empty();
    }
    String payload = token.substring(0, dot);
    byte[] signature;
    try {
      signature = B64D.decode(token.substring(dot + 1));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
    if (!MessageDigest.isEqual(signature, mac(payload))) {
      return Optional.empty();
    }
    String[] parts = payload.split("\\.", -1);
    if (parts.length != 5 || !parts[0].equals("v1")) {
      return Optional.empty();
    }
    try {
      String name = new String(B64D.decode(parts[1]), StandardCharsets.UTF_8);
      Role role = Role.valueOf(parts[2].toUpperCase(Locale.ROOT));
      long expires = Long.parseLong(parts[3]);
      return expires > clock.millis() ? Optional.of(new Claims(name, role, expires)) : Optional.empty();
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  /** The CSRF token that goes with a session token. */
  public String csrf(String sessionToken) {
    return B64.encodeToString(mac("csrf:" + sessionToken));
  }

  /** True when {@code given} is the CSRF token of {@code sessionToken}; constant time. */
  public boolean csrfMatches(String sessionToken, String given) {
    return given != null && MessageDigest.isEqual(csrf(sessionToken).getBytes(StandardCharsets.US_ASCII),
        given.getBytes(StandardCharsets.US_ASCII));
  }

  private byte[] mac(String text) {
    return Hmac.sha256(secret, text);
  }

}
