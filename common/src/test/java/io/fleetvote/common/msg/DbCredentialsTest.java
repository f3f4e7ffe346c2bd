package io.fleetvote.common.msg;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DbCredentialsTest {

  private static final DbCredentials CREDENTIALS = new DbCredentials("prod", "wiki", "fleetvote_app",
      "Zx81Spectrum128kAtari520");

  @Test
  void credentialsRoundTripAndNeverShowThePassword() {
    assertThat(DbCredentials.fromJson(CREDENTIALS.toJson())).isEqualTo(CREDENTIALS);
    assertThat(CREDENTIALS.toString()).contains("wiki", "fleetvote_app").doesNotContain("Zx81");
  }

  @Test
  void aBadFieldIsNamedWithoutItsValue() {
    assertThatThrownBy(() -> DbCredentials.fromJson(CREDENTIALS.toJson().put("password", "short'; DROP")))
        .isInstanceOf(MessageException.class).hasMessageContaining("password").hasMessageNotContaining("DROP");
    assertThatThrownBy(() -> DbCredentials.fromJson(CREDENTIALS.toJson().put("database", "wiki; DROP")))
        .isInstanceOf(MessageException.class).hasMessageContaining("database");
    assertThatThrownBy(() -> DbCredentials.fromJson(CREDENTIALS.toJson().remove("user")))
        .isInstanceOf(MessageException.class);
    assertThatThrownBy(() -> DbCredentials.fromJson(42)).isInstanceOf(MessageException.class);
  }

  @Test
  void anAnnouncementWithoutDbPortsStillReads() {
    LbAnnouncement old = new LbAnnouncement("i-00000000000000b01", "prod", "web", "10.0.0.9", 8080, 1, 3000);
    assertThat(LbAnnouncement.fromJson(old.toJson().copy().put("dbWritePort", null).put("dbReadPort", null)))
        .isEqualTo(old);
    LbAnnouncement withDb = new LbAnnouncement("i-00000000000000b01", "prod", "web", "10.0.0.9", 8080, 1, 3000,
        3307, 3308);
    assertThat(LbAnnouncement.fromJson(withDb.toJson())).isEqualTo(withDb);
    assertThatThrownBy(() -> LbAnnouncement.fromJson(withDb.toJson().put("dbWritePort", 70000)))
        .isInstanceOf(MessageException.class).hasMessageContaining("dbWritePort");
  }
}
