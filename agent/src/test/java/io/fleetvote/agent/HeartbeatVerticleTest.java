package io.fleetvote.agent;

import io.fleetvote.common.Addresses;
import io.fleetvote.common.msg.AgentHeartbeat;
import io.fleetvote.common.msg.Role;
import io.fleetvote.common.time.ManualClock;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Checkpoint;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Instant;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
class HeartbeatVerticleTest {

  @Test
  void heartbeatsSayWhoTheAgentIsAndKeepComingEveryGossipPeriod(Vertx vertx, VertxTestContext tc) {
    ManualClock clock = new ManualClock(Instant.ofEpochMilli(1_700_000_005_000L));
    AgentOptions options = new AgentOptions().setDeployment("demo").setGroup("web").setRoles(Set.of(Role.LB))
        .setGossipPeriodMs(100).setAgentPort(19110).setAppPort(0);
    AgentHeartbeat expected = new AgentHeartbeat("i-0123456789abcdef0", "demo", "web", Set.of(Role.LB), "127.0.0.1",
        0, 19110, 0, 1_700_000_000_000L, 1_700_000_005_000L, false, "", false);
    Checkpoint threeHeartbeats = tc.checkpoint(3);
    vertx.eventBus().<JsonObject>consumer(Addresses.AGENT_HEARTBEATS, message -> tc.verify(() -> {
      assertThat(AgentHeartbeat.fromJson(message.body())).isEqualTo(expected);
      threeHeartbeats.flag();
    })).completion()
        .compose(registered -> vertx.deployVerticle(new HeartbeatVerticle(AgentApiVerticleTest.IDENTITY, options,
            1_700_000_000_000L, clock, new InstanceState())))
        .onFailure(tc::failNow);
  }
}
