package io.fleetvote.load.db;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PasswordFileTest {

  private static final String SECRET = "Zq8sVb2LmN4xT7kP";

  @TempDir
  Path dir;

  @Test
  void aFileOfJustThePasswordGivesItWithoutItsLineBreak() throws IOException {
    Path file = Files.writeString(dir.resolve("password"), SECRET + "\n");

    assertThat(PasswordFile.read(file)).isEqualTo(SECRET);
  }

  @Test
  void aCoordinatorsTopologyFileGivesItsAppPassword() throws IOException {
    Path file = Files.writeString(dir.resolve("db-db.json"), new JsonObject().put("masterSlot", 1)
        .put("replicationPassword", "other").put("appPassword", SECRET).encodePrettily());

    assertThat(PasswordFile.read(file)).isEqualTo(SECRET);
  }

  @Test
  void jsonWithoutAppPasswordIsRefusedNamingTheFieldAndNotShowingTheFile() throws IOException {
    Path file = Files.writeString(dir.resolve("db-db.json"), new JsonObject().put("replicationPassword", SECRET)
        .encode());

    assertThatThrownBy(() -> PasswordFile.read(file)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(file.toString()).hasMessageContaining("appPassword")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain(SECRET));
  }

  @Test
  void brokenJsonIsRefusedWithoutQuotingIt() throws IOException {
    Path file = Files.writeString(dir.resolve("db-db.json"), "{\"appPassword\": \"" + SECRET);

    assertThatThrownBy(() -> PasswordFile.read(file)).hasMessageContaining("is not a JSON object")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain(SECRET));
  }

  @Test
  void anUnreadableFileIsRefusedNamingIt() {
    Path missing = dir.resolve("nowhere");

    assertThatThrownBy(() -> PasswordFile.read(missing)).hasMessage("cannot read the password file " + missing
        + " (NoSuchFileException)");
  }

  @Test
  void anEmptyFileOrOneOfSeveralLinesIsRefused() throws IOException {
    Path empty = Files.writeString(dir.resolve("empty"), " \n");
    Path lines = Files.writeString(dir.resolve("lines"), SECRET + "\nsecond\n");

    assertThatThrownBy(() -> PasswordFile.read(empty)).hasMessageContaining("is empty");
    assertThatThrownBy(() -> PasswordFile.read(lines)).hasMessageContaining("more than one line")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain(SECRET));
  }
}
