package io.fleetvote.coordinator.auth;

import io.fleetvote.common.auth.PasswordHash;
import io.fleetvote.common.msg.JsonFields;
import io.fleetvote.common.msg.JsonFiles;
import io.fleetvote.common.msg.MessageException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.file.Path;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Who may use the dashboard and the API: a JSON file every coordinator reads at start,
 * <pre>{"tokenSecret": "&lt;base64, at least 32 bytes&gt;", "sessionMinutes": 480,
 *  "users": [{"name": "ops", "role": "operator", "passwordHash": "pbkdf2-sha256$600000$...$..."}]}</pre>
 * Roles: {@code viewer} (reads) and {@code operator} (reads and acts). {@code tokenSecret} signs session cookies and
 * bearer tokens, so any coordinator of the deployment accepts what another issued. A mistake stops the coordinator
 * with the file and the field named. {@code ./fleetvote hash-password} prints a hash for a password read from stdin.
 */
public final class UsersFile {

  public enum Role { VIEWER, OPERATOR }

  public record User(String name, Role role, PasswordHash password) {
  }

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._@-]{1,64}");
  private static final Set<String> FIELDS = Set.of("tokenSecret", "sessionMinutes", "users");
  private static final Set<String> USER_FIELDS = Set.of("name", "role", "passwordHash");

  private final Map<String, User> users;
  private final byte[] tokenSecret;
  private final long sessionMinutes;

  private UsersFile(Map<String, User> users, byte[] tokenSecret, long sessionMinutes) {
    this.users = Map.copyOf(users);
    this.tokenSecret = tokenSecret.clone();
    this.sessionMinutes = sessionMinutes;
  }

  public static UsersFile read(Path file) {
    return JsonFiles.read(file, UsersFile::parse);
  }

  public static UsersFile parse(JsonObject json) {
    unknownFields(json, FIELDS, "");
    byte[] secret;
    try {
      secret = Base64.getDecoder().decode(JsonFields.string(json, "tokenSecret", 1024, null));
    } catch (IllegalArgumentException e) {
      throw new MessageException("tokenSecret", "is not base64");
    }
    if (secret.length < 32) {
      throw new MessageException("tokenSecret", "must hold at least 32 random bytes (has " + secret.length + ")");
    }
    long minutes = JsonFields.longValue(json, "sessionMinutes", 1, 7 * 24 * 60, 480);
    if (!(json.getValue("users") instanceof JsonArray list)) {
      throw new MessageException("users", json.getValue("users") == null ? "is missing" : "must be a list");
    }
    Map<String, User> users = new LinkedHashMap<>();
    for (int i = 0; i < list.size(); i++) {
      String at = "users[" + i + "]";
      if (!(list.getValue(i) instanceof JsonObject item)) {
        throw new MessageException(at, "must be an object");
      }
      try {
        unknownFields(item, USER_FIELDS, "");
        String name = JsonFields.string(item, "name", 64, NAME);
        Role role = JsonFields.enumValue(item, "role", Role.class);
        String stored = JsonFields.string(item, "passwordHash", 1024, null);
        PasswordHash hash = PasswordHash.parse(stored).orElseThrow(() -> new MessageException("passwordHash",
            "is not a hash from ./fleetvote hash-password (pbkdf2-sha256$iterations$salt$hash, at least "
                + PasswordHash.MIN_ITERATIONS + " iterations)"));
        if (users.put(name, new User(name, role, hash)) != null) {
          throw new MessageException("name", "'" + name + "' is listed twice");
        }
      } catch (MessageException e) {
        throw e.within(at);
      }
    }
    if (users.isEmpty()) {
      throw new MessageException("users", "lists nobody: nobody could log in");
    }
    return new UsersFile(users, secret, minutes);
  }

  private static void unknownFields(JsonObject json, Set<String> known, String at) {
    for (String field : json.fieldNames()) {
      if (!known.contains(field)) {
        throw new MessageException(at + field, "is not a known setting (known: " + known.stream().sorted().toList()
            + ")");
      }
    }
  }

  public Optional<User> user(String name) {
    return Optional.ofNullable(name == null ? null : users.get(name));
  }

  byte[] tokenSecret() {
    return tokenSecret.clone();
  }

  public long sessionMinutes() {
    return sessionMinutes;
  }
}
