package io.fleetvote.common.msg;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DbStatusTest {

  private static final DbStatus REPLICA = new DbStatus("i-0123456789abcdef0", "prod", 1_000, DbStatus.Server.UP, "",
      13306, 2, true, DbStatus.Thread.YES, DbStatus.Thread.YES, "0-1-114", "0-1-114", "0-2-3,1-1-7", 0, 42, false,
      true, 0, "");

  @Test
  void aReportRoundTripsAndAReplicaIsOneThatReplicates() {
    assertThat(DbStatus.fromJson(REPLICA.toJson())).isEqualTo(REPLICA);
    assertThat(REPLICA.replica()).isTrue();
    DbStatus down = DbStatus.unavailable("i-0123456789abcdef0", "prod", 5, DbStatus.Server.NO_VOLUME,
        "/dev/sdf is not attached yet", 13306);
    assertThat(DbStatus.fromJson(down.toJson())).isEqualTo(down);
    assertThat(down.replica()).isFalse();
    assertThat(DbStatus.Thread.of("Connecting")).isEqualTo(DbStatus.Thread.CONNECTING);
    assertThat(DbStatus.Thread.of(null)).isEqualTo(DbStatus.Thread.NONE);
  }

  @Test
  void eachBadFieldIsNamed() {
    JsonObject good = REPLICA.toJson();
    assertBad(good.copy().put("instanceId", "x-1"), "instanceId");
    assertBad(good.copy().put("server", "exploded"), "server");
    assertBad(good.copy().put("gtidSlavePos", "0-1-114; DROP TABLE x"), "gtidSlavePos");
    assertBad(good.copy().put("gtidIoPos", 7), "gtidIoPos");
    assertBad(good.copy().put("lagSeconds", -5), "lagSeconds");
    assertBad(good.copy().put("port", 0), "port");
    assertBad(good.copy().put("problem", "x".repeat(DbStatus.MAX_TEXT_LENGTH + 1)), "problem");
    assertBad(withoutDeployment(good), "deployment");
    assertThatThrownBy(() -> DbStatus.fromJson("not json")).isInstanceOf(MessageException.class);
  }

  @Test
  void positionsNoMariaDbReportsAreRejectedNamingTheField() {
    JsonObject good = REPLICA.toJson();
    assertThatThrownBy(() -> DbStatus.fromJson(good.copy().put("gtidSlavePos", "0-1-120")))
        .isInstanceOfSatisfying(MessageException.class, e -> assertThat(e.field()).isEqualTo("gtidSlavePos"))
        .hasMessageContaining("applied 0-1-120, received 0-1-114");
    assertThat(DbStatus.fromJson(good.copy().put("gtidSlavePos", "0-1-120").put("ioThread", "no")).gtidSlavePos())
        .as("its IO thread stopped: an operator may have set the applied position").isEqualTo("0-1-120");
    assertThat(DbStatus.fromJson(good.copy().put("gtidSlavePos", "0-1-110,5-3-9")).gtidSlavePos())
        .as("behind, and a domain it does not receive").isEqualTo("0-1-110,5-3-9");
    assertBad(good.copy().put("gtidBinlogPos", "0-2-3,0-1-7"), "gtidBinlogPos");
    assertBad(good.copy().put("gtidIoPos", "0-4294967296-1"), "gtidIoPos");
    assertBad(good.copy().put("gtidIoPos", "0-1-99999999999999999999"), "gtidIoPos");
    assertThatThrownBy(() -> DbStatus.fromJson(good.copy().put("gtidBinlogPos", "7-2-3,7-1-7")))
        .hasMessageContaining("lists domain 7 twice");
  }

  private static JsonObject withoutDeployment(JsonObject json) {
    JsonObject copy = json.copy();
    copy.remove("deployment");
    return copy;
  }

  private static void assertBad(JsonObject json, String field) {
    assertThatThrownBy(() -> DbStatus.fromJson(json)).isInstanceOf(MessageException.class)
        .hasMessageContaining(field);
  }
}
