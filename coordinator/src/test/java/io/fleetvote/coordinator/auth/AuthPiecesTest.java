package io.fleetvote.coordinator.auth;

import io.fleetvote.common.auth.PasswordHash;
import io.fleetvote.common.msg.MessageException;
import io.fleetvote.common.time.ManualClock;
import io.fleetvote.coordinator.auth.UsersFile.Role;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Base64;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Password hashes, the users file, signed tokens and the login throttle, on a fixed clock. */
class AuthPiecesTest {

  static final String SECRET = Base64.getEncoder().encodeToString(new byte[32]);

  @Test
  void aHashMatchesItsPasswordOnlyAndCarriesItsIterations() {
    String stored = PasswordHash.hash("correct horse", 2000);
    assertThat(stored).startsWith("pbkdf2-sha256$2000$");
    PasswordHash hash = PasswordHash.parse(stored).orElseThrow();
    assertThat(hash.matches("correct horse")).isTrue();
    assertThat(hash.matches("correct horse ")).isFalse();
    assertThat(PasswordHash.hash("correct horse", 2000)).as("salted").isNotEqualTo(stored);
    assertThat(PasswordHash.parse("md5$abc")).isEmpty();
    assertThat(PasswordHash.parse("pbkdf2-sha256$10$AAAAAAAAAAA=$AAAA")).as("too few iterations").isEmpty();
    assertThat(PasswordHash.parse("pbkdf2-sha256$2000$***$***")).isEmpty();
    assertThat(PasswordHash.parse(null)).isEmpty();
  }

  @Test
  void theUsersFileIsReadAndEachMistakeIsNamed() {
    String hash = PasswordHash.hash("pw", 2000);
    JsonObject good = new JsonObject().put("tokenSecret", SECRET).put("users", new JsonArray()
        .add(new JsonObject().put("name", "ops").put("role", "operator").put("passwordHash", hash))
        .add(new JsonObject().put("name", "eve").put("role", "VIEWER").put("passwordHash", hash)));
    UsersFile users = UsersFile.parse(good);
    assertThat(users.user("ops").orElseThrow().role()).isEqualTo(Role.OPERATOR);
    assertThat(users.user("eve").orElseThrow().role()).isEqualTo(Role.VIEWER);
    assertThat(users.user("mallory")).isEmpty();
    assertThat(users.sessionMinutes()).isEqualTo(480);

    assertRejected(good.copy().put("tokenSecret", "c2hvcnQ="), "tokenSecret", "at least 32");
    assertRejected(good.copy().put("tokenSecret", "%%%"), "tokenSecret", "base64");
    assertRejected(good.copy().put("admins", 1), "admins", "not a known setting");
    assertRejected(good.copy().put("users", new JsonArray()), "users", "nobody");
    assertRejected(good.copy().put("sessionMinutes", 0), "sessionMinutes", "out of range");
    JsonObject badRole = good.copy();
    badRole.getJsonArray("users").getJsonObject(1).put("role", "root");
    assertRejected(badRole, "users[1].role", "root");
    JsonObject plain = good.copy();
    plain.getJsonArray("users").getJsonObject(0).put("passwordHash", "hunter2");
    assertRejected(plain, "users[0].passwordHash", "hash-password");
    JsonObject twice = good.copy();
    twice.getJsonArray("users").getJsonObject(1).put("name", "ops");
    assertRejected(twice, "users[1].name", "listed twice");
    JsonObject badName = good.copy();
    badName.getJsonArray("users").getJsonObject(0).put("name", "o ps");
    assertRejected(badName, "users[0].name", "");
  }

  @Test
  void aTokenNamesItsUserAndRoleUntilItExpiresAndAnyChangeBreaksIt() {
    ManualClock clock = new ManualClock(Instant.parse("2026-11-25T12:00:00Z"));
    Tokens tokens = new Tokens(new byte[32], clock);
    String token = tokens.issue("ops", Role.OPERATOR, 10);
    Tokens.Claims claims = tokens.verify(token).orElseThrow();
    assertThat(claims.name()).isEqualTo("ops");
    assertThat(claims.role()).isEqualTo(Role.OPERATOR);
    assertThat(new Tokens(new byte[32], clock).verify(token)).as("another coordinator, same secret").isPresent();
    byte[] other = new byte[32];
    other[0] = 1;
    assertThat(new Tokens(other, clock).verify(token)).as("another secret").isEmpty();
    String forged = token.replace(".operator.", ".viewer.");
    assertThat(tokens.verify(forged)).isEmpty();
    assertThat(tokens.verify(token.substring(0, token.length() - 2) + "AA")).isEmpty();
    assertThat(tokens.verify("garbage")).isEmpty();
    assertThat(tokens.verify("")).isEmpty();
    assertThat(tokens.csrfMatches(token, tokens.csrf(token))).isTrue();
    assertThat(tokens.csrfMatches(token, tokens.csrf(tokens.issue("ops", Role.OPERATOR, 10)))).isFalse();
    assertThat(tokens.csrfMatches(token, null)).isFalse();
    clock.advance(Duration.ofMinutes(10));
    assertThat(tokens.verify(token)).as("expired").isEmpty();
  }

  @Test
  void failedLoginsLockTheNameAndTheAddressForLongerEachTimeAndASuccessClearsThem() {
    ManualClock clock = new ManualClock(Instant.parse("2026-11-25T12:00:00Z"));
    LoginThrottle throttle = new LoginThrottle(clock);
    for (int i = 0; i < LoginThrottle.FREE_FAILURES - 1; i++) {
      throttle.failed("ops", "10.0.0.1");
      assertThat(throttle.lockedFor("ops", "10.0.0.1")).isEmpty();
    }
    throttle.failed("ops", "10.0.0.1");
    assertThat(throttle.lockedFor("ops", "10.0.0.9")).as("the name, from anywhere").contains(1000L);
    assertThat(throttle.lockedFor("eve", "10.0.0.1")).as("the address, for any name").contains(1000L);
    assertThat(throttle.lockedFor("eve", "10.0.0.9")).isEmpty();
    clock.advance(Duration.ofSeconds(1));
    assertThat(throttle.lockedFor("ops", "10.0.0.1")).isEmpty();
    throttle.failed("ops", "10.0.0.1");
    assertThat(throttle.lockedFor("ops", "10.0.0.1")).contains(2000L);
    for (int i = 0; i < 30; i++) {
      throttle.failed("ops", "10.0.0.1");
    }
    assertThat(throttle.lockedFor("ops", "10.0.0.1")).contains(LoginThrottle.MAX_LOCK_MILLIS);
    throttle.succeeded("ops", "10.0.0.1");
    assertThat(throttle.lockedFor("ops", "10.0.0.1")).isEmpty();
  }

  private static void assertRejected(JsonObject json, String field, String problem) {
    assertThatThrownBy(() -> UsersFile.parse(json)).isInstanceOfSatisfying(MessageException.class, e -> {
      assertThat(e.field()).isEqualTo(field);
      assertThat(e.getMessage()).contains(problem);
    });
  }
}
