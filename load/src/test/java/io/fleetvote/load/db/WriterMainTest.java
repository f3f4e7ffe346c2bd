package io.fleetvote.load.db;

import io.fleetvote.common.cli.CommandLineException;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class WriterMainTest {

  private static final String SECRET = "Zq8sVb2LmN4xT7kP";

  @TempDir
  Path dir;
  private String passwordFile;

  @BeforeEach
  void writePassword() throws IOException {
    passwordFile = Files.writeString(dir.resolve("password"), SECRET).toString();
  }

  @Test
  void onlyThePortAndThePasswordAreRequiredAndTheRestDefaultsToAClosedLoopOnOneConnection() {
    WriterOptions options = WriterMain.options("--port", "3307", "--password-file", passwordFile);

    assertThat(options.host()).isEqualTo("127.0.0.1");
    assertThat(options.port()).isEqualTo(3307);
    assertThat(options.database()).isEqualTo("wiki");
    assertThat(options.user()).isEqualTo("fleetvote_app");
    assertThat(options.password()).isEqualTo(SECRET);
    assertThat(options.table()).isEqualTo("fleetvote_writes");
    assertThat(options.openLoop()).isFalse();
    assertThat(options.connections()).isEqualTo(1);
    assertThat(options.duration()).isEqualTo(Duration.ofSeconds(30));
    assertThat(options.acked()).isNull();
  }

  @Test
  void aRateMakesAnOpenLoopOnSixteenConnectionsUnlessToldOtherwise() {
    assertThat(WriterMain.options("--port", "1", "--password-file", passwordFile, "--rate", "200").connections())
        .isEqualTo(WriterMain.DEFAULT_OPEN_LOOP_CONNECTIONS);
    WriterOptions options = WriterMain.options("--port", "1", "--password-file", passwordFile, "--rate", "200",
        "--connections", "4", "--seconds", "0", "--acked", dir.resolve("acked").toString(), "--table", "w2");

    assertThat(options.openLoop()).isTrue();
    assertThat(options.rate()).isEqualTo(200);
    assertThat(options.connections()).isEqualTo(4);
    assertThat(options.duration()).isZero();
    assertThat(options.acked()).isEqualTo(dir.resolve("acked"));
    assertThat(options.table()).isEqualTo("w2");
  }

  @Test
  void theTopologyFileIsAPasswordFileToo() throws IOException {
    Path topology = Files.writeString(dir.resolve("db-db.json"), new JsonObject().put("appPassword", SECRET).encode());

    assertThat(WriterMain.options("--port", "1", "--password-file", topology.toString()).password()).isEqualTo(SECRET);
  }

  @Test
  void theOptionsNeverShowThePassword() {
    assertThat(WriterMain.options("--port", "1", "--password-file", passwordFile).toString()).doesNotContain(SECRET)
        .contains("fleetvote_app@127.0.0.1:1/wiki.fleetvote_writes");
  }

  @Test
  void badInputIsRefusedNamingWhatWasWrong() throws IOException {
    Path noField = Files.writeString(dir.resolve("db-db.json"), "{\"replicationPassword\": \"x\"}");

    assertThatThrownBy(() -> WriterMain.options("--password-file", passwordFile))
        .isInstanceOf(CommandLineException.class).hasMessage("option --port is required");
    assertThatThrownBy(() -> WriterMain.options("--port", "1", "--password-file", passwordFile, "--speed", "2"))
        .hasMessage("unknown option --speed");
    assertThatThrownBy(() -> WriterMain.options("--port", "1", "--password-file", dir.resolve("none").toString()))
        .isInstanceOf(CommandLineException.class).hasMessageStartingWith("option --password-file: cannot read");
    assertThatThrownBy(() -> WriterMain.options("--port", "1", "--password-file", noField.toString()))
        .isInstanceOf(CommandLineException.class).hasMessageContaining("without a text field appPassword");
    assertThatThrownBy(() -> WriterMain.options("--port", "1", "--password-file", passwordFile, "--table", "a;b"))
        .isInstanceOf(CommandLineException.class).hasMessageContaining("table 'a;b' is not a plain name");
    assertThatThrownBy(() -> WriterMain.options("--port", "70000", "--password-file", passwordFile))
        .hasMessageContaining("--port: 70000 is out of range");
    assertThatThrownBy(() -> WriterMain.options("--port", "1", "--password-file", passwordFile, "--rate", "0"))
        .hasMessageContaining("--rate: 0 is out of range");
  }
}
