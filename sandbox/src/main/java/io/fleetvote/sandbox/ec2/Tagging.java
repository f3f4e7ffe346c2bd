package io.fleetvote.sandbox.ec2;

import java.util.List;
import java.util.Map;

/** EC2's tag rules: a key of 1 to 128 characters not starting with {@code aws:}, a value of up to 256. */
final class Tagging {

  private static final int MAX_KEY = 128;
  private static final int MAX_VALUE = 256;

  private Tagging() {
  }

  /** Reads {@code Key}/{@code Value} structs into {@code into}, rejecting what EC2 rejects. */
  static void read(List<Map<String, String>> structs, Map<String, String> into) {
    for (Map<String, String> tag : structs) {
      String key = tag.get("Key");
      String value = tag.getOrDefault("Value", "");
      if (key == null || key.isEmpty()) {
        throw Ec2Exception.missingParameter("Tag.N.Key");
      }
      if (key.length() > MAX_KEY || !printable(key)) {
        throw Ec2Exception.invalidValue("Tag key '" + Ec2Exception.abbreviate(key)
            + "' must be 1 to " + MAX_KEY + " characters without control characters");
      }
      if (key.toLowerCase().startsWith("aws:")) {
        throw Ec2Exception.invalidValue("Tag keys starting with 'aws:' are reserved for internal use");
      }
      if (value.length() > MAX_VALUE || !printable(value)) {
        throw Ec2Exception.invalidValue("Tag value for key '" + Ec2Exception.abbreviate(key)
            + "' must be at most " + MAX_VALUE + " characters without control characters");
      }
      if (into.containsKey(key)) {
        throw Ec2Exception.invalidValue("Duplicate tag key '" + Ec2Exception.abbreviate(key) + "'");
      }
      into.put(key, value);
    }
  }

  private static boolean printable(String text) {
    return text.chars().noneMatch(c -> c < 0x20 || c == 0x7f || c == 0xFFFE || c == 0xFFFF);
  }
}
