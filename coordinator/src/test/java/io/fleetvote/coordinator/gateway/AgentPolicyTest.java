package io.fleetvote.coordinator.gateway;

import io.fleetvote.common.Addresses;
import io.fleetvote.common.msg.AgentHeartbeat;
import io.fleetvote.common.msg.DbStatus;
import io.fleetvote.common.msg.DeregisterRequest;
import io.fleetvote.common.msg.LbAnnouncement;
import io.fleetvote.common.msg.RegisterRequest;
import io.fleetvote.common.msg.Role;
import io.fleetvote.common.msg.Vote;
import io.fleetvote.common.msg.VoteKind;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.Optional;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class AgentPolicyTest {

  private static final String A = "i-0000000000000000a";
  private static final String B = "i-0000000000000000b";
  private static final String LB = "i-00000000000000001";
  private static final AgentPolicy.Binding APP = new AgentPolicy.Binding(A, "prod", "web", Set.of(Role.APP));
  private static final AgentPolicy.Binding BALANCER = new AgentPolicy.Binding(LB, "prod", "lb", Set.of(Role.LB));

  @Test
  void anAppAgentSendsItsOwnHeartbeatVotesAndRegistrations() {
    assertThat(AgentPolicy.send(APP, Addresses.AGENT_HEARTBEATS, heartbeat(A, "web"))).isEmpty();
    assertThat(AgentPolicy.send(APP, Addresses.VOTES, vote(A, "prod", "web"))).isEmpty();
    assertThat(AgentPolicy.send(APP, Addresses.lbRegister(LB),
        new RegisterRequest(A, "web", "10.0.0.5", 8080).toJson())).isEmpty();
    assertThat(AgentPolicy.send(APP, Addresses.lbDeregister(LB), new DeregisterRequest(A, 1000).toJson())).isEmpty();
  }

  @Test
  void aMessageForAnotherInstanceDeploymentOrGroupIsRefused() {
    assertThat(reason(AgentPolicy.send(APP, Addresses.VOTES, vote(B, "prod", "web")))).isEqualTo("instance");
    assertThat(reason(AgentPolicy.send(APP, Addresses.VOTES, vote(A, "staging", "web")))).isEqualTo("instance");
    assertThat(reason(AgentPolicy.send(APP, Addresses.VOTES, vote(A, "prod", "api")))).isEqualTo("instance");
    assertThat(reason(AgentPolicy.send(APP, Addresses.AGENT_HEARTBEATS, heartbeat(B, "web")))).isEqualTo("instance");
    assertThat(reason(AgentPolicy.send(APP, Addresses.lbRegister(LB),
        new RegisterRequest(B, "web", "10.0.0.6", 8080).toJson()))).isEqualTo("instance");
    assertThat(reason(AgentPolicy.send(APP, Addresses.lbDeregister(LB), new DeregisterRequest(B, 1000).toJson())))
        .isEqualTo("instance");
  }

  @Test
  void whatARoleDoesNotSendIsRefusedAndSoAreTheCoordinatorsOwnAddresses() {
    assertThat(reason(AgentPolicy.send(APP, Addresses.LB_ANNOUNCEMENTS, announcement(A)))).isEqualTo("role");
    assertThat(reason(AgentPolicy.send(BALANCER, Addresses.VOTES, vote(LB, "prod", "lb")))).isEqualTo("role");
    assertThat(AgentPolicy.send(BALANCER, Addresses.LB_ANNOUNCEMENTS, announcement(LB))).isEmpty();
    for (String address : new String[] {Addresses.SCALING_COMMAND, Addresses.coordinatorCommands("c1"),
        Addresses.LEADERSHIP, Addresses.agentDrain(B), Addresses.UI_SNAPSHOT, "fleetvote.lb.x.y.register"}) {
      assertThat(reason(AgentPolicy.send(APP, address, new JsonObject()))).as(address).isEqualTo("address");
    }
  }

  @Test
  void aDbAgentSendsItsOwnStatusAndNoOneElseSendsOne() {
    String db = "i-000000000000000db";
    AgentPolicy.Binding database = new AgentPolicy.Binding(db, "prod", "db", Set.of(Role.DB));
    JsonObject own = DbStatus.unavailable(db, "prod", 1000, DbStatus.Server.DOWN, "not started", 3306).toJson();
    assertThat(AgentPolicy.send(database, Addresses.DB_STATUS, own)).isEmpty();
    assertThat(reason(AgentPolicy.send(database, Addresses.DB_STATUS,
        DbStatus.unavailable(B, "prod", 1000, DbStatus.Server.DOWN, "", 3306).toJson()))).isEqualTo("instance");
    assertThat(reason(AgentPolicy.send(APP, Addresses.DB_STATUS,
        DbStatus.unavailable(A, "prod", 1000, DbStatus.Server.UP, "", 3306).toJson()))).isEqualTo("role");
    assertThat(reason(AgentPolicy.send(database, Addresses.DB_STATUS, own.copy().put("gtidBinlogPos", "0-1-x"))))
        .isEqualTo("invalid");
    assertThat(reason(AgentPolicy.send(database, Addresses.VOTES, vote(db, "prod", "db")))).isEqualTo("role");
    // The leader's commands, with the pair's passwords, reach that DB agent alone; no agent may send one.
    assertThat(AgentPolicy.subscribe(database, Addresses.dbControl(db))).isEmpty();
    assertThat(reason(AgentPolicy.subscribe(database, Addresses.dbControl(B)))).isEqualTo("address");
    assertThat(reason(AgentPolicy.subscribe(APP, Addresses.dbControl(A)))).isEqualTo("role");
    assertThat(reason(AgentPolicy.send(APP, Addresses.dbControl(db), new JsonObject()))).isEqualTo("address");
  }

  @Test
  void aBodyThatIsNotTheRecordIsRefusedAsInvalid() {
    assertThat(reason(AgentPolicy.send(APP, Addresses.VOTES, new JsonObject().put("instanceId", A))))
        .isEqualTo("invalid");
  }

  @Test
  void anAgentReceivesWhatIsAddressedToItOrItsRole() {
    assertThat(AgentPolicy.subscribe(APP, Addresses.agentDrain(A))).isEmpty();
    assertThat(AgentPolicy.subscribe(APP, Addresses.LB_ANNOUNCEMENTS)).isEmpty();
    assertThat(reason(AgentPolicy.subscribe(APP, Addresses.agentDrain(B)))).isEqualTo("address");
    assertThat(AgentPolicy.subscribe(APP, Addresses.agentSecrets(A))).as("its own credentials").isEmpty();
    assertThat(reason(AgentPolicy.subscribe(APP, Addresses.agentSecrets(B)))).as("another's").isEqualTo("address");
    assertThat(reason(AgentPolicy.subscribe(BALANCER, Addresses.agentSecrets(A)))).isEqualTo("address");
    assertThat(reason(AgentPolicy.send(APP, Addresses.agentSecrets(A), new JsonObject()))).as("no agent sends them")
        .isEqualTo("address");
    assertThat(reason(AgentPolicy.subscribe(APP, Addresses.AGENT_HEARTBEATS))).isEqualTo("role");
    assertThat(reason(AgentPolicy.subscribe(APP, Addresses.VOTES))).isEqualTo("address");
    assertThat(AgentPolicy.subscribe(BALANCER, Addresses.AGENT_HEARTBEATS)).isEmpty();
    assertThat(AgentPolicy.subscribe(BALANCER, Addresses.DB_ROUTES)).isEmpty();
    assertThat(reason(AgentPolicy.subscribe(APP, Addresses.DB_ROUTES))).isEqualTo("role");
    assertThat(reason(AgentPolicy.send(BALANCER, Addresses.DB_ROUTES, new JsonObject()))).isEqualTo("address");
    assertThat(AgentPolicy.subscribe(BALANCER, Addresses.lbRegister(LB))).isEmpty();
    assertThat(reason(AgentPolicy.subscribe(BALANCER, Addresses.lbRegister(A)))).isEqualTo("address");
  }

  private static String reason(Optional<AgentPolicy.Refusal> refusal) {
    return refusal.orElseThrow(() -> new AssertionError("not refused")).reason();
  }

  private static JsonObject vote(String instanceId, String deployment, String group) {
    long now = 1_000_000;
    return new Vote(instanceId, deployment, group, VoteKind.GROW, 90, true, false, 0, now, 3000).toJson();
  }

  private static JsonObject heartbeat(String instanceId, String group) {
    return new AgentHeartbeat(instanceId, "prod", group, Set.of(Role.APP), "10.0.0.5", 8080, 9090, 9091, 0, 1000,
        true, null, false).toJson();
  }

  private static JsonObject announcement(String instanceId) {
    return new LbAnnouncement(instanceId, "prod", "web", "10.0.0.1", 80, 1000, 3000).toJson();
  }
}
