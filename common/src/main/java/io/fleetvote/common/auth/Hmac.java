package io.fleetvote.common.auth;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** HMAC-SHA256, the one way Fleetvote signs what it hands out (API tokens, agents' session credentials). */
public final class Hmac {

  private Hmac() {
  }

  /** HMAC-SHA256 of {@code text} (UTF-8) under {@code key}. */
  public static byte[] sha256(byte[] key, String text) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(text.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available in this JDK", e);
    }
  }
}
