package io.fleetvote.coordinator.ui;

import io.fleetvote.common.net.FreePorts;
import io.fleetvote.coordinator.Coordinator;
import io.fleetvote.coordinator.CoordinatorOptions;
import io.fleetvote.coordinator.TestUsers;
import io.fleetvote.sandbox.ImageCatalog;
import io.fleetvote.testkit.Await;
import io.fleetvote.testkit.Chromium;
import io.fleetvote.testkit.Ec2Clients;
import io.fleetvote.testkit.SandboxProcess;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.WebDriverWait;
import software.amazon.awssdk.services.ec2.Ec2Client;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The dashboard in a real browser (Debian's chromium, headless) against a real coordinator and sandbox: logging in,
 * a launch showing up in the instances view and the chart, the ledger's reasons, no console errors.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DashboardIT {

  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  @TempDir
  static Path dir;
  static SandboxProcess sandbox;
  static Coordinator coordinator;
  static Chromium browser;
  static String base;

  @BeforeAll
  static void start() throws Exception {
    sandbox = SandboxProcess.start(dir.resolve("sandbox"));
    Path users = TestUsers.write(dir);
    int clusterPort = FreePorts.pick();
    JsonObject web = new JsonObject().put("name", "web").put("imageId", ImageCatalog.imageId("fleetvote-app"))
        .put("min", 1).put("max", 3).put("agent", new JsonObject().put("gossipPeriodMs", 500).put("sampleMs", 500)
            .put("warmupMs", 1000));
    coordinator = Coordinator.start(new CoordinatorOptions(new JsonObject().put("deployment", "it").put("httpPort", 0)
        .put("usersFile", users.toString())
        .put("cluster", new JsonObject().put("clusterName", "ui-" + UUID.randomUUID()).put("port", clusterPort)
            .put("portAutoIncrement", false).put("members", new JsonArray().add("127.0.0.1:" + clusterPort)))
        .put("gateway", sandbox.agentGateway())
        .put("dataDir", dir.resolve("coordinator").toString())
        .put("scaling", new JsonObject().put("tickMillis", 500)
            .put("fleetRefreshMillis", 2000).put("groups", new JsonArray().add(web))
            .put("fleet", new JsonObject().put("deployment", "it").put("endpoint", sandbox.endpoint().toString())))))
        .await();
    base = "http://127.0.0.1:" + coordinator.httpPort();
    browser = Chromium.start(dir.resolve("chromium"));
  }

  @AfterAll
  static void stop() {
    try {
      if (browser != null) {
        browser.close();
      }
    } finally {
      TestUsers.stop(coordinator, sandbox);
    }
  }

  @Test
  @Order(1)
  void aWrongPasswordIsSaidOnTheLoginPageAndTheRightOneOpensTheDashboard() {
    browser.driver().get(base + "/");
    wait(TIMEOUT).until(d -> d.getCurrentUrl().endsWith("/login.html"));
    login("ops", "not-the-password");
    wait(TIMEOUT).until(d -> d.findElement(By.id("message")).getText().contains("wrong name or password"));
    browser.consoleErrors(); // the refused login is a 401 the console reports: expected, and read away here
    login("ops", "ops-password");
    wait(TIMEOUT).until(d -> d.findElement(By.id("who")).getText().equals("ops (operator)"));
    wait(TIMEOUT).until(d -> d.findElement(By.id("link")).getText().equals("live"));
    try {
      wait(Duration.ofSeconds(10)).until(d -> ((Number) js("return window.fleetvoteStats.snapshots;")).intValue() > 0);
    } catch (RuntimeException e) {
      throw new AssertionError("no snapshot applied: stats " + js("return JSON.stringify(window.fleetvoteStats);")
          + ", bus " + js("return window.fleetvoteStats.bus.messages + ' messages, ' + window.fleetvoteStats.bus.bytes"
          + " + ' bytes';") + ", console " + browser.consoleErrors(), e);
    }
  }

  @Test
  @Order(2)
  void aLaunchShowsUpInTheInstancesViewAndTheChartWithinTwoSeconds() {
    String first = waitForRow(null);
    // A launch while the page watches: the first instance goes, the coordinator launches its replacement.
    try (Ec2Client ec2 = Ec2Clients.sync(sandbox.endpoint())) {
      ec2.terminateInstances(b -> b.instanceIds(first));
    }
    String launched = waitForRow(first);
    long launchedAt = Instant.parse(sandbox.admin().instance(launched).getString("launchTime")).toEpochMilli();
    long seenAt = ((Number) js("return window.fleetvoteTest.firstSeen[arguments[0]];", launched)).longValue();
    System.out.printf("%s launched at %d, in the instances view %d ms later%n", launched, launchedAt,
        seenAt - launchedAt);
    assertThat(seenAt - launchedAt).as("RunInstances -> row in the instances view").isLessThanOrEqualTo(2000);
    wait(TIMEOUT).until(d -> d.findElements(By.cssSelector("#load-chart .u-legend .u-series")).stream()
        .anyMatch(e -> e.getText().contains(launched)));
    WebElement group = browser.driver().findElement(By.cssSelector(".group[data-group='web']"));
    assertThat(group.getText()).contains("min 1, max 3");
  }

  @Test
  @Order(3)
  void theLedgerSaysWhyTheGroupGrew() {
    wait(TIMEOUT).until(d -> d.findElements(By.cssSelector("#ledger tbody tr")).stream()
        .anyMatch(r -> r.getText().contains("below min") && r.getText().contains("launch")));
    new org.openqa.selenium.support.ui.Select(browser.driver().findElement(By.id("ledger-outcome")))
        .selectByVisibleText("shrink");
    wait(TIMEOUT).until(d -> d.findElements(By.cssSelector("#ledger tbody tr")).isEmpty());
    new org.openqa.selenium.support.ui.Select(browser.driver().findElement(By.id("ledger-outcome")))
        .selectByVisibleText("all");
    wait(TIMEOUT).until(d -> !d.findElements(By.cssSelector("#ledger tbody tr")).isEmpty());
  }

  @Test
  @Order(4)
  void anOperatorPausesTheGroupAndScalingStopsUntilResumed() throws Exception {
    click(".group[data-group='web'] button[data-action='pause']");
    wait(TIMEOUT).withMessage(() -> "notice: " + browser.driver().findElement(By.id("notice")).getText())
        .until(d -> d.findElement(By.id("notice")).getText().contains("ops paused the autoscaling of web"));
    wait(TIMEOUT).until(d -> d.findElement(By.cssSelector(".group[data-group='web'] h3")).getText().contains("paused"));
    // The group's one live instance (the view may still list the one terminated before, on its way out).
    String only = Await.until("group web's one live instance", TIMEOUT, () -> sandbox.admin().instances().stream()
        .filter(i -> List.of("pending", "running").contains(i.getString("state")))
        .map(i -> i.getString("instanceId")).toList(), live -> live.size() == 1).get(0);
    try (Ec2Client ec2 = Ec2Clients.sync(sandbox.endpoint())) {
      ec2.terminateInstances(b -> b.instanceIds(only));
    }
    wait(TIMEOUT).until(d -> d.findElements(By.cssSelector("#ledger tbody tr")).stream()
        .anyMatch(r -> r.getText().contains("paused") && r.getText().contains("it would have: grow")));
    assertThat(sandbox.admin().instances().stream().filter(i -> !i.getString("state").equals("terminated")
        && !i.getString("state").equals("shutting-down"))).as("no launch while paused").isEmpty();
    click(".group[data-group='web'] button[data-action='resume']");
    wait(TIMEOUT).until(d -> d.findElement(By.cssSelector(".group[data-group='web'] h3")).getText()
        .contains("autoscaling"));
    waitForRow(only);
  }

  @Test
  @Order(5)
  void theBrowserConsoleHasNoErrors() throws Exception {
    byte[] png = ((org.openqa.selenium.TakesScreenshot) browser.driver()).getScreenshotAs(org.openqa.selenium.OutputType.BYTES);
    Files.write(Path.of("target", "dashboard-it.png"), png);
    assertThat(browser.consoleErrors()).isEmpty();
  }

  @Test
  @Order(6)
  void aViewersActionIsRefusedAndSaysWhy() {
    click("#logout");
    wait(TIMEOUT).until(d -> d.getCurrentUrl().endsWith("/login.html"));
    login("eve", "eve-password");
    wait(TIMEOUT).until(d -> d.findElement(By.id("who")).getText().equals("eve (viewer)"));
    wait(TIMEOUT).until(d -> !d.findElements(By.cssSelector(".group[data-group='web'] button[data-action='pause']"))
        .isEmpty());
    click(".group[data-group='web'] button[data-action='pause']");
    wait(TIMEOUT).until(d -> d.findElement(By.id("notice")).getText()
        .contains("refused (403): this needs the operator role; eve is a viewer"));
    assertThat(browser.driver().findElement(By.cssSelector(".group[data-group='web'] h3")).getText())
        .contains("autoscaling");
    assertThat(browser.consoleErrors()).as("only the refused action's 403").allMatch(m -> m.contains("403"));
  }

  private static void click(String css) {
    wait(TIMEOUT).until(d -> {
      d.findElement(By.cssSelector(css)).click();
      return true;
    });
  }

  /** Watches the instances view (when each row first appeared) and waits for a row other than {@code except}. */
  private static String waitForRow(String except) {
    js("window.fleetvoteTest = window.fleetvoteTest || {firstSeen: {}};"
        + "if (!window.fleetvoteTest.observer) {"
        + "  const mark = () => document.querySelectorAll('#instances tbody tr').forEach(r => {"
        + "    const id = r.dataset.instance; if (!(id in window.fleetvoteTest.firstSeen))"
        + "      window.fleetvoteTest.firstSeen[id] = Date.now(); });"
        + "  mark();"
        + "  window.fleetvoteTest.observer = new MutationObserver(mark);"
        + "  window.fleetvoteTest.observer.observe(document.querySelector('#instances tbody'), {childList: true});"
        + "}");
    return wait(TIMEOUT).until(d -> {
      @SuppressWarnings("unchecked")
      List<String> ids = (List<String>) js("return [...document.querySelectorAll('#instances tbody tr')]"
          + ".map(r => r.dataset.instance);");
      return ids.stream().filter(id -> !id.equals(except)).findFirst().orElse(null);
    });
  }

  private static void login(String name, String password) {
    browser.driver().findElement(By.id("name")).clear();
    browser.driver().findElement(By.id("name")).sendKeys(name);
    browser.driver().findElement(By.id("password")).clear();
    browser.driver().findElement(By.id("password")).sendKeys(password);
    browser.driver().findElement(By.id("submit")).click();
  }

  private static Object js(String script, Object... args) {
    return browser.script(script, args);
  }

  /** Waits, reading the page again when a re-render replaced an element between finding and reading it. */
  private static WebDriverWait wait(Duration timeout) {
    WebDriverWait wait = new WebDriverWait(browser.driver(), timeout);
    wait.ignoring(org.openqa.selenium.StaleElementReferenceException.class);
    return wait;
  }
}
