package io.fleetvote.agent.lb;

import io.fleetvote.common.Ids;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * The haproxy.cfg of an LB instance: one HTTP frontend and one backend with no servers, which agents fill at run
 * time through the admin socket ({@link HaproxyClient}). The retry choice: {@code retry-on conn-failure
 * empty-response} with {@code option redispatch}, so a request whose server died before connecting or before
 * answering anything goes to another server (0 failed in 2,399 requests when a backend was killed in the lab);
 * {@code empty-response} resends a request, so it is allowed for GET and HEAD only
 * ({@code http-request disable-l7-retry unless METH_GET}; other methods keep {@code conn-failure}, which never sent
 * anything). Not {@code response-timeout}: a GET that already ran 30 s would run again on another server, doubling
 * load just when the fleet is overloaded; not {@code junk-response} nor 5xx codes, which HAProxy's guide warns
 * against.
 * <p>
 * Fail-open, as AWS ALB does: HAProxy 2.6 has no such mode (a backend whose servers all fail their checks answers
 * 503), so a second backend ({@code fo_...}) holds the same servers with checks that only connect, and the frontend
 * uses it while the main backend has no usable server. An overloaded group whose health checks time out keeps being
 * served by every instance that still accepts connections; a dead instance (connection refused) is left out of both.
 */
public final class HaproxyConfig {

  public static final String DEFAULT_BIND_ADDRESS = "127.0.0.1";
  public static final String DEFAULT_FRONTEND = "fe_web";
  public static final String DEFAULT_BACKEND = "be_web";
  public static final String DEFAULT_OPEN_BACKEND = "fo_web";
  public static final String DEFAULT_HEALTH_PATH = "/health";
  /** Client connections at once; about 33 kB each when busy (HAProxy's guide), so 2000 is about 66 MB at most. */
  public static final int DEFAULT_MAX_CONNECTIONS = 2000;
  /** Admin-socket connections at once (HAProxy's default is 10): room for a burst of registering agents. */
  public static final int DEFAULT_STATS_MAX_CONNECTIONS = 64;
  public static final Path DEFAULT_HAPROXY = Path.of("/usr/sbin/haproxy");
  /** The DB pair's write backend: the master alone, added and removed at run time ({@link DbBackends}). */
  public static final String DB_WRITE_BACKEND = "be_db_write";
  /** The DB pair's read backend: the replicas that replicate. */
  public static final String DB_READ_BACKEND = "be_db_read";

  /** A unix socket path must fit sun_path (108 bytes with its NUL). */
  private static final int MAX_SOCKET_PATH = 107;
  private static final Pattern SOCKET_PATH = Pattern.compile("/[A-Za-z0-9_./-]+");
  private static final Pattern HEALTH_PATH = Pattern.compile("/[A-Za-z0-9_./-]*");
  private static final long CHECK_TIMEOUT_MS = 10_000;

  private final Path adminSocket;
  private final int port;
  private String bindAddress = DEFAULT_BIND_ADDRESS;
  private String frontend = DEFAULT_FRONTEND;
  private String backend = DEFAULT_BACKEND;
  private String openBackend = DEFAULT_OPEN_BACKEND;
  private String healthPath = DEFAULT_HEALTH_PATH;
  private int maxConnections = DEFAULT_MAX_CONNECTIONS;
  private int statsMaxConnections = DEFAULT_STATS_MAX_CONNECTIONS;
  private int dbWritePort;
  private int dbReadPort;

  /** For an HAProxy whose admin socket is {@code adminSocket} and whose frontend listens on {@code port}. */
  public HaproxyConfig(Path adminSocket, int port) {
    String socket = adminSocket.toString();
    if (!SOCKET_PATH.matcher(socket).matches() || socket.length() > MAX_SOCKET_PATH) {
      throw new IllegalArgumentException("admin socket '" + Arguments.printable(socket) + "' is not an absolute "
          + "path of at most " + MAX_SOCKET_PATH + " of A-Z a-z 0-9 _ . / -");
    }
    this.adminSocket = adminSocket;
    this.port = Arguments.port("frontend port", port);
  }

  public HaproxyConfig(HaproxyConfig other) {
    this(other.adminSocket, other.port);
    bindAddress = other.bindAddress;
    frontend = other.frontend;
    backend = other.backend;
    openBackend = other.openBackend;
    healthPath = other.healthPath;
    maxConnections = other.maxConnections;
    statsMaxConnections = other.statsMaxConnections;
    dbWritePort = other.dbWritePort;
    dbReadPort = other.dbReadPort;
  }

