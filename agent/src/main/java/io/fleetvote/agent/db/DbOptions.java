package io.fleetvote.agent.db;

import io.fleetvote.common.imds.BlockDevices;
import io.fleetvote.common.msg.JsonFields;
import io.fleetvote.common.msg.MessageException;
import io.vertx.core.json.JsonObject;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Role {@code db}: where the agent runs MariaDB. {@code dir} is the agent's own directory for it (my.cnf, socket, pid
 * and init files, the log: off the data volume); {@code device} the data volume's device ({@code /dev/sdf}), whose
 * files hold the datadir ({@code mysql/} at its root); {@code port} MariaDB's port; {@code serverId} its
 * {@code server_id} (by default one made from the instance id, so each instance has its own).
 */
public final class DbOptions {

  public static final int DEFAULT_PORT = 3306;
  public static final String DEFAULT_DEVICE = "/dev/sdf";
  public static final long DEFAULT_SEMI_SYNC_TIMEOUT_MS = 2_000;
  public static final long DEFAULT_STATUS_MS = 1_000;

  private int port = DEFAULT_PORT;
  private String dir;
  private String device = DEFAULT_DEVICE;
  private Long serverId;
  private long semiSyncTimeoutMs = DEFAULT_SEMI_SYNC_TIMEOUT_MS;
  private long statusMs = DEFAULT_STATUS_MS;
  private String mariadbd = "/usr/sbin/mariadbd";
  private String installDb = "/usr/bin/mariadb-install-db";

  public DbOptions() {
  }

  public DbOptions(JsonObject json) {
    port = JsonFields.intValue(json, "port", 1, 65535, DEFAULT_PORT);
    dir = JsonFields.string(json, "dir", 4096, null);
    device = Objects.requireNonNullElse(JsonFields.optionalString(json, "device", 16, BlockDevices.EBS_DEVICE), DEFAULT_DEVICE);
    serverId = JsonFields.optionalLong(json, "serverId", 1, 4_294_967_295L);
    semiSyncTimeoutMs = JsonFields.longValue(json, "semiSyncTimeoutMs", 100, 60_000, DEFAULT_SEMI_SYNC_TIMEOUT_MS);
    statusMs = JsonFields.longValue(json, "statusMs", 100, 60_000, DEFAULT_STATUS_MS);
    mariadbd = Objects.requireNonNullElse(JsonFields.optionalString(json, "mariadbd", 4096, null), mariadbd);
    installDb = Objects.requireNonNullElse(JsonFields.optionalString(json, "installDb", 4096, null), installDb);
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("port", port).put("dir", dir).put("device", device)
        .put("semiSyncTimeoutMs", semiSyncTimeoutMs).put("statusMs", statusMs).put("mariadbd", mariadbd)
        .put("installDb", installDb);
    return serverId == null ? json : json.put("serverId", serverId);
  }

  /** The {@code server_id}: the one given, else the instance id's low 31 bits (never 0). */
  public long serverId(String instanceId) {
    if (serverId != null) {
      return serverId;
    }
    String hex = instanceId.substring(instanceId.indexOf('-') + 1);
    long id = Long.parseUnsignedLong(hex.substring(Math.max(0, hex.length() - 8)), 16) & 0x7fffffffL;
    return id == 0 ? 1 : id;
  }

  public int getPort() {
    return port;
  }

  public DbOptions setPort(int port) {
    this.port = port;
    return this;
  }

  public Path dir() {
    if (dir == null) {
      throw new MessageException("db.dir", "is required for role db");
    }
    return Path.of(dir);
  }

  public DbOptions setDir(String dir) {
    this.dir = dir;
    return this;
  }

  public String getDevice() {
    return device;
  }

  public DbOptions setDevice(String device) {
    this.device = device;
    return this;
  }

  public DbOptions setServerId(Long serverId) {
    this.serverId = serverId;
    return this;
  }

  public long getSemiSyncTimeoutMs() {
    return semiSyncTimeoutMs;
  }

  public long getStatusMs() {
    return statusMs;
  }

  public DbOptions setStatusMs(long statusMs) {
    this.statusMs = statusMs;
    return this;
  }

  public String getMariadbd() {
    return mariadbd;
  }

  public String getInstallDb() {
    return installDb;
  }
}
