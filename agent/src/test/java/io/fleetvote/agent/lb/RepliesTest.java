package io.fleetvote.agent.lb;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Replies as HAProxy 2.6.12 wrote them in the lab, and near misses that must not pass for them. */
class RepliesTest {

  private static final String STATE_HEADER = "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state "
      + "srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health "
      + "srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl "
      + "srv_check_port srv_check_addr srv_agent_addr srv_agent_port";
  private static final String STAT_HEADER = "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,"
      + "econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,"
      + "lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,"
      + "hrsp_4xx,hrsp_5xx,hrsp_other,";

  @Test
  void theTwoTablesAreJoinedByServerNameAndReadByColumnName() {
    String state = "1\n" + STATE_HEADER + "\n"
        + "3 be_web 1 i-1 10.0.0.5 2 8 1 1 45 15 3 2 6 0 0 0 - 8080 - 0 0 - - 0\n"
        + "3 be_web 2 i-2 10.0.0.6 0 1 1 1 0 1 0 0 2 0 0 0 - 8081 - 0 0 - - 0\n\n";
    String stat = STAT_HEADER + "\n"
        + "be_web,i-2,0,0,0,0,,0,0,0,,0,,0,0,0,0,MAINT,1,1,0,,,7,,,1,3,2,,0,,2,0,,0,,,,0,0,0,0,0,0,\n"
        + "be_web,i-1,1,2,3,4,,12,0,0,,0,,5,6,0,0,DRAIN,1,1,0,0,0,45,0,,1,3,1,,12,,2,0,,0,L7OK,200,1,0,9,0,0,2,0,\n\n";
    List<ServerState> servers = Replies.join("be_web", "state", state, Replies.serversState("state", state),
        "stat", stat, Replies.stat("stat", stat));
    assertThat(servers).containsExactly(
        new ServerState("i-1", "10.0.0.5", 8080, true, false, true, "L7OK", 3, 1, 12, 2, 5, 6, 45, 1),
        new ServerState("i-2", "10.0.0.6", 8081, false, true, false, "", 0, 0, 0, 0, 0, 0, 7, 1));
  }

  @Test
  void aServerInOnlyOneOfTheTablesIsLeftOut() {
    String state = "1\n" + STATE_HEADER + "\n3 be_web 1 i-1 10.0.0.5 2 0 1 1 45 15 3 2 6 0 0 0 - 8080 - 0 0 - - 0\n\n";
    String stat = STAT_HEADER + "\n\n";
    assertThat(Replies.join("be_web", "state", state, Replies.serversState("state", state), "stat", stat,
        Replies.stat("stat", stat))).isEmpty();
  }

  @Test
  void quotedCsvFieldsKeepTheirCommasAndQuotes() {
    assertThat(Replies.csv("c", "r", "a,\"b,c\",\"say \"\"hi\"\"\",,")).containsExactly("a", "b,c", "say \"hi\"", "",
        "");
  }

  @Test
  void anUnknownBackendIsAnErrorNotAnEmptyBackend() {
    assertThatThrownBy(() -> Replies.serversState("show servers state nope", "Can't find backend.\n\n"))
        .isInstanceOf(HaproxyException.class).hasMessageContaining("show servers state nope")
        .hasMessageContaining("Can't find backend.");
    assertThatThrownBy(() -> Replies.stat("show stat nope 4 -1", "No such proxy.\n\n"))
        .isInstanceOf(HaproxyException.class).hasMessageContaining("No such proxy.");
  }

  @Test
  void aTableCutShortOrWithARaggedRowIsRefused() {
    String complete = "1\n" + STATE_HEADER + "\n"
        + "3 be_web 1 i-1 10.0.0.5 2 0 1 1 45 15 3 2 6 0 0 0 - 8080 - 0 0 - - 0\n\n";
    assertThatThrownBy(() -> Replies.serversState("s", complete.substring(0, complete.length() - 1)))
        .hasMessageContaining("incomplete reply");
    assertThatThrownBy(() -> Replies.serversState("s", "1\n" + STATE_HEADER + "\n3 be_web 1 i-1\n\n"))
        .hasMessageContaining("a row has 4 fields under a header of 25");
    assertThatThrownBy(() -> Replies.serversState("s", "2\n" + STATE_HEADER + "\n\n"))
        .hasMessageContaining("unexpected reply");
    assertThatThrownBy(() -> Replies.stat("s", "# pxname,svname,qcur\n\n"))
        .hasMessageContaining("the header has no column");
  }

  @Test
  void infoNeedsPidUptimeAndVersion() {
    Haproxy.Info info = Replies.info("show info", "Name: HAProxy\nVersion: 2.6.12-1+deb12u3\nPid: 10811\n"
        + "Uptime: 0d 0h00m00s\nUptime_sec: 42\nUnstoppable Jobs: 0\n\n");
    assertThat(info).isEqualTo(new Haproxy.Info(10811, 42, "2.6.12-1+deb12u3"));
    assertThatThrownBy(() -> Replies.info("show info", "Name: HAProxy\nVersion: 2.6\n\n"))
        .hasMessageContaining("is not a count");
    assertThatThrownBy(() -> Replies.info("show info", "hello\n")).isInstanceOf(HaproxyException.class);
  }

  @Test
  void oneLineRepliesMustMatchExactly() {
    assertThat(Replies.added("a", "New server registered.\n\n")).isEqualTo(Haproxy.Added.REGISTERED);
    assertThat(Replies.deleted("d", "Server deleted.\n")).isEqualTo(Haproxy.Deleted.DELETED);
    assertThat(Replies.empty("e", "\n")).isNull();
    assertThatThrownBy(() -> Replies.empty("e", "")).hasMessageContaining("incomplete reply");
    assertThatThrownBy(() -> Replies.added("a", "New server registered")).hasMessageContaining("incomplete reply");
    assertThatThrownBy(() -> Replies.added("a", " New server registered.\n")).hasMessageContaining("unexpected");
    assertThatThrownBy(() -> Replies.deleted("d", "Only servers in maintenance mode can be deleted.\n"))
        .isInstanceOf(HaproxyException.class)
        .satisfies(e -> assertThat(((HaproxyException) e).reply())
            .isEqualTo("Only servers in maintenance mode can be deleted.\n"));
  }
}
