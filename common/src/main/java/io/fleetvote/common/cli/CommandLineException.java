package io.fleetvote.common.cli;

/** A command line that cannot be used; the message says which option and why. */
public final class CommandLineException extends IllegalArgumentException {

  private static final long serialVersionUID = 1L;

  public CommandLineException(String message) {
    super(message);
  }
}
