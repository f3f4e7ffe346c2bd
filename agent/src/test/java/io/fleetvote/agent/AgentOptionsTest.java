package io.fleetvote.agent;

import io.fleetvote.common.cluster.ClusterOptions;
import io.fleetvote.common.msg.MessageException;
import io.fleetvote.common.msg.Role;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AgentOptionsTest {

  @Test
  void defaultsAreAStandaloneAppInTheDefaultGroup() {
    AgentOptions options = new AgentOptions();
    assertThat(options.getDeployment()).isEqualTo("default");
    assertThat(options.getGroup()).isEqualTo("default");
    assertThat(options.getRoles()).containsExactly(Role.APP);
    assertThat(options.getGossipPeriodMs()).isEqualTo(1000);
    assertThat(options.getAgentPort()).isEqualTo(9110);
    assertThat(options.getAppPort()).isEqualTo(8080);
    assertThat(options.getCluster().toJson()).isEqualTo(new ClusterOptions().toJson());
    assertThat(options.isClustered()).isFalse();
    assertThat(new AgentOptions(new JsonObject()).toJson()).isEqualTo(options.toJson());
  }

  @Test
  void everyFieldSurvivesTheRoundTripThroughJson() {
    AgentOptions options = new AgentOptions().setDeployment("demo").setGroup("web").setRoles(Set.of(Role.LB, Role.APP))
        .setGossipPeriodMs(250).setAgentPort(19110).setAppPort(0)
        .setCluster(new ClusterOptions().setClusterName("demo").addMember("10.0.0.5:5701"));
    JsonObject json = options.toJson();
    assertThat(new AgentOptions(json).toJson()).isEqualTo(json);
    assertThat(new AgentOptions(options).toJson()).isEqualTo(json);
    assertThat(json.getJsonArray("roles")).isEqualTo(new JsonArray().add("app").add("lb"));
  }

  @Test
  void rolesAreReadInAnyCase() {
    assertThat(new AgentOptions(new JsonObject().put("roles", new JsonArray().add("LB").add("db"))).getRoles())
        .containsExactlyInAnyOrder(Role.LB, Role.DB);
  }

  @Test
  void clusteringNeedsMembersOrAwsDiscovery() {
    assertThat(new AgentOptions().setCluster(new ClusterOptions().addMember("10.0.0.5")).isClustered()).isTrue();
    assertThat(new AgentOptions().setCluster(new ClusterOptions().setAwsDiscovery(true).setAwsTagValue("demo"))
        .isClustered()).isTrue();
    assertThat(new AgentOptions().setCluster(new ClusterOptions().setClusterName("demo")).isClustered()).isFalse();
  }

  @Test
  void eachBadFieldIsNamed() {
    assertRejected(new JsonObject().put("deployment", "Demo Fleet"), "deployment");
    assertRejected(new JsonObject().put("group", 7), "group");
    assertRejected(new JsonObject().put("roles", "app"), "roles");
    assertRejected(new JsonObject().put("roles", new JsonArray()), "roles");
    assertRejected(new JsonObject().put("roles", new JsonArray().add("app").add("printer")), "roles[1]");
    assertRejected(new JsonObject().put("gossipPeriodMs", 99), "gossipPeriodMs");
    assertRejected(new JsonObject().put("gossipPeriodMs", 60_001), "gossipPeriodMs");
    assertRejected(new JsonObject().put("gossipPeriodMs", 1.5), "gossipPeriodMs");
    assertRejected(new JsonObject().put("agentPort", 0), "agentPort");
    assertRejected(new JsonObject().put("appPort", 65536), "appPort");
    assertRejected(new JsonObject().put("cluster", "10.0.0.5"), "cluster");
    assertRejected(new JsonObject().put("cluster", new JsonObject().put("port", 0)), "cluster.port");
    assertRejected(new JsonObject().put("cluster", new JsonObject().put("members", new JsonArray().add("a b"))),
        "cluster.members[0]");
  }

  private static void assertRejected(JsonObject json, String field) {
    assertThatThrownBy(() -> new AgentOptions(json))
        .isInstanceOfSatisfying(MessageException.class, e -> assertThat(e.field()).isEqualTo(field))
        .hasMessageStartingWith(field + ": ");
  }
}