  /** TCP frontends for the DB pair on these ports: writes to {@link #DB_WRITE_BACKEND}, reads to the replicas. */
  public HaproxyConfig setDbPorts(int writePort, int readPort) {
    this.dbWritePort = Arguments.port("DB write port", writePort);
    this.dbReadPort = Arguments.port("DB read port", readPort);
    return this;
  }

  public int getDbWritePort() {
    return dbWritePort;
  }

  public int getDbReadPort() {
    return dbReadPort;
  }

  public Path getAdminSocket() {
    return adminSocket;
  }

  public int getPort() {
    return port;
  }

  public String getBindAddress() {
    return bindAddress;
  }

  /** The IPv4 address the frontend binds ({@code 0.0.0.0} for all). */
  public HaproxyConfig setBindAddress(String bindAddress) {
    if (bindAddress == null || !Ids.IPV4.matcher(bindAddress).matches()) {
      throw new IllegalArgumentException("bind address '" + Arguments.printable(bindAddress)
          + "' is not a dotted IPv4 address");
    }
    this.bindAddress = bindAddress;
    return this;
  }

  public String getFrontend() {
    return frontend;
  }

  public HaproxyConfig setFrontend(String frontend) {
    this.frontend = Arguments.name("frontend", frontend);
    return this;
  }

  public String getBackend() {
    return backend;
  }

  public HaproxyConfig setBackend(String backend) {
    this.backend = Arguments.name("backend", backend);
    return this;
  }

  public String getOpenBackend() {
    return openBackend;
  }

  /** The fail-open backend: the main backend's servers with connect-only checks, used while none of them is usable. */
  public HaproxyConfig setOpenBackend(String openBackend) {
    this.openBackend = Arguments.name("open backend", openBackend);
    return this;
  }

  public String getHealthPath() {
    return healthPath;
  }

  /** What HAProxy's checks GET on every server; a 200 is healthy. */
  public HaproxyConfig setHealthPath(String healthPath) {
    if (healthPath == null || !HEALTH_PATH.matcher(healthPath).matches()) {
      throw new IllegalArgumentException("health path '" + Arguments.printable(healthPath) + "' is not a path of "
          + "A-Z a-z 0-9 _ . / -");
    }
    this.healthPath = healthPath;
    return this;
  }

  public int getMaxConnections() {
    return maxConnections;
  }

  /** HAProxy's global {@code maxconn}; the frontend gets what the admin socket's share leaves. */
  public HaproxyConfig setMaxConnections(int maxConnections) {
    this.maxConnections = (int) Arguments.within("maxConnections", maxConnections, statsMaxConnections + 1,
        1_000_000);
    return this;
  }

  public int getStatsMaxConnections() {
    return statsMaxConnections;
  }

  public HaproxyConfig setStatsMaxConnections(int statsMaxConnections) {
    this.statsMaxConnections = (int) Arguments.within("statsMaxConnections", statsMaxConnections, 1,
        maxConnections - 1);
    return this;
  }

  /**
   * The whole file. The frontend's {@code maxconn} leaves the admin socket's share of the global one, so agents can
   * still register and drain while the frontend is full.
   */
  public String render() {
    return String.join("\n",
        "# haproxy.cfg of a Fleetvote LB instance. Servers are not listed here: agents add themselves at run time",
        "# through the admin socket, and a restarted HAProxy starts empty until they add themselves again.",
        "global",
        "    stats socket " + adminSocket + " mode 600 level admin",
        "    stats maxconn " + statsMaxConnections,
        "    stats timeout 30s",
        "    maxconn " + maxConnections,
        "    # a port another process holds must fail the start, not be shared silently through SO_REUSEPORT",
        "    noreuseport",
        "    hard-stop-after 30s",
        "    log stdout format raw local0 info",
        "",
        "defaults",
        "    mode http",
        "    log global",
        "    option httplog",
        "    timeout connect 2s",
        "    timeout client 30s",
        "    timeout server 30s",
        "    timeout check 2s",
        "    retries 3",
        "    option redispatch",
        "    retry-on conn-failure empty-response",
        "",
        "frontend " + frontend,
        "    bind " + bindAddress + ":" + port,
        "    maxconn " + (maxConnections - statsMaxConnections),
        "    # fail open: while no server of " + backend + " passes its health checks, route to those that accept "
            + "connections",
        "    use_backend " + openBackend + " if { nbsrv(" + backend + ") eq 0 } { nbsrv(" + openBackend + ") gt 0 }",
        "    default_backend " + backend,
        "",
        "backend " + backend,
        "    balance roundrobin",
        "    option httpchk GET " + healthPath,
        "    http-check expect status 200",
        "    # empty-response resends the request: only GET and HEAD may be sent twice",
        "    http-request disable-l7-retry unless METH_GET",
        "",
        "backend " + openBackend,
        "    # the same servers, checked by a connection only: an app too busy to answer its health check in time",
        "    # still accepts connections, a dead one does not",
        "    balance roundrobin",
        "    http-request disable-l7-retry unless METH_GET",
        "") + (dbWritePort == 0 ? "" : dbSections());
  }

