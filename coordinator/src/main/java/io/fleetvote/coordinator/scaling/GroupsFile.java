package io.fleetvote.coordinator.scaling;

import io.fleetvote.common.msg.JsonFields;
import io.fleetvote.common.msg.JsonFiles;
import io.fleetvote.common.msg.MessageException;
import io.fleetvote.coordinator.db.DbPairConfig;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The coordinator's groups file: JSON, {@code {"groups": [ {group}, ... ], "db": {pair}}} (see {@link GroupConfig}
 * for a group's fields, {@link DbPairConfig} for the DB pair's; {@code db} is optional). Read once at start; any
 * mistake stops the coordinator with a message naming the file and the field, e.g. {@code groups.json: groups[1].max: 0 is out of range [1, 1000]}.
 */
public final class GroupsFile {

  private GroupsFile() {
  }

  public static List<GroupConfig> read(Path file) {
    return JsonFiles.read(file, GroupsFile::parse);
  }

  /** The file's DB pair, when it has a {@code db} section. */
  public static Optional<DbPairConfig> readDb(Path file) {
    return JsonFiles.read(file, GroupsFile::db);
  }

  /** The {@code db} section, when there is one; its mistakes are named {@code db.<field>}. */
  public static Optional<DbPairConfig> db(JsonObject json) {
    if (json.getValue("db") == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(new DbPairConfig(JsonFields.object(json, "db")));
    } catch (MessageException e) {
      throw e.within("db");
    }
  }

  public static List<GroupConfig> parse(JsonObject json) {
    for (String field : json.fieldNames()) {
      if (!field.equals("groups") && !field.equals("db")) {
        throw new MessageException(field, "is not a known setting (the file holds \"groups\" and \"db\")");
      }
    }
    Optional<DbPairConfig> db = db(json);
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
      if (!names.add(group.name()) || db.filter(pair -> pair.name().equals(group.name())).isPresent()) {
        throw new MessageException("groups[" + i + "].name", "'" + group.name() + "' is used by another group or "
            + "the db pair");
      }
      groups.add(group);
    }
    return List.copyOf(groups);
  }
}
