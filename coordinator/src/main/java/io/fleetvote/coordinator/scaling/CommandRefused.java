package io.fleetvote.coordinator.scaling;

/** An operator's action refused, and the HTTP status that says why (400, 404, 409, 502, 503). */
public final class CommandRefused extends RuntimeException {

  private final int status;

  public CommandRefused(int status, String message) {
    super(message, null, false, false);
    this.status = status;
  }

  public int status() {
    return status;
  }
}
