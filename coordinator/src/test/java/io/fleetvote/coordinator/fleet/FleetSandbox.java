package io.fleetvote.coordinator.fleet;

import io.fleetvote.sandbox.ImageCatalog;
import io.fleetvote.testkit.Ec2Clients;
import io.fleetvote.testkit.SandboxAdmin;
import io.fleetvote.testkit.SandboxProcess;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.ec2.Ec2Client;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One real sandbox per test class, with the test images registered, a Vert.x instance, an {@link Ec2Fleet} on it
 * with short retry delays, and a plain SDK client for what the fleet must not do itself. Closing stops all of it
 * and terminates every instance the class launched.
 */
abstract class FleetSandbox {

  static final String SLEEPER = ImageCatalog.imageId("test-sleeper");
  static final String DEPLOYMENT = "fleet-it";
  private static final long TIMEOUT_SECONDS = 90;

  @TempDir
  static Path stateDir;
  static SandboxProcess sandbox;
  static SandboxAdmin admin;
  static Ec2Client ec2;
  static Vertx vertx;
  static Ec2Fleet fleet;

  @BeforeAll
  static void startSandbox() throws URISyntaxException {
    // The classes keep their idle sleepers until they end: their quotas may add up beyond the host's cores.
    sandbox = SandboxProcess.start(stateDir, "--images",
        Path.of(FleetSandbox.class.getResource("/fleet-test-images.json").toURI()).toString(), "--max-vcpus", "8");
    admin = sandbox.admin();
    ec2 = Ec2Clients.sync(sandbox.endpoint());
    vertx = Vertx.vertx();
    fleet = Ec2Fleet.create(vertx, options());
  }

  @AfterAll
  static void stopSandbox() {
    try {
      if (fleet != null) {
        await(fleet.close());
      }
    } finally {
      try {
        if (vertx != null) {
          await(vertx.close());
        }
      } finally {
        try {
          if (ec2 != null) {
            ec2.close();
          }
        } finally {
          if (sandbox != null) {
            sandbox.close();
          }
        }
      }
    }
  }

  /** The sandbox's fleet options, with retries fast enough for tests and a window long enough to outlast faults. */
  static FleetOptions options() {
    return new FleetOptions().setDeployment(DEPLOYMENT).setEndpoint(sandbox.endpoint())
        .setFirstRetryDelayMillis(100).setMaxRetryDelayMillis(1000).setRetryWindowMillis(60_000);
  }

  static LaunchOrder order(String group, int count, String token) {
    return new LaunchOrder(group, SLEEPER, "t3.micro", count, token, null, "app", Map.of());
  }

  static <T> T await(Future<T> future) {
    try {
      return future.await(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      throw new AssertionError("no result after " + TIMEOUT_SECONDS + " s", e);
    }
  }

  static List<String> ids(List<FleetInstance> instances) {
    return instances.stream().map(FleetInstance::instanceId).toList();
  }

  /** Records what a fleet action told its listener, and on which context. */
  static final class Retries implements RetryListener {

    record Retry(int attempt, String errorCode, String message, Duration nextIn, Context context) {
    }

    final List<Retry> heard = new CopyOnWriteArrayList<>();

    @Override
    public void retrying(int attempt, String errorCode, String message, Duration nextIn) {
      heard.add(new Retry(attempt, errorCode, message, nextIn, Vertx.currentContext()));
    }

    List<String> codes() {
      return heard.stream().map(Retry::errorCode).toList();
    }
  }

  /** A future's outcome and the context its completion ran on. */
  record Completion<T>(Future<T> future, Context context) {

    T result() {
      return future.result();
    }
  }

  /** Starts {@code action} on {@code context} and waits for its outcome. */
  static <T> Completion<T> onContext(Context context, Supplier<Future<T>> action) throws Exception {
    CompletableFuture<Completion<T>> done = new CompletableFuture<>();
    context.runOnContext(v -> {
      Future<T> future = action.get();
      future.onComplete(outcome -> done.complete(new Completion<>(future, Vertx.currentContext())));
    });
    Completion<T> completion = done.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    assertThat(completion.future().succeeded()).as(String.valueOf(completion.future().cause())).isTrue();
    return completion;
  }
}
