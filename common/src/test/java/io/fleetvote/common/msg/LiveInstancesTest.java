package io.fleetvote.common.msg;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LiveInstancesTest {

  private static final AgentHeartbeat BEAT = new AgentHeartbeat("i-0123456789abcdef0", "demo", "web",
      Set.of(Role.APP), "127.0.0.1", 18080, 18081, 18082, 1_700_000_000_000L, 1_700_000_001_000L, false,
      "refuses connections", false);

  @Test
  void theRegistrysAnswerReadsBackAndEachEntryIsAHeartbeatWithItsAge() {
    LiveInstances live = new LiveInstances(List.of(new LiveInstances.Entry(BEAT, 1200)));
    assertThat(LiveInstances.fromJson(live.toJson().encode())).isEqualTo(live);
    assertThat(live.toJson().getJsonArray("instances").getJsonObject(0).getLong("lastSeenMillisAgo")).isEqualTo(1200);
    assertThat(live.toJson().getJsonArray("instances").getJsonObject(0).getString("appProblem"))
        .isEqualTo("refuses connections");
  }

  @Test
  void aBadEntryIsNamedByItsIndex() {
    var json = new LiveInstances(List.of(new LiveInstances.Entry(BEAT, 1200))).toJson();
    json.getJsonArray("instances").getJsonObject(0).put("lastSeenMillisAgo", -1);
    assertThatThrownBy(() -> LiveInstances.fromJson(json)).isInstanceOfSatisfying(MessageException.class,
        e -> assertThat(e.field()).isEqualTo("instances[0].lastSeenMillisAgo"));
  }
}
