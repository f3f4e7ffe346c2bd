package io.fleetvote.common.msg;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The autoscaler's state and the ledger query, as they cross verticles: read back as sent, bad fields named. */
class ScalingStateTest {

  private static final ScalingState STATE = new ScalingState("127.0.0.1:9100",
      new LeadershipState(false, 0, true, "standby: 127.0.0.1:9101 leads in epoch 4", "127.0.0.1:9101", 4),
      List.of(new ScalingState.GroupState("web", 2, 4, 1, 1, 0, 0, new ScalingState.Votes(0, 0, 1, 0),
          List.of(new ScalingState.Member("i-0000000000000000a", "running", "ok", null, false, "10.0.0.7",
              1_764_000_000_000L, "none", 12.5, true, false)), false, List.of(), List.of(),
          List.of("i-0000000000000000a"))));

  @Test
  void aStateReadsBackAsItWasSent() {
    assertThat(ScalingState.fromJson(STATE.toJson())).isEqualTo(STATE);
    assertThat(ScalingState.fromJson(STATE.toJson().encode()).group("web")).isPresent();
    assertThat(STATE.group("shop")).isEmpty();
  }

  @Test
  void aBadFieldIsNamedWithItsPlace() {
    JsonObject bad = STATE.toJson();
    bad.getJsonArray("groups").getJsonObject(0).getJsonArray("members").getJsonObject(0).put("instanceId", "x\n");
    assertThatThrownBy(() -> ScalingState.fromJson(bad)).isInstanceOfSatisfying(MessageException.class,
        e -> assertThat(e.field()).isEqualTo("groups[0].members[0].instanceId"));
    JsonObject noLeader = STATE.toJson();
    noLeader.remove("leadership");
    assertThatThrownBy(() -> ScalingState.fromJson(noLeader)).isInstanceOfSatisfying(MessageException.class,
        e -> assertThat(e.field()).startsWith("leadership"));
    assertThatThrownBy(() -> ScalingState.fromJson("[]")).isInstanceOf(MessageException.class);
  }

  @Test
  void aLedgerQueryHasDefaultsAndBounds() {
    assertThat(LedgerQuery.fromJson(null)).isEqualTo(new LedgerQuery(null, null, LedgerQuery.DEFAULT_LIMIT));
    assertThat(LedgerQuery.fromJson(new LedgerQuery("web", "grow", 5).toJson())).isEqualTo(
        new LedgerQuery("web", "grow", 5));
    assertThatThrownBy(() -> LedgerQuery.fromJson(new JsonObject().put("limit", 0)))
        .isInstanceOfSatisfying(MessageException.class, e -> assertThat(e.field()).isEqualTo("limit"));
    assertThatThrownBy(() -> LedgerQuery.fromJson(new JsonObject().put("outcome", "explode")))
        .isInstanceOfSatisfying(MessageException.class, e -> assertThat(e.field()).isEqualTo("outcome"));
    assertThatThrownBy(() -> LedgerQuery.fromJson(new JsonObject().put("group", "../etc")))
        .isInstanceOfSatisfying(MessageException.class, e -> assertThat(e.field()).isEqualTo("group"));
  }
}
