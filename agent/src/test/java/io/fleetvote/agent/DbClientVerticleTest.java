package io.fleetvote.agent;

import io.fleetvote.common.msg.DbCredentials;
import io.fleetvote.common.msg.LbAnnouncement;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class DbClientVerticleTest {

  @Test
  void theFileNamesTheAccountAndEachLbsDbPorts() {
    DbCredentials credentials = new DbCredentials("prod", "wiki", "fleetvote_app", "Zx81Spectrum128kAtari520");
    List<LbAnnouncement> lbs = List.of(
        new LbAnnouncement("i-00000000000000b01", "prod", "web", "10.0.0.9", 8080, 1, 3000, 3307, 3308),
        new LbAnnouncement("i-00000000000000b02", "prod", "api", "10.0.0.10", 8080, 1, 3000, 3307, 0));
    assertThat(DbClientVerticle.text(credentials, lbs)).endsWith("database=wiki\nuser=fleetvote_app\n"
        + "password=Zx81Spectrum128kAtari520\nwrite=10.0.0.9:3307,10.0.0.10:3307\nread=10.0.0.9:3308\n");
  }
}
