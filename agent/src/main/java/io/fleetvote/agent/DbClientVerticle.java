package io.fleetvote.agent;

import io.fleetvote.common.Addresses;
import io.fleetvote.common.msg.DbCredentials;
import io.fleetvote.common.msg.LbAnnouncement;
import io.fleetvote.common.msg.MessageException;
import io.fleetvote.common.msg.Rejections;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The app side of the DB pair: the application account the leader coordinator hands this instance (on its own
 * {@link Addresses#agentSecrets} address) and the DB frontends of the LBs it hears announced, kept in one file the
 * app reads ({@code dbClientFile}: {@link #text the properties}, mode 0600, replaced atomically, rewritten only when
 * it changes). Applications connect to an LB's write port, never to the master: a failover moves the LBs, not them.
 * An LB whose announcements lapse leaves the file, but the last LB never does: with none heard (a coordinator's
 * blip), the last endpoints are still the best guess.
 */
final class DbClientVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(DbClientVerticle.class);

  private final String instanceId;
  private final AgentOptions options;
  private final Path file;
  private final Clock clock;
  private final AgentBus bus;
  private final Map<String, Heard> lbs = new HashMap<>();
  private DbCredentials credentials;
  private String written;
  private Rejections rejections;

  private record Heard(LbAnnouncement announcement, long until) {
  }

  DbClientVerticle(String instanceId, AgentOptions options, AgentBus bus, Clock clock) {
    this.instanceId = instanceId;
    this.options = options;
    this.file = Path.of(options.getDbClientFile());
    this.bus = bus;
    this.clock = clock;
  }

  @Override
  public Future<?> start() {
    rejections = Rejections.of(Rejections.AGENT_METRIC, LOG, instanceId, clock);
    vertx.setPeriodic(options.getGossipPeriodMs(), t -> lapse());
    return Future.join(bus.consumer(Addresses.agentSecrets(instanceId), this::credentials),
        bus.consumer(Addresses.LB_ANNOUNCEMENTS, this::announcement));
  }

  private void credentials(Message<Object> message) {
    DbCredentials given;
    try {
      given = DbCredentials.fromJson(message.body());
    } catch (MessageException e) {
      rejections.reject(message.address(), "invalid", "db credentials: " + e.getMessage());
      message.fail(400, "db credentials refused: " + e.getMessage());
      return;
    }
    if (!given.deployment().equals(options.getDeployment())) {
      rejections.reject(message.address(), "deployment", "db credentials of deployment " + given.deployment());
      message.fail(400, "db credentials of deployment " + given.deployment() + ", not " + options.getDeployment());
      return;
    }
    credentials = given;
    try {
      write();
      message.reply("ok");
    } catch (IOException e) {
      LOG.warn("{}: cannot write {}: {}", instanceId, file, e.toString());
      message.fail(500, "cannot write the DB client file: " + e.getMessage());
    }
  }

  private void announcement(Message<Object> message) {
    try {
      LbAnnouncement lb = LbAnnouncement.fromJson(message.body());
      if (lb.deployment().equals(options.getDeployment()) && lb.dbWritePort() > 0) {
        boolean known = lbs.containsKey(lb.instanceId());
        lbs.put(lb.instanceId(), new Heard(lb, clock.millis() + lb.leaseMillis()));
        if (!known) {
          write();
        }
      }
    } catch (MessageException e) {
      rejections.reject(message.address(), "invalid", "an LB announcement: " + e.getMessage());
    } catch (IOException e) {
      LOG.warn("{}: cannot write {}: {}", instanceId, file, e.toString());
    }
  }

  private void lapse() {
    long now = clock.millis();
    List<String> lapsed = lbs.entrySet().stream().filter(e -> e.getValue().until() < now).map(Map.Entry::getKey)
        .toList();
    lapsed.stream().limit(Math.max(0, lbs.size() - 1L)).forEach(lbs::remove);
    try {
      write();
    } catch (IOException e) {
      LOG.warn("{}: cannot write {}: {}", instanceId, file, e.toString());
    }
  }

  /** Writes the file when there is something to write and it differs from what was written. */
  private void write() throws IOException {
    if (credentials == null || lbs.isEmpty()) {
      return;
    }
    List<LbAnnouncement> heard = lbs.values().stream().map(Heard::announcement)
        .sorted(Comparator.comparing((LbAnnouncement lb) -> !lb.serves().equals(options.getGroup()))
            .thenComparing(LbAnnouncement::instanceId)).toList();
    String text = text(credentials, heard);
    if (text.equals(written)) {
      return;
    }
    Path temporary = file.resolveSibling(file.getFileName() + ".tmp");
    Files.deleteIfExists(temporary);
    Files.createFile(temporary, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(temporary, text, StandardCharsets.UTF_8);
    Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    boolean first = written == null;
    written = text;
    LOG.info("{}: DB client file {} {}: database {}, user {}, write {}", instanceId, file,
        first ? "written" : "rewritten", credentials.database(), credentials.user(), endpoints(heard, true));
  }

  /**
   * The file's text, a Java properties file (every value is letters, digits and {@code .:,_}: nothing to escape):
   * {@code database}, {@code user}, {@code password}, and {@code write} and {@code read}, each a comma-separated list
   * of {@code host:port}, the LBs serving this instance's group first.
   */
  static String text(DbCredentials credentials, List<LbAnnouncement> lbs) {
    return "# The DB pair's application account and the LBs' DB frontends (Fleetvote agent; connect to an LB)\n"
        + "database=" + credentials.database() + "\nuser=" + credentials.user() + "\npassword="
        + credentials.password() + "\nwrite=" + endpoints(lbs, true) + "\nread=" + endpoints(lbs, false) + "\n";
  }

  private static String endpoints(List<LbAnnouncement> lbs, boolean write) {
    return lbs.stream().filter(lb -> (write ? lb.dbWritePort() : lb.dbReadPort()) > 0)
        .map(lb -> lb.address() + ":" + (write ? lb.dbWritePort() : lb.dbReadPort()))
        .collect(Collectors.joining(","));
  }
}
