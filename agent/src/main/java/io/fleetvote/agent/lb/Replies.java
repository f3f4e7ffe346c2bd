package io.fleetvote.agent.lb;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Strict readings of HAProxy 2.6 runtime-API replies. A reply counts only when it is complete (it ends with a
 * newline; tables end with an empty line) and has exactly the expected shape; anything else is a
 * {@link HaproxyException} that names the command and quotes the reply.
 */
final class Replies {

  /** The format version {@code show servers state} prints on its first line. */
  static final String SERVERS_STATE_VERSION = "1";

  private static final Pattern COUNT = Pattern.compile("\\d{1,18}");
  private static final Set<String> STATE_COLUMNS = Set.of("srv_name", "srv_addr", "srv_op_state",
      "srv_admin_state", "srv_port");
  private static final Set<String> STAT_COLUMNS = Set.of("pxname", "svname", "scur", "qcur", "stot", "status",
      "check_status", "hrsp_5xx", "econ", "eresp", "lastchg", "weight");
  private static final int OP_STATE_RUNNING = 2;
  /** SRV_ADMF_FMAINT | IMAINT | CMAINT | RMAINT: forced, inherited, configured, or address-resolution maintenance. */
  private static final int ADMIN_MAINT_MASK = 0x01 | 0x02 | 0x04 | 0x20;
  /** SRV_ADMF_FDRAIN | IDRAIN. */
  private static final int ADMIN_DRAIN_MASK = 0x08 | 0x10;

  private Replies() {
  }

  /** The reply's one line, without its trailing newlines; an incomplete (or empty) reply fails. */
  static String line(String command, String reply) {
    if (reply.isEmpty() || !reply.endsWith("\n")) {
      throw new HaproxyException(command, reply, "incomplete reply (the connection closed before a newline)");
    }
    int end = reply.length();
    while (end > 0 && reply.charAt(end - 1) == '\n') {
      end--;
    }
    return reply.substring(0, end);
  }

  /** The success of enable health, set server state and shutdown sessions: a reply that is an empty line. */
  static Void empty(String command, String reply) {
    if (!line(command, reply).isEmpty()) {
      throw unexpected(command, reply);
    }
    return null;
  }

  static Haproxy.Added added(String command, String reply) {
    return switch (line(command, reply)) {
      case "New server registered." -> Haproxy.Added.REGISTERED;
      case "Already exists a server with the same name in backend." -> Haproxy.Added.ALREADY_EXISTS;
      default -> throw unexpected(command, reply);
    };
  }

  static Haproxy.Deleted deleted(String command, String reply) {
    return switch (line(command, reply)) {
      case "Server deleted." -> Haproxy.Deleted.DELETED;
      case "Server still has connections attached to it, cannot remove it." -> Haproxy.Deleted.STILL_CONNECTED;
      case "No such server." -> Haproxy.Deleted.NO_SUCH_SERVER;
      default -> throw unexpected(command, reply);
    };
  }

  /** {@code show info}: {@code Key: value} lines; Pid, Uptime_sec and Version must be there. */
  static Haproxy.Info info(String command, String reply) {
    Map<String, String> fields = new HashMap<>();
    for (String line : block(command, reply)) {
      int colon = line.indexOf(": ");
      if (colon <= 0) {
        throw unexpected(command, reply);
      }
      fields.putIfAbsent(line.substring(0, colon), line.substring(colon + 2));
    }
    String version = fields.get("Version");
    if (version == null || version.isBlank()) {
      throw unexpected(command, reply);
    }
    return new Haproxy.Info(count(command, reply, fields.get("Pid"), false),
        count(command, reply, fields.get("Uptime_sec"), false), version);
  }

  /**
   * {@code show servers state <b>}: the format version ({@code 1}), a {@code # col col ...} header, one row of
   * space-separated fields per server, then an empty line. Rows are read by the header's column names.
   */
  static List<Map<String, String>> serversState(String command, String reply) {
    List<String> lines = block(command, reply);
    if (lines.size() < 2 || !lines.get(0).equals(SERVERS_STATE_VERSION) || !lines.get(1).startsWith("# ")) {
      throw unexpected(command, reply);
    }
    List<String> columns = List.of(lines.get(1).substring(2).split(" ", -1));
    requireColumns(command, reply, columns, STATE_COLUMNS);
    List<Map<String, String>> rows = new ArrayList<>();
    for (String line : lines.subList(2, lines.size())) {
      if (!line.startsWith("#")) {
        rows.add(row(command, reply, columns, List.of(line.split(" ", -1))));
      }
    }
    return rows;
  }

  /** {@code show stat <b> 4 -1}: CSV under a {@code # pxname,svname,...} header, then an empty line. */
  static List<Map<String, String>> stat(String command, String reply) {
    List<String> lines = block(command, reply);
    if (lines.isEmpty() || !lines.get(0).startsWith("# ")) {
      throw unexpected(command, reply);
    }
    List<String> columns = csv(command, reply, lines.get(0).substring(2));
    requireColumns(command, reply, columns, STAT_COLUMNS);
    List<Map<String, String>> rows = new ArrayList<>();
    for (String line : lines.subList(1, lines.size())) {
      rows.add(row(command, reply, columns, csv(command, reply, line)));
    }
    return rows;
  }

