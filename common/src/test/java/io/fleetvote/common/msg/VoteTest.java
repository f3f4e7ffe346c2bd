package io.fleetvote.common.msg;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class VoteTest {

  private static final Vote VOTE = new Vote("i-0123456789abcdef0", "demo", "web", VoteKind.GROW, 87.5, true, false,
      1_700_000_000_000L, 1_700_000_005_000L, 3000);

  @Test
  void survivesTheRoundTripThroughJson() {
    assertThat(Vote.fromJson(VOTE.toJson())).isEqualTo(VOTE);
    assertThat(Vote.fromJson(VOTE.toJson().encode())).isEqualTo(VOTE);
    assertThat(VOTE.toJson().getString("vote")).isEqualTo("grow");
  }

  @Test
  void eachBadFieldIsNamed() {
    assertRejected("garbage", "vote");
    assertRejected(with(j -> j.put("vote", "maybe")), "vote");
    assertRejected(with(j -> j.remove("vote")), "vote");
    assertRejected(with(j -> j.put("load", -1)), "load");
    assertRejected(with(j -> j.put("load", 1e9)), "load");
    assertRejected(with(j -> j.put("load", "high")), "load");
    assertRejected(with(j -> j.put("warm", "yes")), "warm");
    assertRejected(with(j -> j.put("leaseMillis", 0)), "leaseMillis");
    assertRejected(with(j -> j.put("leaseMillis", Vote.MAX_LEASE_MILLIS + 1)), "leaseMillis");
    assertRejected(with(j -> j.put("group", "../etc")), "group");
    assertRejected(with(j -> j.put("instanceId", "i-12")), "instanceId");
    assertRejected(with(j -> j.put("sentAt", 1L)), "sentAt");
  }

  private static JsonObject with(Consumer<JsonObject> change) {
    JsonObject json = VOTE.toJson();
    change.accept(json);
    return json;
  }

  private static void assertRejected(Object body, String field) {
    assertThatThrownBy(() -> Vote.fromJson(body))
        .isInstanceOfSatisfying(MessageException.class, e -> assertThat(e.field()).isEqualTo(field));
  }
}
