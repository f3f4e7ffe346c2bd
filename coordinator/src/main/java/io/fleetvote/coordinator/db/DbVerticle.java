package io.fleetvote.coordinator.db;

import io.fleetvote.common.Addresses;
import io.fleetvote.common.msg.DbStatus;
import io.fleetvote.common.msg.MessageException;
import io.fleetvote.common.msg.Rejections;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Every coordinator's view of its deployment's DB instances: the DB agents' reports ({@link Addresses#DB_STATUS},
 * forwarded by the gateways), a bad one rejected and counted; asked locally on {@link Addresses#DB_QUERY}.
 */
public final class DbVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(DbVerticle.class);
  /** A DB agent reports every second: three missed reports and it is no longer shown as it was. */
  static final long REPORT_LEASE_MILLIS = 3_000;

  private final String deployment;
  private final Clock clock;
  private final DbReports reports;
  private Rejections rejections;
  private volatile Supplier<JsonObject> pair = () -> null;

  public DbVerticle(String deployment, Clock clock) {
    this.deployment = deployment;
    this.clock = clock;
    this.reports = new DbReports(deployment, REPORT_LEASE_MILLIS);
  }

  @Override
  public Future<?> start() {
    rejections = Rejections.of(Rejections.COORDINATOR_METRIC, LOG, "DB reports of " + deployment, clock);
    return Future.join(vertx.eventBus().consumer(Addresses.DB_STATUS, this::report).completion(),
        vertx.eventBus().localConsumer(Addresses.DB_QUERY, q -> q.reply(view())).completion());
  }

  /** What {@code GET /api/db} answers and the dashboard shows: each DB instance's report, and the pair. Any thread. */
  public JsonObject view() {
    return reports.toJson(clock.millis()).put("pair", pair.get());
  }

  /** The DB agents' reports heard within the lease, by instance id. Any thread. */
  public Map<String, DbStatus> current() {
    Map<String, DbStatus> current = new HashMap<>();
    reports.current(clock.millis()).forEach(heard -> current.put(heard.status().instanceId(), heard.status()));
    return current;
  }

  /** What {@code GET /api/db} says of the pair ({@link DbPairVerticle}'s view); null while there is none. */
  public void showPair(Supplier<JsonObject> pair) {
    this.pair = pair;
  }

  private void report(Message<Object> message) {
    try {
      reports.heard(DbStatus.fromJson(message.body()), clock.millis());
    } catch (MessageException e) {
      rejections.reject(message.address(), "invalid", "a DB status that could not be read: " + e.getMessage());
    }
  }
}
