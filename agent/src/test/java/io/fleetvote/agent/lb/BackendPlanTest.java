package io.fleetvote.agent.lb;

import io.fleetvote.agent.lb.BackendPlan.Change;
import io.fleetvote.agent.lb.BackendPlan.Endpoint;
import io.fleetvote.agent.lb.BackendPlan.Kind;
import io.fleetvote.agent.lb.BackendPlan.Member;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class BackendPlanTest {

  private static final Endpoint A = new Endpoint("127.0.0.1", 8001);
  private static final Endpoint B = new Endpoint("127.0.0.1", 8002);

  @Test
  void liveReadyInstancesMissingFromHaproxyAreRegistered() {
    assertThat(plan(List.of(), Map.of("i-a", new Member(A, true, false), "i-b", new Member(B, false, false))))
        .containsExactly(new Change(Kind.REGISTER, "i-a", A));
  }

  @Test
  void aServerInPlaceIsLeftAloneAndOneWithAnotherAddressIsRegisteredAgain() {
    assertThat(plan(List.of(server("i-a", A, false, false)), Map.of("i-a", new Member(A, true, false)))).isEmpty();
    assertThat(plan(List.of(server("i-a", B, false, false)), Map.of("i-a", new Member(A, true, false))))
        .containsExactly(new Change(Kind.REREGISTER, "i-a", A));
    assertThat(plan(List.of(server("i-a", A, true, false)), Map.of("i-a", new Member(A, true, false))))
        .as("left in maintenance by a half-done registration").containsExactly(new Change(Kind.REREGISTER, "i-a", A));
  }

  @Test
  void aLeavingInstanceIsDrainedAndAnUnreadyOneLeftToTheChecks() {
    assertThat(plan(List.of(server("i-a", A, false, false)), Map.of("i-a", new Member(A, true, true))))
        .containsExactly(new Change(Kind.DEREGISTER, "i-a", null));
    assertThat(plan(List.of(server("i-a", A, false, false)), Map.of("i-a", new Member(A, false, false)))).isEmpty();
  }

  @Test
  void serversOfInstancesThatLeftTheClusterAreReapedOnceTheRegistryIsWarmAndTheGraceHasPassed() {
    List<ServerState> current = List.of(server("i-gone", A, false, false));
    assertThat(BackendPlan.plan(current, Set.of("i-gone"), Map.of(), Set.of(), Map.of(), Map.of(), false, 100_000, 10_000)).as("registry cold")
        .isEmpty();
    assertThat(BackendPlan.plan(current, Set.of("i-gone"), Map.of(), Set.of(), Map.of("i-gone", 95_000L), Map.of(), true, 100_000, 10_000))
        .as("within grace").isEmpty();
    assertThat(BackendPlan.plan(current, Set.of("i-gone"), Map.of(), Set.of(), Map.of("i-gone", 80_000L), Map.of(), true, 100_000, 10_000))
        .containsExactly(new Change(Kind.REAP, "i-gone", null));
  }

  @Test
  void busyServersAreNotTouched() {
    assertThat(BackendPlan.plan(List.of(server("i-a", B, false, false)), Set.of(), Map.of("i-a", new Member(A, true, false),
        "i-b", new Member(B, true, false)), Set.of("i-a", "i-b"), Map.of(), Map.of(), true, 0, 0)).isEmpty();
  }

  @Test
  void aHeartbeatHeardBeforeTheInstancesDeregistrationBeganDoesNotRegisterItAgain() {
    Map<String, Member> stale = Map.of("i-a", new Member(A, true, false, 5_000));
    assertThat(BackendPlan.plan(List.of(), Set.of(), stale, Set.of(), Map.of(), Map.of("i-a", 5_000L), true,
        10_000, 10_000)).as("heard before it left").isEmpty();
    Map<String, Member> fresh = Map.of("i-a", new Member(A, true, false, 6_000));
    assertThat(BackendPlan.plan(List.of(), Set.of(), fresh, Set.of(), Map.of(), Map.of("i-a", 5_000L), true,
        10_000, 10_000)).as("heard since: back (an undrain)").containsExactly(new Change(Kind.REGISTER, "i-a", A));
  }

  @Test
  void theFailOpenBackendFollowsTheMainOne() {
    assertThat(BackendPlan.plan(List.of(server("i-a", A, false, false), server("i-b", B, false, true)), Set.of(),
        Map.of("i-a", new Member(A, true, false), "i-b", new Member(B, true, false)), Set.of(), Map.of(), Map.of(), true,
        1_000_000, 10_000))
        .as("a server taking traffic is added; a draining one is not")
        .containsExactly(new Change(Kind.OPEN_ADD, "i-a", A));
    assertThat(BackendPlan.plan(List.of(), Set.of("i-a", "i-busy"), Map.of(), Set.of("i-busy"), Map.of(), Map.of(), true,
        1_000_000, 10_000))
        .as("one the main backend no longer has is removed, unless busy")
        .containsExactly(new Change(Kind.OPEN_REMOVE, "i-a", null));
  }

  /** The plan when the fail-open backend holds every server of the main one. */
  private static List<Change> plan(List<ServerState> current, Map<String, Member> members) {
    Set<String> open = new HashSet<>();
    current.forEach(s -> open.add(s.name()));
    return BackendPlan.plan(current, open, members, Set.of(), Map.of(), Map.of(), true, 1_000_000, 10_000);
  }

  private static ServerState server(String name, Endpoint endpoint, boolean maintenance, boolean draining) {
    return new ServerState(name, endpoint.address(), endpoint.port(), !maintenance, maintenance, draining, "L7OK",
        0, 0, 0, 0, 0, 0, 10, 100);
  }
}
