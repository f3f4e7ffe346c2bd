package io.fleetvote.coordinator.scaling;

import io.fleetvote.common.time.ManualClock;
import io.fleetvote.coordinator.fleet.FleetInstance;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class FleetViewTest {

  private static final Instant T0 = Instant.parse("2026-11-25T12:00:00Z");
  private final ManualClock clock = new ManualClock(T0);
  private final FleetView view = new FleetView(30_000);

  @Test
  void aLaunchTheDescribeDoesNotListYetStaysUntilItIsOld() {
    FleetInstance a = instance("i-0000000000000000a", "web", "running", 0);
    view.described(List.of(a), clock.millis(), clock.millis());
    FleetInstance launched = instance("i-0000000000000000b", "web", "pending", clock.millis());
    view.launched(List.of(launched));
    assertThat(view.members("web")).containsExactlyInAnyOrder(a, launched);

    clock.advanceMillis(29_999);
    assertThat(view.described(List.of(a), clock.millis(), clock.millis())).containsExactlyInAnyOrder(a.instanceId(),
        launched.instanceId());
    clock.advanceMillis(1);
    assertThat(view.described(List.of(a), clock.millis(), clock.millis())).containsExactly(a.instanceId());
    assertThat(view.members("web")).containsExactly(a);
  }

  @Test
  void terminatedInstancesLeaveAtOnceAndTheIndexFollowsEveryChange() {
    FleetInstance a = instance("i-0000000000000000a", "web", "running", 0);
    FleetInstance lb = instance("i-0000000000000000c", "lb", "running", 0);
    assertThat(view.known()).isFalse();
    view.described(List.of(a, lb), 1000, 1500);
    assertThat(view.known()).isTrue();
    assertThat(view.describedAt()).isEqualTo(1000);
    assertThat(view.members("web")).containsExactly(a);
    assertThat(view.members("lb")).containsExactly(lb);
    assertThat(view.members("nope")).isEmpty();

    view.terminated(List.of(a.instanceId()));
    assertThat(view.members("web")).isEmpty();
    assertThat(view.get(a.instanceId())).isEmpty();
    assertThat(view.get(lb.instanceId())).contains(lb);
  }

  @Test
  void aLateAnswerNeverMovesTheDescribeTimeBack() {
    view.described(List.of(), 5000, 5100);
    view.described(List.of(), 4000, 5200);
    assertThat(view.describedAt()).isEqualTo(5000);
  }

  @Test
  void aDeadInstanceTheDescribeDropsIsNotKept() {
    FleetInstance gone = instance("i-0000000000000000d", "web", "terminated", clock.millis());
    view.launched(List.of(gone));
    view.described(List.of(), clock.millis(), clock.millis());
    assertThat(view.members("web")).isEmpty();
  }

  static FleetInstance instance(String id, String group, String state, long launchedAt) {
    return new FleetInstance(id, group, state, Instant.ofEpochMilli(launchedAt), null, "10.0.0.1");
  }
}
