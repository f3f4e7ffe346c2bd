package io.fleetvote.common.msg;

import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Function;

/** Configuration files in JSON: a mistake is a {@link MessageException} whose field starts with the file's name. */
public final class JsonFiles {

  private JsonFiles() {
  }

  /** Reads {@code file} as one JSON object and hands it to {@code parse}; e.g. {@code users.json: users[1].role}. */
  public static <T> T read(Path file, Function<JsonObject, T> parse) {
    String text;
    try {
      text = Files.readString(file);
    } catch (IOException e) {
      throw new MessageException(file.toString(), "cannot be read: " + e.getMessage());
    }
    try {
      return parse.apply(JsonFields.object(text, "(the whole file)"));
    } catch (MessageException e) {
      throw new MessageException(file + ": " + e.field(), e.problem());
    }
  }
}
