package io.fleetvote.sandbox.ec2;

import java.util.regex.Pattern;

/** EC2 filter values: {@code *} matches any run of characters, {@code ?} one; everything else is literal. */
public final class Wildcard {

  private Wildcard() {
  }

  public static boolean matches(String pattern, String value) {
    if (value == null) {
      return false;
    }
    if (pattern.indexOf('*') < 0 && pattern.indexOf('?') < 0) {
      return pattern.equals(value);
    }
    StringBuilder regex = new StringBuilder();
    StringBuilder literal = new StringBuilder();
    for (char c : pattern.toCharArray()) {
      if (c == '*' || c == '?') {
        if (literal.length() > 0) {
          regex.append(Pattern.quote(literal.toString()));
          literal.setLength(0);
        }
        regex.append(c == '*' ? ".*" : ".");
      } else {
        literal.append(c);
      }
    }
    if (literal.length() > 0) {
      regex.append(Pattern.quote(literal.toString()));
    }
    return Pattern.compile(regex.toString(), Pattern.DOTALL).matcher(value).matches();
  }
}
