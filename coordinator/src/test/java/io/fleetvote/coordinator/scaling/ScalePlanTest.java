package io.fleetvote.coordinator.scaling;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ScalePlanTest {

  private static final GroupConfig WEB = new GroupConfig(new JsonObject().put("name", "web")
      .put("imageId", "ami-0123456789abcdef0").put("min", 1).put("max", 4));

  @Test
  void growingWithinTheBoundsIsAnOperatorsGrow() {
    Decision d = ScalePlan.plan(WEB, 2, 2, false, n -> List.of(), "operator:ana", 5000);
    assertThat(d.outcome()).isEqualTo(Decision.Outcome.GROW);
    assertThat(d.rule()).isEqualTo(Decision.Rule.OPERATOR);
    assertThat(d.change()).isEqualTo(2);
    assertThat(d.size()).isEqualTo(2);
    assertThat(d.at()).isEqualTo(5000);
    assertThat(d.reason()).isEqualTo("operator:ana asked to scale web by +2 (2 -> 4)");
  }

  @Test
  void shrinkingNamesItsVictims() {
    Decision d = ScalePlan.plan(WEB, 3, -2, false, n -> List.of("i-0000000000000000a", "i-0000000000000000b")
        .subList(0, n), "operator:ana", 5000);
    assertThat(d.outcome()).isEqualTo(Decision.Outcome.SHRINK);
    assertThat(d.victims()).containsExactly("i-0000000000000000a", "i-0000000000000000b");
    assertThat(d.reason()).endsWith("(3 -> 1): terminate [i-0000000000000000a, i-0000000000000000b]");
  }

  @Test
  void refusalsSayWhyWith409() {
    assertRefused(() -> ScalePlan.plan(WEB, 2, 1, true, n -> List.of(), "u", 0),
        "web has an action in progress; try again when it is done");
    assertRefused(() -> ScalePlan.plan(WEB, 4, 1, false, n -> List.of(), "u", 0),
        "scaling web by +1 would take it from 4 to 5, outside min 1 and max 4: change the bounds first");
    assertRefused(() -> ScalePlan.plan(WEB, 1, -1, false, n -> List.of(), "u", 0), "outside min 1 and max 4");
    assertRefused(() -> ScalePlan.plan(WEB, 3, -2, false, n -> List.of("i-0000000000000000a"), "u", 0),
        "only 1 instance(s) of web may go: the others protect themselves or are protected");
  }

  private static void assertRefused(Runnable plan, String message) {
    assertThatThrownBy(plan::run).isInstanceOfSatisfying(CommandRefused.class, e -> {
      assertThat(e.status()).isEqualTo(409);
      assertThat(e.getMessage()).contains(message);
    });
  }
}
