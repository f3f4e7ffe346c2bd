package io.fleetvote.agent.lb;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class HaproxyConfigTest {

  @TempDir
  Path dir;

  @Test
  void theRenderedConfigurationIsOneHaproxyAccepts() throws Exception {
    Path file = new HaproxyConfig(dir.resolve("admin.sock"), 18090).write(dir.resolve("haproxy.cfg"));
    HaproxyConfig.Verdict verdict = HaproxyConfig.check(file);
    assertThat(verdict.valid()).as(verdict.output()).isTrue();
    assertThat(verdict.output()).isEqualTo("Configuration file is valid");
  }

  @Test
  void withTheDbPairsPortsItIsStillOneHaproxyAcceptsWithTcpFrontendsAndEmptyBackends() throws Exception {
    HaproxyConfig config = new HaproxyConfig(dir.resolve("admin.sock"), 18090).setDbPorts(18091, 18092);
    HaproxyConfig.Verdict verdict = HaproxyConfig.check(config.write(dir.resolve("haproxy.cfg")));
    assertThat(verdict.valid()).as(verdict.output()).isTrue();
    assertThat(config.render()).contains("bind 127.0.0.1:18091", "backend " + HaproxyConfig.DB_WRITE_BACKEND,
        "bind 127.0.0.1:18092", "backend " + HaproxyConfig.DB_READ_BACKEND, "mode tcp");
    assertThat(new HaproxyConfig(dir.resolve("admin.sock"), 18090).render()).doesNotContain("be_db_write");
  }

  @Test
  void itHasTheAdminSocketTheRetriesAnEmptyDynamicBackendAndItsFailOpenTwin() {
    String rendered = new HaproxyConfig(Path.of("/run/fleetvote/admin.sock"), 80).setBindAddress("0.0.0.0")
        .setBackend("be_shop").setOpenBackend("fo_shop").setHealthPath("/ready").render();
    assertThat(rendered).contains(
        "    stats socket /run/fleetvote/admin.sock mode 600 level admin\n    stats maxconn 64\n",
        "    noreuseport\n",
        "    retries 3\n    option redispatch\n    retry-on conn-failure empty-response\n",
        "    bind 0.0.0.0:80\n    maxconn 1936\n",
        "    use_backend fo_shop if { nbsrv(be_shop) eq 0 } { nbsrv(fo_shop) gt 0 }\n    default_backend be_shop\n",
        "backend be_shop\n    balance roundrobin\n    option httpchk GET /ready\n    http-check expect status 200\n",
        "    http-request disable-l7-retry unless METH_GET\n",
        "backend fo_shop\n");
    assertThat(rendered.substring(rendered.indexOf("\nbackend fo_shop"))).as("connect-only checks")
        .doesNotContain("httpchk");
    assertThat(rendered).doesNotContain("    server ");
  }

  @Test
  void aBrokenConfigurationIsReportedWithHaproxysWords() throws Exception {
    Path file = Files.writeString(dir.resolve("broken.cfg"), "backend b\n    balance nosuchalgorithm\n");
    HaproxyConfig.Verdict verdict = HaproxyConfig.check(file);
    assertThat(verdict.valid()).isFalse();
    assertThat(verdict.output()).contains("broken.cfg:2", "balance only supports");
  }

  @Test
  void namesAndPathsThatWouldChangeTheConfigurationAreRefused() {
    HaproxyConfig config = new HaproxyConfig(dir.resolve("admin.sock"), 18090);
    assertThatThrownBy(() -> config.setBackend("be\n    server evil 1.2.3.4:80")).hasMessageContaining("backend");
    assertThatThrownBy(() -> config.setHealthPath("/health HTTP/1.1")).hasMessageContaining("health path");
    assertThatThrownBy(() -> config.setBindAddress("localhost")).hasMessageContaining("bind address");
    assertThatThrownBy(() -> new HaproxyConfig(Path.of("relative.sock"), 80)).hasMessageContaining("admin socket");
    assertThatThrownBy(() -> new HaproxyConfig(dir.resolve("admin.sock"), 0)).hasMessageContaining("frontend port");
  }
}
