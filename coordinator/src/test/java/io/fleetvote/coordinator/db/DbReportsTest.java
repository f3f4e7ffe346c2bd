package io.fleetvote.coordinator.db;

import io.fleetvote.common.msg.DbStatus;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class DbReportsTest {

  private static final String A = "i-0000000000000000a";
  private static final String B = "i-0000000000000000b";

  @Test
  void theNewestReportOfEachInstanceOfTheDeploymentIsKeptForTheLease() {
    DbReports reports = new DbReports("prod", 3_000);
    assertThat(reports.heard(status(A, "prod", 1_000, DbStatus.Server.STARTING), 1_000)).isTrue();
    assertThat(reports.heard(status(A, "prod", 2_000, DbStatus.Server.UP), 2_000)).isTrue();
    assertThat(reports.heard(status(A, "prod", 1_500, DbStatus.Server.DOWN), 2_100)).as("an older report").isFalse();
    assertThat(reports.heard(status(B, "staging", 2_000, DbStatus.Server.UP), 2_000)).as("another deployment")
        .isFalse();
    assertThat(reports.current(2_500)).singleElement().satisfies(h -> assertThat(h.status().server())
        .isEqualTo(DbStatus.Server.UP));
    assertThat(reports.toJson(2_500).getJsonArray("instances").getJsonObject(0).getLong("ageMillis")).isEqualTo(500);
    assertThat(reports.current(5_001)).as("silent for longer than the lease").isEmpty();
  }

  private static DbStatus status(String id, String deployment, long sentAt, DbStatus.Server server) {
    return DbStatus.unavailable(id, deployment, sentAt, server, "", 3306);
  }
}
