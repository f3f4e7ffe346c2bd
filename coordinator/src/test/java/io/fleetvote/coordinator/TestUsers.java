package io.fleetvote.coordinator;

import io.fleetvote.common.auth.PasswordHash;
import io.fleetvote.testkit.SandboxProcess;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;

/** The users of the tests' coordinators: ops (operator) and eve (viewer), and how the tests stop what they start. */
public final class TestUsers {

  public static final String OPS_PASSWORD = "ops-password";
  public static final String EVE_PASSWORD = "eve-password";

  private TestUsers() {
  }

  /** Writes {@code dir/users.json} (cheap hashes: tests log in often) and returns its path. */
  public static Path write(Path dir) throws IOException {
    Path users = dir.resolve("users.json");
    Files.writeString(users, new JsonObject().put("tokenSecret", Base64.getEncoder().encodeToString(new byte[32]))
        .put("users", new JsonArray()
            .add(new JsonObject().put("name", "ops").put("role", "operator")
                .put("passwordHash", PasswordHash.hash(OPS_PASSWORD, 2000)))
            .add(new JsonObject().put("name", "eve").put("role", "viewer")
                .put("passwordHash", PasswordHash.hash(EVE_PASSWORD, 2000)))).encode());
    return users;
  }

  /** Closes the coordinator, then the sandbox, each when it was started, the sandbox even when the first fails. */
  public static void stop(Coordinator coordinator, SandboxProcess sandbox) {
    try {
      if (coordinator != null) {
        coordinator.close().await();
      }
    } finally {
      if (sandbox != null) {
        sandbox.close();
      }
    }
  }
}
