package io.fleetvote.common.msg;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class OperatorCommandTest {

  @Test
  void commandsSurviveTheRoundTripThroughJson() {
    for (OperatorCommand command : new OperatorCommand[] {OperatorCommand.bounds("web", 2, 6, "ops"),
        OperatorCommand.scale("web", -2, "ops"), OperatorCommand.of(OperatorCommand.Kind.PAUSE, "web", "ops"),
        OperatorCommand.of(OperatorCommand.Kind.DRAIN, "i-0123456789abcdef0", "ops@example.org")}) {
      assertThat(OperatorCommand.fromJson(command.toJson())).isEqualTo(command);
    }
  }

  @Test
  void eachBadFieldIsNamed() {
    assertRejected(new JsonObject().put("kind", "explode").put("target", "web").put("user", "ops"), "kind");
    assertRejected(new JsonObject().put("kind", "pause").put("target", "Web Tier").put("user", "ops"), "target");
    assertRejected(new JsonObject().put("kind", "drain").put("target", "web").put("user", "ops"), "target");
    assertRejected(new JsonObject().put("kind", "pause").put("target", "web").put("user", "o p s"), "user");
    assertRejected(OperatorCommand.bounds("web", 3, 2, "ops").toJson(), "max");
    assertRejected(OperatorCommand.bounds("web", 3, 2, "ops").toJson().put("min", -1), "min");
    assertRejected(OperatorCommand.scale("web", 1, "ops").toJson().put("by", 0), "by");
    assertRejected(OperatorCommand.scale("web", 1, "ops").toJson().put("by", 1001), "by");
    assertThatThrownBy(() -> OperatorCommand.fromJson("garbage")).isInstanceOf(MessageException.class);
  }

  private static void assertRejected(JsonObject json, String field) {
    assertThatThrownBy(() -> OperatorCommand.fromJson(json)).isInstanceOfSatisfying(MessageException.class,
        e -> assertThat(e.field()).isEqualTo(field));
  }
}
