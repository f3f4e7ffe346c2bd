package io.fleetvote.common;

import java.util.regex.Pattern;

/** Shapes of the identifiers Fleetvote accepts from the wire; anything else is rejected before use. */
public final class Ids {

  private Ids() {
  }

  /** An EC2 instance id: {@code i-} and 8 or 17 lowercase hex digits. */
  public static final Pattern INSTANCE_ID = Pattern.compile("i-(?:[0-9a-f]{8}|[0-9a-f]{17})");

  /** An EC2 image id: {@code ami-} and 8 or 17 lowercase hex digits. */
  public static final Pattern IMAGE_ID = Pattern.compile("ami-(?:[0-9a-f]{8}|[0-9a-f]{17})");

  /** An EBS volume id: {@code vol-} and 8 or 17 lowercase hex digits. */
  public static final Pattern VOLUME_ID = Pattern.compile("vol-(?:[0-9a-f]{8}|[0-9a-f]{17})");

  /** A deployment or group name: lowercase, digits and dashes, as it appears in tags and HAProxy names. */
  public static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");

  /** A dotted IPv4 address. */
  public static final Pattern IPV4 =
      Pattern.compile("(?:(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){3}(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)");
}
