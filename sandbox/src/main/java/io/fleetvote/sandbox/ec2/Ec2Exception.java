package io.fleetvote.sandbox.ec2;

import io.fleetvote.common.LogSafe;

/**
 * An EC2 error: the code the SDK keys on, the HTTP status it retries by, and a message for people.
 * Rendered as EC2's {@code <Response><Errors><Error>} document.
 */
public final class Ec2Exception extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final String code;
  private final int status;

  public Ec2Exception(int status, String code, String message) {
    super(message, null, false, false);
    this.code = code;
    this.status = status;
  }

  public String code() {
    return code;
  }

  public int status() {
    return status;
  }

  public static Ec2Exception missingParameter(String name) {
    return new Ec2Exception(400, "MissingParameter", "The request must contain the parameter " + name);
  }

  public static Ec2Exception invalidValue(String message) {
    return new Ec2Exception(400, "InvalidParameterValue", message);
  }

  public static Ec2Exception invalidValue(String parameter, String value, String why) {
    return invalidValue("Value (" + abbreviate(value) + ") for parameter " + parameter + " is invalid. " + why);
  }

  public static Ec2Exception instancesNotFound(java.util.List<String> ids) {
    return new Ec2Exception(400, "InvalidInstanceID.NotFound", ids.size() == 1
        ? "The instance ID '" + ids.get(0) + "' does not exist"
        : "The instance IDs '" + String.join(", ", ids) + "' do not exist");
  }

  public static Ec2Exception instanceIdMalformed(String id) {
    return new Ec2Exception(400, "InvalidInstanceID.Malformed", "Invalid id: \"" + abbreviate(id) + "\"");
  }

  /** Trims hostile input before it is echoed into a message. */
  public static String abbreviate(String value) {
    return LogSafe.printable(value, 64);
  }
}
