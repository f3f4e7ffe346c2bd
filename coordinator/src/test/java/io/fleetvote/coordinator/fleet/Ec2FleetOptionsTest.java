package io.fleetvote.coordinator.fleet;

import io.fleetvote.common.msg.MessageException;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.net.URI;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class Ec2FleetOptionsTest {

  @Test
  void theDefaultsAreAwsWithFiveMinutesOfRetries() {
    FleetOptions options = new FleetOptions(new JsonObject());
    assertThat(options.getDeployment()).isNull();
    assertThat(options.getEndpoint()).isNull();
    assertThat(options.getRegion()).isNull();
    assertThat(options.getRetryWindowMillis()).isEqualTo(300_000);
    assertThat(options.getFirstRetryDelayMillis()).isEqualTo(1000);
    assertThat(options.getMaxRetryDelayMillis()).isEqualTo(30_000);
    assertThat(options.getCallTimeoutMillis()).isEqualTo(30_000);
    assertThat(options.toJson()).isEqualTo(new FleetOptions().toJson());
    assertThat(options.toJson().containsKey("deployment")).isFalse();
  }

  @Test
  void everyFieldSurvivesTheRoundTripThroughJson() {
    FleetOptions options = new FleetOptions().setDeployment("demo").setEndpoint(URI.create("http://127.0.0.1:8600"))
        .setRegion("eu-west-1").setRetryWindowMillis(0).setFirstRetryDelayMillis(50).setMaxRetryDelayMillis(50)
        .setCallTimeoutMillis(5000);
    JsonObject json = options.toJson();
    assertThat(json.getString("endpoint")).isEqualTo("http://127.0.0.1:8600");
    assertThat(new FleetOptions(json).toJson()).isEqualTo(json);
    assertThat(new FleetOptions(options).toJson()).isEqualTo(json);
  }

  @Test
  void eachBadFieldIsNamed() {
    assertRejected(demo().put("deployment", "Demo Fleet"), "deployment");
    assertRejected(demo().put("endpoint", "127.0.0.1:8600"), "endpoint");
    assertRejected(demo().put("endpoint", "http://exa mple"), "endpoint");
    assertRejected(demo().put("endpoint", 8600), "endpoint");
    assertRejected(demo().put("region", "Mars"), "region");
    assertRejected(demo().put("retryWindowMillis", -1), "retryWindowMillis");
    assertRejected(demo().put("retryWindowMillis", 1.5), "retryWindowMillis");
    assertRejected(demo().put("firstRetryDelayMillis", 0), "firstRetryDelayMillis");
    assertRejected(demo().put("maxRetryDelayMillis", 500), "maxRetryDelayMillis");
    assertRejected(demo().put("callTimeoutMillis", 99), "callTimeoutMillis");
  }

  @Test
  void creatingAFleetNeedsAValidDeploymentAndValidatesOptionsSetInCode() {
    assertThatThrownBy(() -> Ec2Fleet.create(null, new FleetOptions()))
        .isInstanceOfSatisfying(MessageException.class, e -> assertThat(e.field()).isEqualTo("deployment"));
    assertThatThrownBy(() -> Ec2Fleet.create(null, new FleetOptions().setDeployment("Demo Fleet")))
        .isInstanceOfSatisfying(MessageException.class, e -> assertThat(e.field()).isEqualTo("deployment"));
    assertThatThrownBy(() -> Ec2Fleet.create(null, new FleetOptions().setDeployment("demo").setCallTimeoutMillis(0)))
        .isInstanceOfSatisfying(MessageException.class, e -> assertThat(e.field()).isEqualTo("callTimeoutMillis"));
  }

  private static JsonObject demo() {
    return new JsonObject().put("deployment", "demo");
  }

  private static void assertRejected(JsonObject json, String field) {
    assertThatThrownBy(() -> new FleetOptions(json))
        .isInstanceOfSatisfying(MessageException.class, e -> assertThat(e.field()).isEqualTo(field))
        .hasMessageStartingWith(field + ": ");
  }
}
