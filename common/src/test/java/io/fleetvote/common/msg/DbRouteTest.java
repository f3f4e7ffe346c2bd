package io.fleetvote.common.msg;

import io.vertx.core.json.JsonArray;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DbRouteTest {

  private static final DbRoute ROUTE = new DbRoute("prod", "db", 4, 1000,
      new DbRoute.Endpoint("i-0000000000000db01", "10.0.0.5", 3306),
      List.of(new DbRoute.Endpoint("i-0000000000000db02", "10.0.0.6", 3306)));

  @Test
  void aRouteRoundTripsWithOrWithoutAMaster() {
    assertThat(DbRoute.fromJson(ROUTE.toJson())).isEqualTo(ROUTE);
    DbRoute none = new DbRoute("prod", "db", 4, 1000, null, List.of());
    assertThat(DbRoute.fromJson(none.toJson())).isEqualTo(none);
  }

  @Test
  void aBadFieldIsNamed() {
    assertThatThrownBy(() -> DbRoute.fromJson(ROUTE.toJson().put("fence", -1)))
        .isInstanceOf(MessageException.class).hasMessageContaining("fence");
    assertThatThrownBy(() -> DbRoute.fromJson(ROUTE.toJson().put("master", ROUTE.master().toJson()
        .put("host", "db.example.com")))).isInstanceOf(MessageException.class).hasMessageContaining("master.host");
    assertThatThrownBy(() -> DbRoute.fromJson(ROUTE.toJson().put("replicas", new JsonArray().add("x"))))
        .isInstanceOf(MessageException.class).hasMessageContaining("replicas[0]");
    assertThatThrownBy(() -> DbRoute.fromJson("not json")).isInstanceOf(MessageException.class);
  }
}
