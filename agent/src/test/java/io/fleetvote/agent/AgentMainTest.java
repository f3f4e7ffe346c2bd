package io.fleetvote.agent;

import io.fleetvote.agent.AgentMain.Invocation;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AgentMainTest {

  @Test
  void onlyOptionsGivenOnTheCommandLineOverrideTheOtherSources() {
    assertThat(read().overrides()).isEqualTo(new JsonObject());
    assertThat(read().configFile()).isEmpty();
    assertThat(read("--port", "19110", "--app-port", "0").overrides())
        .isEqualTo(new JsonObject().put("agentPort", 19110).put("appPort", 0));
  }

  @Test
  void theSensorCanBeChosenOnTheCommandLine() {
    assertThat(read("--sensor", "process", "--sensor-pid-file", "/i/demo-app.pid", "--sensor-cores", "0.5")
        .overrides()).isEqualTo(new JsonObject().put("sensor", "process").put("sensorPidFile", "/i/demo-app.pid")
        .put("sensorCores", 0.5));
    assertThatThrownBy(() -> read("--sensor-cores", "two"))
        .hasMessage("option --sensor-cores: 'two' is not a number");
  }

  @Test
  void metadataEndpointAndConfigFileAreTakenAsGiven() {
    Invocation invocation = read("--imds", "http://127.0.0.1:8601", "--config", "/etc/fleetvote/agent.json");
    assertThat(invocation.imds()).isEqualTo(URI.create("http://127.0.0.1:8601"));
    assertThat(invocation.configFile()).contains(Path.of("/etc/fleetvote/agent.json"));
  }

  @Test
  void badValuesNameTheOption() {
    assertThatThrownBy(() -> read("--port", "0")).hasMessage("option --port: 0 is out of range [1, 65535]");
    assertThatThrownBy(() -> read("--imds", "169.254.169.254")).hasMessageStartingWith("option --imds: ");
  }

  private static Invocation read(String... args) {
    return Invocation.read(AgentMain.COMMAND_LINE.parse(args));
  }
}
