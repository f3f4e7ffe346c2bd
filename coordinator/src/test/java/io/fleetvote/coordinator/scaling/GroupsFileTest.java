package io.fleetvote.coordinator.scaling;

import io.fleetvote.common.msg.MessageException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GroupsFileTest {

  @TempDir
  Path dir;

  @Test
  void aGoodFileGivesItsGroupsWithDefaultsFilledIn() throws Exception {
    Path file = write("{\"groups\": [{\"name\": \"web\", \"imageId\": \"ami-0123456789abcdef0\", \"min\": 2, \"max\": 5,"
        + " \"calmTimeMs\": 5000, \"agent\": {\"growAfterMs\": 3000}, \"tags\": {\"team\": \"wiki\"}}]}");
    List<GroupConfig> groups = GroupsFile.read(file);
    assertThat(groups).hasSize(1);
    GroupConfig web = groups.get(0);
    assertThat(web.min()).isEqualTo(2);
    assertThat(web.max()).isEqualTo(5);
    assertThat(web.decisionThreshold()).isEqualTo(0.51);
    assertThat(web.instanceType()).isEqualTo("t3.micro");
    assertThat(web.agent().getLong("growAfterMs")).isEqualTo(3000);
    assertThat(web.tags()).containsEntry("team", "wiki");
    assertThat(new GroupConfig(web.toJson()).toJson()).isEqualTo(web.toJson());
  }

  @Test
  void aBadFileNamesTheFileAndTheField() throws Exception {
    assertRejected("{\"groups\": [{\"name\": \"web\", \"imageId\": \"ami-0123456789abcdef0\", \"min\": 3, \"max\": 2}]}",
        "groups[0].max");
    assertRejected("{\"groups\": [{\"name\": \"web\", \"imageId\": \"ami-0123456789abcdef0\", \"maxx\": 2}]}",
        "groups[0].maxx");
    assertRejected("{\"groups\": [{\"name\": \"web\", \"imageId\": \"nope\"}]}", "groups[0].imageId");
    assertRejected("{\"groups\": [{\"name\": \"web\", \"imageId\": \"ami-0123456789abcdef0\", "
        + "\"decisionThreshold\": 1.5}]}", "groups[0].decisionThreshold");
    assertRejected("{\"groups\": [{\"name\": \"web\", \"imageId\": \"ami-0123456789abcdef0\", "
        + "\"agent\": {\"group\": \"x\"}}]}", "groups[0].agent.group");
    assertRejected("{\"groups\": [{\"name\": \"web\", \"imageId\": \"ami-0123456789abcdef0\", "
        + "\"tags\": {\"fleetvote:group\": \"x\"}}]}", "groups[0].tags.fleetvote:group");
    assertRejected("{\"groups\": [{\"name\": \"web\", \"imageId\": \"ami-0123456789abcdef0\"}, "
        + "{\"name\": \"web\", \"imageId\": \"ami-0123456789abcdef0\"}]}", "groups[1].name");
    assertRejected("{\"groups\": {}}", "groups");
    assertRejected("{\"group\": []}", "group");
    assertRejected("not json", "(the whole file)");
  }

  @Test
  void theDbPairIsItsOwnSectionWithItsFieldsNamedAndANameOfItsOwn() throws Exception {
    Path file = write("{\"groups\": [], \"db\": {\"imageId\": \"ami-0123456789abcdef0\", \"volumeGiB\": 20}}");
    assertThat(GroupsFile.readDb(file)).hasValueSatisfying(db -> assertThat(db.volumeGiB()).isEqualTo(20));
    assertThat(GroupsFile.readDb(write("{\"groups\": []}"))).isEmpty();
    assertRejected("{\"groups\": [], \"db\": {\"imageId\": \"ami-0123456789abcdef0\", \"volumeGiB\": -1}}",
        "db.volumeGiB");
    assertRejected("{\"groups\": [{\"name\": \"db\", \"imageId\": \"ami-0123456789abcdef0\"}], "
        + "\"db\": {\"imageId\": \"ami-0123456789abcdef0\"}}", "groups[0].name");
  }

  @Test
  void aMissingFileIsNamed() {
    Path missing = dir.resolve("nope.json");
    assertThatThrownBy(() -> GroupsFile.read(missing)).isInstanceOf(MessageException.class)
        .hasMessageStartingWith(missing + ": cannot be read");
  }

  @Test
  void groupsAreParsedFromJsonToo() {
    JsonObject json = new JsonObject().put("groups", new JsonArray()
        .add(new JsonObject().put("name", "web").put("imageId", "ami-0123456789abcdef0"))
        .add(new JsonObject().put("name", "api").put("imageId", "ami-0123456789abcdef0").put("min", 0)));
    assertThat(GroupsFile.parse(json)).extracting(GroupConfig::name).containsExactly("web", "api");
  }

  private Path write(String text) throws Exception {
    Path file = dir.resolve("groups-" + System.nanoTime() + ".json");
    Files.writeString(file, text);
    return file;
  }

  private void assertRejected(String text, String field) throws Exception {
    Path file = write(text);
    assertThatThrownBy(() -> GroupsFile.read(file)).isInstanceOfSatisfying(MessageException.class, e -> {
      assertThat(e.field()).isEqualTo(file + ": " + field);
      assertThat(e.getMessage()).startsWith(file + ": " + field + ": ");
    });
  }
}
