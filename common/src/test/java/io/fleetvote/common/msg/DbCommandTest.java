package io.fleetvote.common.msg;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DbCommandTest {

  private static final String REPLICATION_PASSWORD = "Repl0123456789abcdef";
  private static final String APP_PASSWORD = "App0123456789abcdefgh";
  private static final DbCommand REPLICA = new DbCommand(DbCommand.Op.REPLICA, 7, "wiki", "repl",
      REPLICATION_PASSWORD, "wiki_app", APP_PASSWORD, "10.0.1.17", 3306, true);
  private static final DbCommand MASTER = new DbCommand(DbCommand.Op.MASTER, 7, "wiki", "repl",
      REPLICATION_PASSWORD, "wiki_app", APP_PASSWORD, "", 0, false);

  @Test
  void bothOpsSurviveTheRoundTripThroughJson() {
    assertThat(DbCommand.fromJson(REPLICA.toJson())).isEqualTo(REPLICA);
    assertThat(DbCommand.fromJson(MASTER.toJson().encode())).isEqualTo(MASTER);
    assertThat(REPLICA.toJson().getString("op")).isEqualTo("replica");
  }

  @Test
  void eachBadFieldIsNamed() {
    assertRejected("garbage", "db command");
    assertRejected(REPLICA.toJson().put("op", "primary"), "op");
    assertRejected(REPLICA.toJson().put("epoch", -1), "epoch");
    assertRejected(REPLICA.toJson().put("replicationPassword", "Repl0123'; DROP USER root; --"), "replicationPassword");
    assertRejected(REPLICA.toJson().put("appPassword", "short0123"), "appPassword");
    assertRejected(REPLICA.toJson().put("appUser", "wiki app"), "appUser");
    assertRejected(REPLICA.toJson().put("database", "wiki`; DROP DATABASE mysql"), "database");
    assertRejected(REPLICA.toJson().putNull("masterHost"), "masterHost");
    assertRejected(REPLICA.toJson().put("masterPort", 0), "masterPort");
  }

  @Test
  void aMasterOrPromoteCommandCarriesNoMaster() {
    for (DbCommand.Op op : new DbCommand.Op[] {DbCommand.Op.MASTER, DbCommand.Op.PROMOTE}) {
      assertThatThrownBy(() -> new DbCommand(op, 1, "wiki", "repl", REPLICATION_PASSWORD, "wiki_app",
          APP_PASSWORD, "10.0.1.17", 3306, true))
          .isInstanceOfSatisfying(MessageException.class, e -> assertThat(e.field()).isEqualTo("masterHost"));
    }
    DbCommand promote = new DbCommand(DbCommand.Op.PROMOTE, 8, "wiki", "repl", REPLICATION_PASSWORD, "wiki_app",
        APP_PASSWORD, "", 0, true);
    assertThat(DbCommand.fromJson(promote.toJson().put("masterHost", "ignored"))).isEqualTo(promote);
    assertThat(promote.toJson().getString("op")).isEqualTo("promote");
  }

  @Test
  void aPromotionCarriesThePositionItAppliesFirstAReplicaTheOneItMustNotBePastAndNoOtherCommandOne() {
    DbCommand promote = new DbCommand(DbCommand.Op.PROMOTE, 8, "wiki", "repl", REPLICATION_PASSWORD, "wiki_app",
        APP_PASSWORD, "", 0, true, "0-12-345,1-12-7");
    assertThat(DbCommand.fromJson(promote.toJson())).isEqualTo(promote);
    assertThat(promote.toString()).contains("once 0-12-345,1-12-7 is applied");
    JsonObject plain = promote.toJson();
    plain.remove("gtid");
    assertThat(DbCommand.fromJson(plain).gtid()).as("absent: none").isEmpty();
    assertRejected(promote.toJson().put("gtid", "0-12-345; DROP TABLE x"), "gtid");
    assertRejected(promote.toJson().put("gtid", 12), "gtid");
    DbCommand rejoin = new DbCommand(DbCommand.Op.REPLICA, 1, "wiki", "repl", REPLICATION_PASSWORD, "wiki_app",
        APP_PASSWORD, "10.0.1.17", 3306, true, "0-1-2");
    assertThat(DbCommand.fromJson(rejoin.toJson())).isEqualTo(rejoin);
    assertThat(rejoin.toString()).contains("its binlog not past 0-1-2");
    assertThatThrownBy(() -> new DbCommand(DbCommand.Op.FENCE, 1, "wiki", "repl", REPLICATION_PASSWORD, "wiki_app",
        APP_PASSWORD, "", 0, true, "0-1-2"))
        .isInstanceOfSatisfying(MessageException.class, e -> assertThat(e.field()).isEqualTo("gtid"));
    assertThat(DbCommand.fromJson(MASTER.toJson().put("gtid", "0-1-2")).gtid()).as("not read for a master")
        .isEmpty();
  }

  @Test
  void aPromotionsApplyBoundIsCarriedDefaultsToFiveSecondsAndIsBounded() {
    DbCommand promote = new DbCommand(DbCommand.Op.PROMOTE, 8, "wiki", "repl", REPLICATION_PASSWORD, "wiki_app",
        APP_PASSWORD, "", 0, true, "", 2);
    assertThat(DbCommand.fromJson(promote.toJson())).isEqualTo(promote);
    assertThat(promote.toString()).contains("applying within 2 s");
    JsonObject older = promote.toJson();
    older.remove("applyWaitSeconds");
    assertThat(DbCommand.fromJson(older).applyWaitSeconds()).as("a command without one").isEqualTo(5);
    assertRejected(promote.toJson().put("applyWaitSeconds", 0), "applyWaitSeconds");
    assertRejected(promote.toJson().put("applyWaitSeconds", 301), "applyWaitSeconds");
    assertRejected(promote.toJson().put("applyWaitSeconds", "5"), "applyWaitSeconds");
    assertThatThrownBy(() -> new DbCommand(DbCommand.Op.PROMOTE, 8, "wiki", "repl", REPLICATION_PASSWORD, "wiki_app",
        APP_PASSWORD, "", 0, true, "", 0))
        .isInstanceOfSatisfying(MessageException.class, e -> assertThat(e.field()).isEqualTo("applyWaitSeconds"));
  }

  @Test
  void itsTextHasNoPassword() {
    assertThat(REPLICA.toString()).contains("REPLICA", "epoch 7", "10.0.1.17:3306")
        .doesNotContain(REPLICATION_PASSWORD, APP_PASSWORD);
    assertThat(MASTER.toString()).doesNotContain(REPLICATION_PASSWORD, APP_PASSWORD);
  }

  @Test
  void aRejectionNeverQuotesAPassword() {
    String almost = "Secret0123456789'";
    assertThatThrownBy(() -> DbCommand.fromJson(REPLICA.toJson().put("replicationPassword", almost)))
        .hasMessageNotContaining("Secret0123456789");
  }

  private static void assertRejected(Object body, String field) {
    assertThatThrownBy(() -> DbCommand.fromJson(body))
        .isInstanceOfSatisfying(MessageException.class, e -> assertThat(e.field()).isEqualTo(field));
  }
}
