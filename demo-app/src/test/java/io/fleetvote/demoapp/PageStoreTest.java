package io.fleetvote.demoapp;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PageStoreTest {

  private static final String FILE = "# agent\ndatabase=wiki\nuser=fleetvote_app\npassword=Zx81Spectrum128kAtari520\n"
      + "write=10.0.0.9:3307,10.0.0.10:3307\nread=10.0.0.9:3308\n";

  @TempDir
  Path dir;

  @Test
  void theAgentsFileGivesTheLbsWritePortsInOrder() {
    PageStore.Config config = PageStore.parse(FILE);
    assertThat(config.endpoints()).containsExactly("10.0.0.9:3307", "10.0.0.10:3307");
    assertThat(config.database()).isEqualTo("wiki");
    assertThat(config.user()).isEqualTo("fleetvote_app");
    assertThat(config.password()).isEqualTo("Zx81Spectrum128kAtari520");
  }

  @Test
  void aBadFileIsNamedWithoutThePassword() {
    assertThatThrownBy(() -> PageStore.parse(FILE.replace("password=Zx81Spectrum128kAtari520\n", "")))
        .hasMessage("no password");
    assertThatThrownBy(() -> PageStore.parse(FILE.replace("10.0.0.10:3307", "10.0.0.10;DROP")))
        .hasMessageContaining("write must be host:port").hasMessageNotContaining("Zx81");
    assertThatThrownBy(() -> PageStore.parse(FILE.replace("database=wiki", "database=wiki?allowLoadLocalInfile")))
        .hasMessageContaining("letters, digits");
    assertThatThrownBy(() -> PageStore.parse("\\u12")).hasMessageContaining("not a properties file");
  }

  @Test
  void untilTheFileIsThereTheAppHasNoDatabaseAndABadOneIsNotTaken() throws Exception {
    Path file = dir.resolve("db-client.properties");
    PageStore store = new PageStore(file, 0.2, 10);
    assertThat(store.reload(null)).isNull();
    assertThat(store.configured()).isFalse();
    Files.writeString(file, "database=wiki\n");
    assertThat(store.reload(null)).isEqualTo("database=wiki\n");
    assertThat(store.configured()).as("a file without an account").isFalse();
    assertThatThrownBy(() -> new PageStore(file, 1.5, 10)).hasMessageContaining("between 0 and 1");
  }
}
