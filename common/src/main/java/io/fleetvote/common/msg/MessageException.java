package io.fleetvote.common.msg;

/**
 * Thrown when a message, request body or configuration file does not have the expected shape.
 * The message always names the offending field, so an operator can find it without a stack trace.
 */
public final class MessageException extends IllegalArgumentException {

  private static final long serialVersionUID = 1L;

  private final String field;
  private final String problem;

  public MessageException(String field, String problem) {
    super(field + ": " + problem);
    this.field = field;
    this.problem = problem;
  }

  /** The name of the field (a dotted path for nested fields) that was wrong. */
  public String field() {
    return field;
  }

  /** What was wrong with it. */
  public String problem() {
    return problem;
  }

  /** The same problem reported for the field inside {@code parent}, e.g. {@code images[0].ports}. */
  public MessageException within(String parent) {
    return new MessageException(parent + "." + field, problem);
  }
}
