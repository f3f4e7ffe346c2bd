package io.fleetvote.common.msg;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LbStatusTest {

  private static final LbStatus.Server SERVER = new LbStatus.Server("i-0000000000000a001", "UP", "L7OK", 2, 40, 100);

  @Test
  void aStatusRoundTripsWithItsDbBackendsOrWithout() {
    LbStatus plain = new LbStatus("i-00000000000000b01", "prod", "web", 5, List.of(SERVER), false, "");
    assertThat(LbStatus.fromJson(plain.toJson())).isEqualTo(plain);
    LbStatus withDb = new LbStatus("i-00000000000000b01", "prod", "web", 5, List.of(SERVER), false, "",
        new LbStatus.Db("i-0000000000000db01", List.of("i-0000000000000db02"), 3, ""));
    assertThat(LbStatus.fromJson(withDb.toJson())).isEqualTo(withDb);
    LbStatus none = new LbStatus("i-00000000000000b01", "prod", "web", 5, List.of(), false, "",
        new LbStatus.Db(null, List.of(), 0, "no master in the route"));
    assertThat(LbStatus.fromJson(none.toJson())).isEqualTo(none);
  }

  @Test
  void aBadDbPartIsNamed() {
    JsonObject json = new LbStatus("i-00000000000000b01", "prod", "web", 5, List.of(), false, "",
        new LbStatus.Db("i-0000000000000db01", List.of(), 3, "")).toJson();
    assertThatThrownBy(() -> LbStatus.fromJson(json.copy().put("db", json.getJsonObject("db").copy()
        .put("write", "db.example.com")))).isInstanceOf(MessageException.class).hasMessageContaining("db.write");
    assertThatThrownBy(() -> LbStatus.fromJson(json.copy().put("db", json.getJsonObject("db").copy()
        .put("read", new JsonArray().add(7))))).isInstanceOf(MessageException.class)
        .hasMessageContaining("db.read[0]");
    assertThatThrownBy(() -> LbStatus.fromJson(json.copy().put("db", "x"))).isInstanceOf(MessageException.class)
        .hasMessageContaining("db");
  }
}
