package io.fleetvote.common;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class LogSafeTest {

  @Test
  void controlCharactersCannotForgeALogLineAndLongTextIsCut() {
    assertThat(LogSafe.printable("ok\n2026-12-01 ERROR forged\u001b[31m")).isEqualTo("ok?2026-12-01 ERROR forged?[31m");
    assertThat(LogSafe.printable("x".repeat(300))).hasSize(LogSafe.DEFAULT_MAX + 3).endsWith("...");
    assertThat(LogSafe.printable("abcdef", 3)).isEqualTo("abc...");
    assertThat(LogSafe.printable(null)).isEqualTo("null");
  }
}