  /**
   * The DB pair's TCP frontends: the write one to {@link #DB_WRITE_BACKEND}, which holds exactly one server (the
   * master) or none, the read one to the replicas. Servers are added at run time from the leader's route. Sessions
   * live long (pooled connections); a client that connects while there is no master is refused at once rather than
   * held ({@code timeout queue} short), so a writer sees the outage instead of a hang. For the same reason a connect
   * to a server that refuses it (a master just killed, until the leader empties the backend) is retried twice only,
   * half a second apart (the turn-around is {@code timeout connect}, not the defaults' 1 s, three times): a writer
   * held 3 s against a dead master missed the new one routed in the meantime (bench/failover's traces).
   */
  private String dbSections() {
    return String.join("\n",
        "",
        "# The DB pair: writes to the master alone, reads to the replicas (servers added by the agent at run time).",
        "frontend fe_db_write",
        "    mode tcp",
        "    option tcplog",
        "    bind " + bindAddress + ":" + dbWritePort,
        "    timeout client 1h",
        "    default_backend " + DB_WRITE_BACKEND,
        "",
        "backend " + DB_WRITE_BACKEND,
        "    mode tcp",
        "    balance first",
        "    timeout connect 500ms",
        "    retries 2",
        "    timeout server 1h",
        "    timeout queue 1s",
        "",
        "frontend fe_db_read",
        "    mode tcp",
        "    option tcplog",
        "    bind " + bindAddress + ":" + dbReadPort,
        "    timeout client 1h",
        "    default_backend " + DB_READ_BACKEND,
        "",
        "backend " + DB_READ_BACKEND,
        "    mode tcp",
        "    balance leastconn",
        "    timeout connect 500ms",
        "    retries 2",
        "    timeout server 1h",
        "    timeout queue 1s",
        "");
  }

  /** Writes {@link #render()} to {@code file} (through a temporary file and a rename); blocks. */
  public Path write(Path file) throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    Files.createDirectories(parent);
    Path temporary = Files.createTempFile(parent, file.getFileName().toString(), ".tmp");
    Files.writeString(temporary, render(), StandardCharsets.UTF_8);
    return Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  /** {@code haproxy -c -f file} with {@link #DEFAULT_HAPROXY}; blocks (call it from executeBlocking). */
  public static Verdict check(Path file) throws IOException, InterruptedException {
    return check(DEFAULT_HAPROXY, file);
  }

  /** {@code <haproxy> -c -f file}: what HAProxy thinks of a configuration file; blocks up to 10 s. */
  public static Verdict check(Path haproxy, Path file) throws IOException, InterruptedException {
    Path output = Files.createTempFile("haproxy-check", ".txt");
    try {
      Process process = new ProcessBuilder(List.of(haproxy.toString(), "-c", "-f", file.toString()))
          .redirectErrorStream(true)
          .redirectOutput(output.toFile())
          .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
          .start();
      if (!process.waitFor(CHECK_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        return new Verdict(false, "haproxy -c did not finish within " + CHECK_TIMEOUT_MS + " ms");
      }
      return new Verdict(process.exitValue() == 0, Files.readString(output, StandardCharsets.UTF_8).strip());
    } finally {
      Files.deleteIfExists(output);
    }
  }

  /** HAProxy's verdict on a configuration file, and what it printed (warnings too, when valid). */
  public record Verdict(boolean valid, String output) {
  }
}
