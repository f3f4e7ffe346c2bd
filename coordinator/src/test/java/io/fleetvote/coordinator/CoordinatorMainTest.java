package io.fleetvote.coordinator;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CoordinatorMainTest {

  @Test
  void withoutOptionsTheCoordinatorServesTheDefaultDeploymentOnLoopback() {
    CoordinatorOptions options = read();
    assertThat(options.toJson()).isEqualTo(new CoordinatorOptions().toJson());
    assertThat(options.getDeployment()).isEqualTo("default");
    assertThat(options.getHttpHost()).isEqualTo("127.0.0.1");
    assertThat(options.getHttpPort()).isEqualTo(9100);
    assertThat(options.getCluster().getClusterName()).isEqualTo("fleetvote");
    assertThat(options.getCluster().getHost()).isEqualTo("127.0.0.1");
    assertThat(options.getCluster().getPort()).isEqualTo(5701);
    assertThat(options.getCluster().getMembers()).isEmpty();
  }

  @Test
  void everyOptionIsTakenAsGiven() {
    CoordinatorOptions options = read("--deployment", "shop", "--cluster-name", "shop-prod", "--cluster-host", "10.0.0.5",
        "--cluster-port", "5801", "--members", "10.0.0.6:5801, 10.0.0.7", "--http-host", "0.0.0.0", "--http-port", "8090",
        "--event-bus-port", "5802", "--cluster-key", "/etc/fleetvote/cluster.p12");
    assertThat(options.getDeployment()).isEqualTo("shop");
    assertThat(options.getCluster().getClusterName()).isEqualTo("shop-prod");
    assertThat(options.getCluster().getHost()).isEqualTo("10.0.0.5");
    assertThat(options.getCluster().getPort()).isEqualTo(5801);
    assertThat(options.getCluster().getMembers()).isEqualTo(List.of("10.0.0.6:5801", "10.0.0.7"));
    assertThat(options.getCluster().getEventBusPort()).isEqualTo(5802);
    assertThat(options.getCluster().getKeyStore()).isEqualTo("/etc/fleetvote/cluster.p12");
    assertThat(options.getHttpHost()).isEqualTo("0.0.0.0");
    assertThat(options.getHttpPort()).isEqualTo(8090);
  }

  @Test
  void badValuesNameTheOption() {
    assertThatThrownBy(() -> read("--deployment", "Shop")).hasMessageStartingWith("option --deployment: 'Shop' ");
    assertThatThrownBy(() -> read("--members", "a,b c")).hasMessageStartingWith("option --members: 'b c' ");
    assertThatThrownBy(() -> read("--cluster-name", "-x")).hasMessageStartingWith("option --cluster-name: '-x' ");
    assertThatThrownBy(() -> read("--cluster-host", "example.org"))
        .hasMessage("option --cluster-host: 'example.org' is not an IPv4 address");
    assertThatThrownBy(() -> read("--http-port", "70000")).hasMessage("option --http-port: 70000 is out of range [0, 65535]");
  }

  @Test
  void theApiIsOpenOnlyWhenAskedFor() {
    assertThatThrownBy(() -> CoordinatorMain.options(CoordinatorMain.COMMAND_LINE.parse(new String[0])))
        .hasMessageContaining("give --users FILE").hasMessageContaining("--no-auth");
    assertThatThrownBy(() -> read("--users", "/nonexistent/users.json", "--no-auth"))
        .hasMessage("give --users or --no-auth, not both");
    assertThat(read().getUsersFile()).isNull();
  }

  @Test
  void aCoordinatorThatScalesRunsTheAgentGatewayAndMustBeToldHowToVerifyIdentities(@TempDir Path dir)
      throws IOException {
    Path groups = Files.writeString(dir.resolve("groups.json"),
        "{\"groups\": [{\"name\": \"web\", \"imageId\": \"ami-0123456789abcdef0\"}]}");
    assertThatThrownBy(() -> read("--groups", groups.toString()))
        .hasMessageStartingWith("option --groups needs --identity-certificate");
    Path certificate = Files.writeString(dir.resolve("identity.pem"),
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    CoordinatorOptions options = read("--groups", groups.toString(), "--identity-certificate", certificate.toString(),
        "--cluster-host", "10.0.0.5");
    assertThat(options.getGateway().host()).as("the gateway binds where the cluster does").isEqualTo("10.0.0.5");
    assertThat(options.getGateway().port()).isEqualTo(CoordinatorMain.DEFAULT_AGENT_PORT);
    assertThat(options.getGateway().identityCertificate()).startsWith("-----BEGIN CERTIFICATE-----");
    assertThatThrownBy(() -> read("--agent-port", "9443"))
        .hasMessage("option --agent-port needs --groups (it configures the autoscaler)");
  }

  @Test
  void optionsSurviveAJsonRoundTrip() {
    CoordinatorOptions options = read("--deployment", "shop", "--members", "10.0.0.6").setExpireAfterMillis(1500)
        .setFutureToleranceMillis(0);
    assertThat(new CoordinatorOptions(options).toJson()).isEqualTo(options.toJson());
  }

  private static CoordinatorOptions read(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    if (!all.contains("--users") && !all.contains("--no-auth")) {
      all.add("--no-auth");
    }
    return CoordinatorMain.options(CoordinatorMain.COMMAND_LINE.parse(all.toArray(String[]::new)));
  }
}
