package io.fleetvote.agent;

import io.fleetvote.agent.lb.LbOptions;
import io.fleetvote.agent.link.LinkOptions;
import io.fleetvote.common.msg.MessageException;
import io.fleetvote.common.msg.Role;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
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
    assertThat(options.getCoordinators().linked()).as("standalone").isFalse();
    assertThat(new AgentOptions(new JsonObject()).toJson()).isEqualTo(options.toJson());
  }

  @Test
  void votingDefaultsAreProductionsInMinutesOnTheHostSensor() {
    AgentOptions options = new AgentOptions();
    assertThat(options.getSensor()).isEqualTo(AgentOptions.Sensor.HOST);
    assertThat(options.getSensorPidFile()).isNull();
    assertThat(options.getSensorCores()).isEqualTo(1.0);
    assertThat(options.getSampleMs()).isEqualTo(1000);
    assertThat(options.getGrowAbove()).isEqualTo(70.0);
    assertThat(options.getGrowAfterMs()).isEqualTo(180_000);
    assertThat(options.getShrinkBelow()).isEqualTo(30.0);
    assertThat(options.getShrinkAfterMs()).isEqualTo(900_000);
    assertThat(options.getWarmupMs()).isEqualTo(120_000);
    assertThat(options.isProtectedFromScaleIn()).isFalse();
    assertThat(options.votePolicy()).isEqualTo(new VotePolicy.Settings(70, Duration.ofMinutes(3), 30,
        Duration.ofMinutes(15), Duration.ofMinutes(2)));
  }

  @Test
  void theProcessSensorNeedsAPidFileAndOnlyItTakesOne() {
    assertRejected(new JsonObject().put("sensor", "process"), "sensorPidFile");
    assertRejected(new JsonObject().put("sensor", "host").put("sensorPidFile", "/run/app.pid"), "sensorPidFile");
    AgentOptions options = new AgentOptions(new JsonObject().put("sensor", "PROCESS")
        .put("sensorPidFile", "/run/app.pid").put("sensorCores", 0.5));
    assertThat(options.getSensor()).isEqualTo(AgentOptions.Sensor.PROCESS);
    assertThat(options.getSensorPidFile()).isEqualTo("/run/app.pid");
    assertThat(options.getSensorCores()).isEqualTo(0.5);
  }

  @Test
  void theCgroupSensorNeedsAPidFileToo() {
    assertRejected(new JsonObject().put("sensor", "cgroup"), "sensorPidFile");
    AgentOptions options = new AgentOptions(new JsonObject().put("sensor", "cgroup")
        .put("sensorPidFile", "/run/app.pid").put("sensorCores", 0.25));
    assertThat(options.getSensor()).isEqualTo(AgentOptions.Sensor.CGROUP);
    assertThat(options.toJson().getString("sensor")).isEqualTo("cgroup");
  }

  @Test
  void everyFieldSurvivesTheRoundTripThroughJson() {
    AgentOptions options = new AgentOptions().setDeployment("demo").setGroup("web").setRoles(Set.of(Role.LB, Role.APP))
        .setGossipPeriodMs(250).setAgentPort(19110).setAppPort(0)
        .setCoordinators(new LinkOptions(List.of("10.0.0.5:9443"),
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", "/var/lib/fleetvote/nonce"))
        .setSensor(AgentOptions.Sensor.PROCESS).setSensorPidFile("/run/app.pid").setSensorCores(2).setSampleMs(500)
        .setGrowAbove(60).setGrowAfterMs(5000).setShrinkBelow(20).setShrinkAfterMs(10_000).setWarmupMs(3000)
        .setProtectedFromScaleIn(true)
        .setLb(new LbOptions(new JsonObject().put("serves", "web").put("haproxyDir", "/var/lib/fleetvote/haproxy")));
    JsonObject json = options.toJson();
    assertThat(new AgentOptions(json).toJson()).isEqualTo(json);
    assertThat(new AgentOptions(options).toJson()).isEqualTo(json);
    assertThat(json.getJsonArray("roles")).isEqualTo(new JsonArray().add("app").add("lb"));
    assertThat(json.getString("sensor")).isEqualTo("process");
    assertThat(new AgentOptions(json).votePolicy()).isEqualTo(new VotePolicy.Settings(60, Duration.ofSeconds(5), 20,
        Duration.ofSeconds(10), Duration.ofSeconds(3)));
  }

  @Test
  void rolesAreReadInAnyCase() {
    assertThat(new AgentOptions(new JsonObject().put("roles", new JsonArray().add("LB").add("db"))
        .put("lb", new JsonObject().put("serves", "web").put("socket", "/run/haproxy.sock"))
        .put("db", new JsonObject().put("dir", "/var/lib/fleetvote/db"))).getRoles())
        .containsExactlyInAnyOrder(Role.LB, Role.DB);
  }

  @Test
  void roleDbNeedsWhereToRunMariaDbAndABadDbSectionIsNamed() {
    assertThatThrownBy(() -> new AgentOptions(new JsonObject().put("roles", new JsonArray().add("db"))))
        .isInstanceOfSatisfying(MessageException.class, e -> assertThat(e.field()).isEqualTo("db"));
    assertThatThrownBy(() -> new AgentOptions(new JsonObject().put("roles", new JsonArray().add("db"))
        .put("db", new JsonObject().put("dir", "/x").put("device", "/etc/passwd"))))
        .isInstanceOfSatisfying(MessageException.class, e -> assertThat(e.field()).isEqualTo("db.device"));
    AgentOptions db = new AgentOptions(new JsonObject().put("roles", new JsonArray().add("db"))
        .put("db", new JsonObject().put("dir", "/x").put("port", 13306)));
    assertThat(db.getDb().getPort()).isEqualTo(13306);
    assertThat(new AgentOptions(db.toJson()).getDb().toJson()).isEqualTo(db.getDb().toJson());
  }

  @Test
  void aUserDataWrittenForAgentsThatJoinedTheClusterIsRefusedNotIgnored() {
    assertThatThrownBy(() -> new AgentOptions(new JsonObject().put("cluster", new JsonObject()
        .put("members", new JsonArray().add("10.0.0.5")))))
        .isInstanceOfSatisfying(MessageException.class, e -> assertThat(e.field()).isEqualTo("cluster"))
        .hasMessageContaining("give 'coordinators'");
  }

  @Test
  void coordinatorsNeedTheirCertificates() {
    assertRejected(new JsonObject().put("coordinators", new JsonObject()
        .put("addresses", new JsonArray().add("10.0.0.5:8443"))), "coordinators.certificates");
    assertRejected(new JsonObject().put("coordinators", new JsonObject()
        .put("addresses", new JsonArray().add("not an address"))), "coordinators.addresses[0]");
  }

  @Test
  void eachBadFieldIsNamed() {
    assertRejected(new JsonObject().put("deployment", "Demo Fleet"), "deployment");
    assertRejected(new JsonObject().put("group", 7), "group");
    assertRejected(new JsonObject().put("roles", "app"), "roles");
    assertRejected(new JsonObject().put("roles", new JsonArray()), "roles");
    assertRejected(new JsonObject().put("roles", new JsonArray().add("lb")), "lb");
    assertRejected(new JsonObject().put("roles", new JsonArray().add("lb")).put("lb", new JsonObject()), "lb.serves");
    assertRejected(new JsonObject().put("roles", new JsonArray().add("app").add("printer")), "roles[1]");
    assertRejected(new JsonObject().put("gossipPeriodMs", 99), "gossipPeriodMs");
    assertRejected(new JsonObject().put("gossipPeriodMs", 60_001), "gossipPeriodMs");
    assertRejected(new JsonObject().put("gossipPeriodMs", 1.5), "gossipPeriodMs");
    assertRejected(new JsonObject().put("agentPort", 0), "agentPort");
    assertRejected(new JsonObject().put("appPort", 65536), "appPort");
    assertRejected(new JsonObject().put("coordinators", "10.0.0.5:8443"), "coordinators");
    assertRejected(new JsonObject().put("sensor", "vm"), "sensor");
    assertRejected(new JsonObject().put("sensor", "process").put("sensorPidFile", 7), "sensorPidFile");
    assertRejected(new JsonObject().put("sensorCores", 0), "sensorCores");
    assertRejected(new JsonObject().put("sensorCores", "2"), "sensorCores");
    assertRejected(new JsonObject().put("sampleMs", 99), "sampleMs");
    assertRejected(new JsonObject().put("sampleMs", 60_001), "sampleMs");
    assertRejected(new JsonObject().put("growAbove", -1), "growAbove");
    assertRejected(new JsonObject().put("growAfterMs", -1), "growAfterMs");
    assertRejected(new JsonObject().put("growAfterMs", 1.5), "growAfterMs");
    assertRejected(new JsonObject().put("shrinkBelow", "low"), "shrinkBelow");
    assertRejected(new JsonObject().put("shrinkAfterMs", 86_400_001), "shrinkAfterMs");
    assertRejected(new JsonObject().put("warmupMs", -5), "warmupMs");
    assertRejected(new JsonObject().put("protectedFromScaleIn", "yes"), "protectedFromScaleIn");
  }

  @Test
  void theShrinkThresholdMustBeBelowTheGrowThreshold() {
    assertRejected(new JsonObject().put("shrinkBelow", 70), "shrinkBelow");
    assertRejected(new JsonObject().put("growAbove", 20), "shrinkBelow");
    assertThat(new AgentOptions(new JsonObject().put("growAbove", 20).put("shrinkBelow", 10)).getGrowAbove())
        .isEqualTo(20.0);
  }

  private static void assertRejected(JsonObject json, String field) {
    assertThatThrownBy(() -> new AgentOptions(json))
        .isInstanceOfSatisfying(MessageException.class, e -> assertThat(e.field()).isEqualTo(field))
        .hasMessageStartingWith(field + ": ");
  }
}
