package io.fleetvote.agent;

import io.fleetvote.agent.AgentOptionSources.Source;
import io.fleetvote.common.msg.MessageException;
import io.fleetvote.common.msg.Role;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AgentOptionSourcesTest {

  private static final Map<String, String> TAGS = Map.of("fleetvote:deployment", "tagged",
      "fleetvote:group", "tagged-group", "fleetvote:role", "app, lb", "Name", "web-1");

  @Test
  void commandLineBeatsConfigFileBeatsUserDataBeatsTagsBeatsDefaults() {
    AgentOptions options = AgentOptionSources.resolve(List.of(
        AgentOptionSources.commandLine(new JsonObject().put("agentPort", 19110)),
        AgentOptionSources.configFile("agent.json",
            "{\"fleetvote\": {\"agentPort\": 29110, \"appPort\": 18080}}"),
        userData("{\"fleetvote\": {\"appPort\": 28080, \"group\": \"web\","
            + " \"lb\": {\"serves\": \"web\", \"haproxyDir\": \"/var/lib/fleetvote/haproxy\"}}}"),
        AgentOptionSources.tags(TAGS)));
    assertThat(options.getAgentPort()).isEqualTo(19110);
    assertThat(options.getAppPort()).isEqualTo(18080);
    assertThat(options.getGroup()).isEqualTo("web");
    assertThat(options.getDeployment()).isEqualTo("tagged");
    assertThat(options.getRoles()).containsExactlyInAnyOrder(Role.APP, Role.LB);
    assertThat(options.getGossipPeriodMs()).isEqualTo(AgentOptions.DEFAULT_GOSSIP_PERIOD_MS);
  }

  @Test
  void withNoSourcesTheDefaultsHold() {
    assertThat(AgentOptionSources.resolve(List.of(AgentOptionSources.commandLine(new JsonObject()),
        AgentOptionSources.tags(Map.of()))).toJson()).isEqualTo(new AgentOptions().toJson());
  }

  @Test
  void coordinatorsFieldsAreTakenOneByOne() {
    String pem = "-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n";
    AgentOptions options = AgentOptionSources.resolve(List.of(
        AgentOptionSources.configFile("agent.json", "{\"fleetvote\": {\"coordinators\": {\"nonceFile\": \"/var/lib/n\"}}}"),
        userData("{\"fleetvote\": {\"coordinators\": {\"addresses\": [\"10.0.0.5:8443\"], \"certificates\": \""
            + pem + "\"}}}")));
    assertThat(options.getCoordinators().nonceFile()).isEqualTo("/var/lib/n");
    assertThat(options.getCoordinators().addresses()).containsExactly("10.0.0.5:8443");
    assertThat(options.getCoordinators().linked()).isTrue();
  }

  @Test
  void userDataThatIsNotFleetvoteJsonIsIgnored() {
    assertThat(AgentOptionSources.userData("")).isEmpty();
    assertThat(AgentOptionSources.userData("#!/bin/bash\nyum -y install httpd\n")).isEmpty();
    assertThat(AgentOptionSources.userData("[1, 2]")).isEmpty();
    assertThat(AgentOptionSources.userData("42")).isEmpty();
    assertThat(AgentOptionSources.userData("null")).isEmpty();
    assertThat(AgentOptionSources.userData("{\"chef\": {\"runlist\": []}}")).isEmpty();
  }

  @Test
  void aBadUserDataFieldIsNamedByItsPathInTheUserData() {
    assertRejected(() -> resolve(userData("{\"fleetvote\": {\"group\": \"Web Tier\"}}")), "user-data fleetvote.group");
    assertRejected(() -> resolve(userData("{\"fleetvote\": {\"coordinators\": {\"addresses\": [\"no port\"]}}}")),
        "user-data fleetvote.coordinators.addresses[0]");
    assertRejected(() -> AgentOptionSources.userData("{\"fleetvote\": \"yes\"}"), "user-data fleetvote");
  }

  @Test
  void votingWindowsComeFromTheUserDataAndTheSensorFromTheCommandLine() {
    AgentOptions options = resolve(
        AgentOptionSources.commandLine(new JsonObject().put("sensor", "process").put("sensorPidFile", "/i/app.pid")),
        userData("{\"fleetvote\": {\"growAfterMs\": 5000, \"warmupMs\": 0, \"sensor\": \"host\"}}"));
    assertThat(options.getSensor()).isEqualTo(AgentOptions.Sensor.PROCESS);
    assertThat(options.getSensorPidFile()).isEqualTo("/i/app.pid");
    assertThat(options.getGrowAfterMs()).isEqualTo(5000);
    assertThat(options.getWarmupMs()).isZero();
    assertThat(options.getShrinkAfterMs()).isEqualTo(AgentOptions.DEFAULT_SHRINK_AFTER_MS);
  }

  @Test
  void aBadVotingFieldIsNamedByItsSource() {
    assertRejected(() -> resolve(userData("{\"fleetvote\": {\"shrinkBelow\": 90}}")), "user-data fleetvote.shrinkBelow");
    assertRejected(() -> resolve(AgentOptionSources.commandLine(new JsonObject().put("sensor", "vm"))),
        "command line sensor");
  }

  @Test
  void aBadConfigFileIsNamedByItsPath() {
    assertRejected(() -> AgentOptionSources.configFile("/etc/agent.json", "gossip=1"), "config file /etc/agent.json");
    assertRejected(() -> AgentOptionSources.configFile("/etc/agent.json", "{\"group\": \"web\"}"),
        "config file /etc/agent.json fleetvote");
    assertRejected(() -> resolve(AgentOptionSources.configFile("/etc/agent.json",
        "{\"fleetvote\": {\"gossipPeriodMs\": 5}}")), "config file /etc/agent.json fleetvote.gossipPeriodMs");
  }

  @Test
  void aBadTagIsNamedByItsKey() {
    assertRejected(() -> resolve(AgentOptionSources.tags(Map.of("fleetvote:role", "app,printer"))), "tag fleetvote:role");
    assertRejected(() -> resolve(AgentOptionSources.tags(Map.of("fleetvote:group", "Web"))), "tag fleetvote:group");
    assertRejected(() -> resolve(AgentOptionSources.tags(Map.of("fleetvote:deployment", "a_b"))),
        "tag fleetvote:deployment");
  }

  @Test
  void aBadValueThatIsOverriddenIsNeverUsedNorChecked() {
    AgentOptions options = resolve(userData("{\"fleetvote\": {\"group\": \"web\"}}"),
        AgentOptionSources.tags(Map.of("fleetvote:group", "Web Tier")));
    assertThat(options.getGroup()).isEqualTo("web");
  }

  @Test
  void aRuleSpanningFieldsThatNoSourceBrokeAloneIsNamedPlainly() {
    assertRejected(() -> resolve(userData("{\"fleetvote\": {\"coordinators\": {\"addresses\": [\"10.0.0.5:9443\"]}}}")),
        "coordinators.certificates");
  }

  private static Source userData(String text) {
    return AgentOptionSources.userData(text).orElseThrow();
  }

  private static AgentOptions resolve(Source... highestFirst) {
    return AgentOptionSources.resolve(List.of(highestFirst));
  }

  private static void assertRejected(Runnable reading, String field) {
    assertThatThrownBy(reading::run)
        .isInstanceOfSatisfying(MessageException.class, e -> assertThat(e.field()).isEqualTo(field))
        .hasMessageStartingWith(field + ": ");
  }
}
