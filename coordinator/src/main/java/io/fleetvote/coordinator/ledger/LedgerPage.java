package io.fleetvote.coordinator.ledger;

import io.fleetvote.common.msg.JsonFields;
import io.fleetvote.common.msg.LedgerQuery;
import io.fleetvote.common.msg.MessageException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * The answer to a {@link io.fleetvote.common.msg.LedgerQuery} ({@link io.fleetvote.common.Addresses#LEDGER_QUERY}):
 * ledger entries, newest first, as {@code GET /api/decisions} shows them.
 */
public record LedgerPage(List<LedgerEntry> entries) {

  public LedgerPage {
    entries = List.copyOf(entries);
  }

  public JsonObject toJson() {
    JsonArray list = new JsonArray();
    entries.forEach(e -> list.add(e.toJson()));
    return new JsonObject().put("entries", list);
  }

  /** Reads a page; an entry that cannot be read is named by its index. */
  public static LedgerPage fromJson(Object body) {
    JsonObject json = JsonFields.object(body, "ledger page");
    return new LedgerPage(JsonFields.objects(json, "entries", LedgerQuery.MAX_LIMIT, item -> {
      try {
        return LedgerEntry.fromJson(JsonFields.object(item, "entry"));
      } catch (MessageException e) {
        throw e;
      } catch (RuntimeException e) {
        throw new MessageException("entry", "is not a ledger entry: " + e);
      }
    }));
  }
}
