package io.fleetvote.coordinator.scaling;

import io.fleetvote.common.msg.JsonFields;
import io.fleetvote.common.msg.JsonFiles;
import io.fleetvote.common.msg.MessageException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The coordinator's groups file: JSON, {@code {"groups": [ {group}, ... ]}} (see {@link GroupConfig} for a group's
 * fields). Read once at start; any mistake stops the coordinator with a message naming the file and the field,
 * e.g. {@code groups.json: groups[1].max: 0 is out of range [1, 1000]}.
 */
public final class GroupsFile {

  private GroupsFile() {
  }

  public static List<GroupConfig> read(Path file) {
    return JsonFiles.read(file, GroupsFile::parse);
  }

  public static List<GroupConfig> parse(JsonObject json) {
    for (String field : json.fieldNames()) {
      if (!field.equals("groups")) {
        throw new MessageException(field, "is not a known setting (the file holds \"groups\")");
      }
    }
    Object raw = json.getValue("groups");
    if (!(raw instanceof JsonArray array)) {
      throw new MessageException("groups", raw == null ? "is missing" : "must be a list");
    }
    List<GroupConfig> groups = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (int i = 0; i < array.size(); i++) {
      if (!(array.getValue(i) instanceof JsonObject item)) {
        throw new MessageException("groups[" + i + "]", "must be an object");
      }
      GroupConfig group;
      try {
        group = new GroupConfig(item);
      } catch (MessageException e) {
        throw e.within("groups[" + i + "]");
      }
      if (!names.add(group.name())) {
        throw new MessageException("groups[" + i + "].name", "'" + group.name() + "' is used by another group");
      }
      groups.add(group);
    }
    return List.copyOf(groups);
  }
}
