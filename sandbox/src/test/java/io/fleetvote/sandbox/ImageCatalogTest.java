package io.fleetvote.sandbox;

import io.fleetvote.common.msg.MessageException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ImageCatalogTest {

  @Test
  void theBuiltInCatalogHasTheAppImageWithAStableAmiId() {
    Image app = ImageCatalog.builtIn().named("fleetvote-app");
    assertThat(app.id()).matches("ami-[0-9a-f]{17}").isEqualTo(ImageCatalog.imageId("fleetvote-app"));
    assertThat(app.processes()).extracting(p -> p.name()).containsExactly("demo-app", "agent");
    assertThat(app.ports()).contains("app", "agent", "check");
  }

  @Test
  void theWorkloadRunsWithinTheInstancesCapacityAndTheAgentsBesideIt() {
    Image app = ImageCatalog.builtIn().named("fleetvote-app");
    assertThat(app.processes()).extracting(p -> p.name() + "=" + p.withinCapacity())
        .containsExactly("demo-app=true", "agent=false");
    assertThat(app.processes().get(1).command()).containsSequence("--sensor-cores", "${instance.vcpus}");
    assertThat(ImageCatalog.builtIn().named("fleetvote-lb").processes()).allMatch(p -> !p.withinCapacity());
  }

  @Test
  void aProcessIsWithinCapacityUnlessItSaysOtherwise() {
    ImageCatalog catalog = ImageCatalog.fromJson(catalog(image().put("processes", new JsonArray().add(process())
        .add(process().put("name", "beside").put("withinCapacity", false)))));
    assertThat(catalog.named("web").processes()).extracting(p -> p.withinCapacity()).containsExactly(true, false);
    assertRejected(catalog(image().put("processes", new JsonArray().add(process().put("withinCapacity", "yes")))),
        "images[0].processes[0].withinCapacity");
  }

  @Test
  void variablesAreFilledIn() {
    assertThat(ImageCatalog.expand("${java} --port ${port.app} $HOME", Map.of("java", "/j", "port.app", "81")))
        .isEqualTo("/j --port 81 $HOME");
  }

  @Test
  void aBadCatalogNamesTheEntryThatIsWrong() {
    assertRejected(new JsonObject(), "images");
    assertRejected(catalog(image().put("name", "Bad Name")), "images[0].name");
    assertRejected(catalog(image().put("ports", new JsonArray().add("app").add("app"))), "images[0].ports");
    assertRejected(catalog(image().put("processes", new JsonArray())), "images[0].processes");
    assertRejected(catalog(image().put("processes", new JsonArray().add(process().put("command",
        new JsonArray().add("${java}").add("--port").add("${port.nope}"))))), "images[0].processes[0].command[2]");
    assertRejected(catalog(image().put("processes", new JsonArray().add(process().put("env",
        new JsonObject().put("lower", "x"))))), "images[0].processes[0].env.lower");
    assertRejected(catalog(image().put("processes", new JsonArray().add(process().put("stopTimeoutMillis", 1)))),
        "images[0].processes[0].stopTimeoutMillis");
    assertRejected(catalog(image(), image()), "images[1].name");
    assertThatThrownBy(() -> ImageCatalog.builtIn().with(ImageCatalog.builtIn(), "more.json"))
        .isInstanceOfSatisfying(MessageException.class, e -> assertThat(e.field()).isEqualTo("more.json"));
  }

  private static JsonObject catalog(JsonObject... images) {
    JsonArray list = new JsonArray();
    for (JsonObject image : images) {
      list.add(image);
    }
    return new JsonObject().put("images", list);
  }

  private static JsonObject image() {
    return new JsonObject().put("name", "web").put("ports", new JsonArray().add("app"))
        .put("processes", new JsonArray().add(process()));
  }

  private static JsonObject process() {
    return new JsonObject().put("name", "main").put("command", new JsonArray().add("${java}").add("${port.app}"));
  }

  private static void assertRejected(JsonObject json, String field) {
    assertThatThrownBy(() -> ImageCatalog.fromJson(json))
        .isInstanceOfSatisfying(MessageException.class, e -> assertThat(e.field()).isEqualTo(field));
  }
}
