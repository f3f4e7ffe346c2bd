package io.fleetvote.common.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import io.fleetvote.common.msg.MessageException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ClusterOptionsTest {

  @Test
  void defaultsSurviveTheRoundTripThroughJson() {
    ClusterOptions options = new ClusterOptions().addMember("127.0.0.1:5801");
    ClusterOptions copy = new ClusterOptions(options.toJson());
    assertThat(copy.toJson()).isEqualTo(options.toJson());
    assertThat(copy.getMaxNoHeartbeatSeconds()).isEqualTo(ClusterOptions.DEFAULT_MAX_NO_HEARTBEAT_SECONDS);
  }

  @Test
  void hazelcastJoinsOnlyByTcpIpOnTheBoundInterface() {
    Config config = ClusterBootstrap.hazelcastConfig(new ClusterOptions().setClusterName("c1")
        .setMembers(List.of("127.0.0.1:5801", "127.0.0.1:5802")));
    JoinConfig join = config.getNetworkConfig().getJoin();
    assertThat(join.getMulticastConfig().isEnabled()).isFalse();
    assertThat(join.getAutoDetectionConfig().isEnabled()).isFalse();
    assertThat(join.getAwsConfig().isEnabled()).isFalse();
    assertThat(join.getTcpIpConfig().isEnabled()).isTrue();
    assertThat(join.getTcpIpConfig().getMembers()).containsExactly("127.0.0.1:5801", "127.0.0.1:5802");
    assertThat(config.getNetworkConfig().getInterfaces().isEnabled()).isTrue();
    assertThat(config.getNetworkConfig().getInterfaces().getInterfaces()).containsExactly("127.0.0.1");
    assertThat(config.getProperty("hazelcast.phone.home.enabled")).isEqualTo("false");
    assertThat(config.getProperty("hazelcast.socket.bind.any")).isEqualTo("false");
    assertThat(config.getProperty("hazelcast.max.no.heartbeat.seconds")).isEqualTo("8");
    // A frozen member's half-open connection starves the output thread it is on: more threads, none moved.
    assertThat(config.getProperty("hazelcast.io.output.thread.count")).isEqualTo("8");
    assertThat(config.getProperty("hazelcast.io.balancer.interval.seconds")).isEqualTo("-1");
    assertThat(config.getProperty("hazelcast.merge.first.run.delay.seconds")).isEqualTo("5");
    assertThat(config.getClusterName()).isEqualTo("c1");
    assertThat(config.getMultiMapConfigs()).containsKey("__vertx.subs");
  }

  @Test
  void onEc2MembersAreFoundByTag() {
    Config config = ClusterBootstrap.hazelcastConfig(new ClusterOptions(new JsonObject()
        .put("host", "10.0.1.17").put("awsDiscovery", true).put("awsTagValue", "prod").put("awsRegion", "eu-west-1")));
    JoinConfig join = config.getNetworkConfig().getJoin();
    assertThat(join.getTcpIpConfig().isEnabled()).isFalse();
    assertThat(join.getMulticastConfig().isEnabled()).isFalse();
    assertThat(join.getAwsConfig().isEnabled()).isTrue();
    assertThat(join.getAwsConfig().getProperty("tag-key")).isEqualTo("fleetvote:deployment");
    assertThat(join.getAwsConfig().getProperty("tag-value")).isEqualTo("prod");
    assertThat(join.getAwsConfig().getProperty("region")).isEqualTo("eu-west-1");
    assertThat(config.getNetworkConfig().getInterfaces().getInterfaces()).containsExactly("10.0.1.17");
  }

  @Test
  void badOptionsNameTheirField() {
    assertRejected(new JsonObject().put("port", 0), "port");
    assertRejected(new JsonObject().put("port", "5701"), "port");
    assertRejected(new JsonObject().put("members", "127.0.0.1"), "members");
    assertRejected(new JsonObject().put("members", new JsonArray().add("127.0.0.1").add("bad host!")), "members[1]");
    assertRejected(new JsonObject().put("clusterName", "has space"), "clusterName");
    assertRejected(new JsonObject().put("heartbeatIntervalSeconds", 5).put("maxNoHeartbeatSeconds", 5),
        "maxNoHeartbeatSeconds");
    assertRejected(new JsonObject().put("awsDiscovery", true), "awsTagValue");
    assertRejected(new JsonObject().put("awsDiscovery", true).put("awsTagValue", "x")
        .put("members", new JsonArray().add("127.0.0.1")), "members");
    assertRejected(new JsonObject().put("keyStore", 42), "keyStore");
  }

  private static void assertRejected(JsonObject json, String field) {
    assertThatThrownBy(() -> new ClusterOptions(json))
        .isInstanceOfSatisfying(MessageException.class, e -> assertThat(e.field()).isEqualTo(field));
  }
}
