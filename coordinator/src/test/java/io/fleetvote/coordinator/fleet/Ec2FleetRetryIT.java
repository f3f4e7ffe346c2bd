package io.fleetvote.coordinator.fleet;

import io.vertx.core.Context;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Passing refusals are retried on the caller's context until the retry window closes; lasting ones fail at once. */
class Ec2FleetRetryIT extends FleetSandbox {

  @AfterEach
  void clearFaults() {
    admin.clearFaults();
  }

  @Test
  void throttlingIsRetriedOnTheCallersContextUntilTheLaunchSucceeds() throws Exception {
    Retries retries = new Retries();
    admin.throttle(6);
    Context caller = vertx.getOrCreateContext();

    Completion<List<FleetInstance>> launch = onContext(caller,
        () -> fleet.launch(order("web", 1, "fv-web-e2-d1"), retries));

    assertThat(launch.result()).hasSize(1);
    assertThat(launch.context()).isSameAs(caller);
    assertThat(retries.codes()).isNotEmpty().containsOnly("RequestLimitExceeded");
    assertThat(retries.heard).allSatisfy(retry -> {
      assertThat(retry.context()).isSameAs(caller);
      assertThat(retry.nextIn().toMillis()).isBetween(100L, 1000L);
    });
    assertThat(admin.faults().getJsonObject("throttle").getInteger("remaining")).isZero();
  }

  @Test
  void aCapacityShortageIsRetriedUntilTheLaunchSucceeds() {
    Retries retries = new Retries();
    admin.refuseCapacity(6);
    int before = admin.instances().size();

    List<FleetInstance> launched = await(fleet.launch(order("web", 1, "fv-web-e2-d2"), retries));

    assertThat(launched).hasSize(1);
    assertThat(retries.codes()).isNotEmpty().containsOnly("InsufficientInstanceCapacity");
    assertThat(admin.instances()).hasSize(before + 1);
  }

  @Test
  void aCapacityShortageThatOutlastsTheRetryWindowFailsNamingItAndLaunchesNothing() throws Exception {
    Retries retries = new Retries();
    Ec2Fleet shortWindow = Ec2Fleet.create(vertx, options().setRetryWindowMillis(2000));
    try {
      admin.refuseCapacity();
      int before = admin.instances().size();

      assertThatThrownBy(() -> await(shortWindow.launch(order("web", 1, "fv-web-e2-d3"), retries)))
          .isInstanceOfSatisfying(FleetException.class, e -> {
            assertThat(e.errorCode()).isEqualTo("InsufficientInstanceCapacity");
            assertThat(e.attempts()).isEqualTo(retries.heard.size() + 1);
          })
          .hasMessageContaining("InsufficientInstanceCapacity");

      assertThat(retries.codes()).isNotEmpty().containsOnly("InsufficientInstanceCapacity");
      assertThat(admin.instances()).hasSize(before);
    } finally {
      admin.clearFaults();
      await(shortWindow.close());
    }
  }

  @Test
  void anUnknownImageFailsAtOnce() {
    Retries retries = new Retries();
    long calls = admin.calls("RunInstances");
    LaunchOrder order = new LaunchOrder("web", "ami-0000000000000dead", "t3.micro", 1, "fv-web-e2-d4", null, "app",
        Map.of());

    assertThatThrownBy(() -> await(fleet.launch(order, retries)))
        .isInstanceOfSatisfying(FleetException.class, e -> {
          assertThat(e.errorCode()).isEqualTo("InvalidAMIID.NotFound");
          assertThat(e.attempts()).isEqualTo(1);
        })
        .hasMessageContaining("InvalidAMIID.NotFound");

    assertThat(retries.heard).isEmpty();
    assertThat(admin.calls("RunInstances")).isEqualTo(calls + 1);
  }

  @Test
  void throttlingIsRetriedUntilTheTerminationSucceeds() {
    List<String> launched = ids(await(fleet.launch(order("web", 1, "fv-web-e2-d5"), RetryListener.NONE)));
    Retries retries = new Retries();
    admin.throttle(6);

    await(fleet.terminate(launched, retries));

    assertThat(retries.codes()).isNotEmpty().containsOnly("RequestLimitExceeded");
    assertThat(admin.instance(launched.get(0)).getString("state")).isIn("shutting-down", "terminated");
  }
}
