package io.fleetvote.common.msg;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.Set;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AgentHeartbeatTest {

  private static final AgentHeartbeat BEAT = new AgentHeartbeat("i-0123456789abcdef0", "demo", "web",
      Set.of(Role.APP, Role.LB), "127.0.0.1", 18080, 18081, 18082, 1_700_000_000_000L, 1_700_000_001_000L, true, "", true);

  @Test
  void survivesTheRoundTripThroughJson() {
    assertThat(AgentHeartbeat.fromJson(BEAT.toJson())).isEqualTo(BEAT);
    assertThat(AgentHeartbeat.fromJson(BEAT.toJson().encode())).isEqualTo(BEAT);
    assertThat(BEAT.toJson().getJsonArray("roles")).isEqualTo(new JsonArray().add("app").add("lb"));
  }

  @Test
  void garbageIsRejectedAsNotAnObject() {
    assertRejected("{not json", "heartbeat");
    assertRejected("[1,2]", "heartbeat");
    assertRejected(42, "heartbeat");
    assertRejected(null, "heartbeat");
  }

  @Test
  void eachBadFieldIsNamed() {
    assertRejected(with(j -> j.remove("instanceId")), "instanceId");
    assertRejected(with(j -> j.put("instanceId", "i-XYZ")), "instanceId");
    assertRejected(with(j -> j.put("instanceId", 7)), "instanceId");
    assertRejected(with(j -> j.put("group", "Web Tier")), "group");
    assertRejected(with(j -> j.put("address", "10.0.0.256")), "address");
    assertRejected(with(j -> j.put("address", "localhost")), "address");
    assertRejected(with(j -> j.put("appPort", 70000)), "appPort");
    assertRejected(with(j -> j.put("appPort", 1.5)), "appPort");
    assertRejected(with(j -> j.put("agentPort", 0)), "agentPort");
    assertRejected(with(j -> j.put("roles", new JsonArray().add("app").add("printer"))), "roles[1]");
    assertRejected(with(j -> j.put("roles", "app")), "roles");
    assertRejected(with(j -> j.put("sentAt", -1)), "sentAt");
    assertRejected(with(j -> j.put("sentAt", 1_600_000_000_000L)), "sentAt");
  }

  private static JsonObject with(Consumer<JsonObject> change) {
    JsonObject json = BEAT.toJson();
    change.accept(json);
    return json;
  }

  private static void assertRejected(Object body, String field) {
    assertThatThrownBy(() -> AgentHeartbeat.fromJson(body))
        .isInstanceOfSatisfying(MessageException.class, e -> assertThat(e.field()).isEqualTo(field))
        .hasMessageStartingWith(field + ": ");
  }
}