  /** The FRONTEND row of one table and the BACKEND row of the other, as {@link Haproxy.Totals}. */
  static Haproxy.Totals totals(String frontendCommand, String frontendReply, String backendCommand,
                               String backendReply) {
    Map<String, String> frontend = stat(frontendCommand, frontendReply).stream()
        .filter(r -> "FRONTEND".equals(r.get("svname"))).findFirst()
        .orElseThrow(() -> unexpected(frontendCommand, frontendReply));
    Map<String, String> backend = stat(backendCommand, backendReply).stream()
        .filter(r -> "BACKEND".equals(r.get("svname"))).findFirst()
        .orElseThrow(() -> unexpected(backendCommand, backendReply));
    return new Haproxy.Totals(
        count(frontendCommand, frontendReply, frontend.get("req_tot"), true),
        count(frontendCommand, frontendReply, frontend.get("hrsp_5xx"), true),
        count(backendCommand, backendReply, backend.get("hrsp_5xx"), true),
        count(backendCommand, backendReply, backend.get("econ"), true),
        count(backendCommand, backendReply, backend.get("eresp"), true),
        count(backendCommand, backendReply, backend.get("wretr"), true),
        count(backendCommand, backendReply, backend.get("wredis"), true));
  }

  /**
   * One {@link ServerState} per server named in both tables, in the order of {@code show servers state}. A server
   * added or deleted between the two commands is in only one of them and is left out; the next call sees it.
   */
  static List<ServerState> join(String backend, String stateCommand, String stateReply,
                                List<Map<String, String>> states, String statCommand, String statReply,
                                List<Map<String, String>> stats) {
    Map<String, Map<String, String>> statByName = new LinkedHashMap<>();
    for (Map<String, String> stat : stats) {
      if (stat.get("pxname").equals(backend)) {
        statByName.put(stat.get("svname"), stat);
      }
    }
    List<ServerState> servers = new ArrayList<>();
    for (Map<String, String> state : states) {
      Map<String, String> stat = statByName.get(state.get("srv_name"));
      if (stat == null) {
        continue;
      }
      int opState = (int) count(stateCommand, stateReply, state.get("srv_op_state"), false);
      int adminState = (int) count(stateCommand, stateReply, state.get("srv_admin_state"), false);
      servers.add(new ServerState(state.get("srv_name"), state.get("srv_addr"),
          (int) count(stateCommand, stateReply, state.get("srv_port"), false),
          opState == OP_STATE_RUNNING, (adminState & ADMIN_MAINT_MASK) != 0, (adminState & ADMIN_DRAIN_MASK) != 0,
          stat.get("check_status"),
          count(statCommand, statReply, stat.get("scur"), true),
          count(statCommand, statReply, stat.get("qcur"), true),
          count(statCommand, statReply, stat.get("stot"), true),
          count(statCommand, statReply, stat.get("hrsp_5xx"), true),
          count(statCommand, statReply, stat.get("econ"), true),
          count(statCommand, statReply, stat.get("eresp"), true),
          count(statCommand, statReply, stat.get("lastchg"), true),
          (int) count(statCommand, statReply, stat.get("weight"), true)));
    }
    return servers;
  }

  static HaproxyException unexpected(String command, String reply) {
    return new HaproxyException(command, reply, "unexpected reply");
  }

  /** The lines before the empty line that ends a block; nothing but empty lines may follow it. */
  private static List<String> block(String command, String reply) {
    String[] lines = reply.split("\n", -1);
    int end = 0;
    while (end < lines.length && !lines[end].isEmpty()) {
      end++;
    }
    if (end >= lines.length - 1) {
      throw new HaproxyException(command, reply, "incomplete reply (no empty line after it)");
    }
    for (int i = end; i < lines.length; i++) {
      if (!lines[i].isEmpty()) {
        throw unexpected(command, reply);
      }
    }
    return List.of(lines).subList(0, end);
  }

  private static Map<String, String> row(String command, String reply, List<String> columns, List<String> values) {
    if (values.size() != columns.size()) {
      throw new HaproxyException(command, reply, "a row has " + values.size() + " fields under a header of "
          + columns.size());
    }
    Map<String, String> row = new HashMap<>();
    for (int i = 0; i < columns.size(); i++) {
      row.put(columns.get(i), values.get(i));
    }
    return row;
  }

  private static void requireColumns(String command, String reply, List<String> columns, Set<String> required) {
    for (String column : required) {
      if (!columns.contains(column)) {
        throw new HaproxyException(command, reply, "the header has no column '" + column + "'");
      }
    }
  }

  /** A count: digits, or (where {@code emptyIsZero}) nothing, which HAProxy prints for "not applicable". */
  private static long count(String command, String reply, String value, boolean emptyIsZero) {
    if (value != null && emptyIsZero && value.isEmpty()) {
      return 0;
    }
    if (value == null || !COUNT.matcher(value).matches()) {
      throw new HaproxyException(command, reply, "'" + value + "' is not a count");
    }
    return Long.parseLong(value);
  }

  /** One CSV line as HAProxy writes it: a field with a comma or a quote is quoted, a quote inside doubled. */
  static List<String> csv(String command, String reply, String line) {
    List<String> fields = new ArrayList<>();
    StringBuilder field = new StringBuilder();
    int i = 0;
    while (true) {
      if (i < line.length() && line.charAt(i) == '"') {
        i++;
        while (true) {
          if (i >= line.length()) {
            throw new HaproxyException(command, reply, "an unterminated quoted CSV field");
          }
          char c = line.charAt(i++);
          if (c != '"') {
            field.append(c);
          } else if (i < line.length() && line.charAt(i) == '"') {
            field.append('"');
            i++;
          } else {
            break;
          }
        }
        if (i < line.length() && line.charAt(i) != ',') {
          throw new HaproxyException(command, reply, "text after a quoted CSV field");
        }
      } else {
        while (i < line.length() && line.charAt(i) != ',') {
          field.append(line.charAt(i++));
        }
      }
      fields.add(field.toString());
      field.setLength(0);
      if (i >= line.length()) {
        return fields;
      }
      i++;
    }
  }
}
