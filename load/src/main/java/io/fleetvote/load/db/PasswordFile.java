package io.fleetvote.load.db;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The writer's password, from a file that holds just the password (one line), or from a coordinator's topology file
 * ({@code <data dir>/db-<name>.json}), whose {@code appPassword} is the application account's. Errors name the file and
 * what is wrong with it, never its content: a password never reaches an error message or a log.
 */
public final class PasswordFile {

  /** The topology file's field that holds the application account's password. */
  public static final String APP_PASSWORD = "appPassword";

  private PasswordFile() {
  }

  /** The password in {@code file}; {@link IllegalArgumentException} naming the file when there is none. */
  public static String read(Path file) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read the password file " + file + " ("
          + e.getClass().getSimpleName() + ")");
    }
    String password = text.strip().startsWith("{") ? fromTopology(file, text) : text.strip();
    if (password.isEmpty()) {
      throw new IllegalArgumentException("the password file " + file + " is empty");
    }
    if (password.contains("\n") || password.contains("\r")) {
      throw new IllegalArgumentException("the password file " + file + " holds more than one line: it should hold "
          + "just the password, or be a coordinator's db-<name>.json");
    }
    return password;
  }

  private static String fromTopology(Path file, String text) {
    JsonObject json;
    try {
      json = new JsonObject(text);
    } catch (DecodeException e) {
      // The parser's message quotes the text it choked on: not repeated here.
      throw new IllegalArgumentException("the password file " + file + " starts with '{' but is not a JSON object");
    }
    Object password = json.getValue(APP_PASSWORD);
    if (!(password instanceof String)) {
      throw new IllegalArgumentException("the password file " + file + " is JSON without a text field "
          + APP_PASSWORD + " (a coordinator's <data dir>/db-<name>.json has one)");
    }
    return ((String) password).strip();
  }
}
