package io.fleetvote.common.auth;

import java.security.SecureRandom;

/** Generated passwords: letters and digits only, so that they need no quoting in SQL or configuration files. */
public final class Passwords {

  private static final String ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

  private Passwords() {
  }

  /** {@code length} characters of {@code random}: 32 of them hold 190 bits. */
  public static String random(SecureRandom random, int length) {
    StringBuilder password = new StringBuilder(length);
    for (int i = 0; i < length; i++) {
      password.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
    }
    return password.toString();
  }
}
