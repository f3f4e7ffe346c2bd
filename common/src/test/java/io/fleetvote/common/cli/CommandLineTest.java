package io.fleetvote.common.cli;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CommandLineTest {

  private final CommandLine cli = new CommandLine("sandbox", "Runs the sandbox.")
      .option("port", "N", "the port", "8600")
      .option("state-dir", "DIR", "where state lives", null)
      .flag("verbose", "say more");

  @Test
  void readsValuesDefaultsAndFlags() {
    CommandLine.Parsed parsed = cli.parse("--state-dir", "/tmp/x", "--verbose");
    assertThat(parsed.intValue("port", 1, 65535)).isEqualTo(8600);
    assertThat(parsed.string("state-dir")).isEqualTo("/tmp/x");
    assertThat(parsed.flag("verbose")).isTrue();
    assertThat(parsed.given("port")).isFalse();
    assertThat(cli.parse("--port=9000").intValue("port", 1, 65535)).isEqualTo(9000);
    assertThat(cli.parse("--help").helpRequested()).isTrue();
  }

  @Test
  void usageListsEveryOptionWithItsDefault() {
    assertThat(cli.usage()).contains("fleetvote sandbox", "--port N", "(default: 8600)", "--state-dir DIR", "(required)",
        "--verbose", "--help");
  }

  @Test
  void mistakesNameTheOption() {
    assertThatThrownBy(() -> cli.parse("--nope")).hasMessage("unknown option --nope");
    assertThatThrownBy(() -> cli.parse("--port")).hasMessage("option --port needs a value (N)");
    assertThatThrownBy(() -> cli.parse("--port", "1", "--port", "2")).hasMessage("option --port is given twice");
    assertThatThrownBy(() -> cli.parse("stray")).hasMessage("unexpected argument 'stray'");
    assertThatThrownBy(() -> cli.parse("--verbose=yes")).hasMessage("option --verbose takes no value");
    assertThatThrownBy(() -> cli.parse().string("state-dir")).hasMessage("option --state-dir is required");
    assertThatThrownBy(() -> cli.parse("--port", "x").intValue("port", 1, 65535))
        .hasMessage("option --port: 'x' is not a whole number");
    assertThatThrownBy(() -> cli.parse("--port", "70000").intValue("port", 1, 65535))
        .hasMessage("option --port: 70000 is out of range [1, 65535]");
  }

  @Test
  void fractionsAreReadAndCheckedAgainstTheirRange() {
    assertThat(cli.parse("--port", "0.25").doubleValue("port", 0.125, 8)).isEqualTo(0.25);
    assertThatThrownBy(() -> cli.parse("--port", "two").doubleValue("port", 0.125, 8))
        .hasMessage("option --port: 'two' is not a number");
    assertThatThrownBy(() -> cli.parse("--port", "0.1").doubleValue("port", 0.125, 8))
        .hasMessage("option --port: 0.1 is out of range [0.125, 8.0]");
    assertThatThrownBy(() -> cli.parse("--port", "NaN").doubleValue("port", 0.125, 8))
        .hasMessage("option --port: NaN is out of range [0.125, 8.0]");
  }
}
