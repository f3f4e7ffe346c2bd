package io.fleetvote.sandbox;

import io.fleetvote.common.process.ProcessProbe;
import io.fleetvote.testkit.Http;
import io.fleetvote.testkit.HttpReply;
import io.fleetvote.testkit.SandboxAdmin;
import io.vertx.core.json.JsonObject;
import software.amazon.awssdk.retries.api.BackoffStrategy;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.ResourceType;
import software.amazon.awssdk.services.ec2.model.Tag;
import software.amazon.awssdk.services.ec2.model.TagSpecification;
import software.amazon.awssdk.services.ec2.waiters.Ec2Waiter;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;

/** What the sandbox's integration tests share: waiting on conditions, plain HTTP (refused or answered), the test image catalog. */
public final class It {

  private It() {
  }

  static Path testImages() {
    try {
      return Path.of(It.class.getResource("/test-images.json").toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** EC2 waiters polling every 100 ms for up to a minute (the SDK's default is 15 s between polls). */
  static Ec2Waiter waiter(Ec2Client ec2) {
    return Ec2Waiter.builder().client(ec2).overrideConfiguration(b -> b.maxAttempts(600)
        .backoffStrategyV2(BackoffStrategy.fixedDelayWithoutJitter(Duration.ofMillis(100)))).build();
  }

  /** GET on 127.0.0.1:port; null when the connection is refused. */
  static HttpReply get(int port, String path) {
    try {
      return Http.get(port, path);
    } catch (UncheckedIOException e) {
      if (e.getCause() instanceof ConnectException) {
        return null;
      }
      throw e;
    }
  }

  /**
   * Whether nothing listens on 127.0.0.1:port: a TCP connect, not a request, so a process that is up but slow to
   * answer (a JVM starting under a quarter core) counts as up.
   */
  static boolean refuses(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 2000);
      return false;
    } catch (ConnectException e) {
      return true;
    } catch (IOException e) {
      throw new UncheckedIOException("connect to 127.0.0.1:" + port + ": " + e, e);
    }
  }

  /** The process records of an instance, from the admin API. */
  static List<JsonObject> processes(SandboxAdmin admin, String instanceId) {
    return admin.instance(instanceId).getJsonArray("processes").stream().map(JsonObject.class::cast).toList();
  }

  static boolean alive(JsonObject process) {
    return ProcessProbe.alive(process.getLong("pid"), process.getLong("startedAtMillis"));
  }

  /**
   * SIGKILL, by PID, to those of these process records that still live and to what they started: what a test ends
   * with whatever happened, so that nothing it started outlives it or holds up the sandbox's close.
   */
  static void kill(List<JsonObject> processes) {
    for (JsonObject process : processes) {
      ProcessProbe.find(process.getLong("pid"), process.getLong("startedAtMillis")).ifPresent(handle -> {
        handle.descendants().forEach(ProcessHandle::destroyForcibly);
        handle.destroyForcibly();
      });
    }
  }

  static String base64(String text) {
    return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }

  static TagSpecification instanceTags(String... keyValues) {
    TagSpecification.Builder spec = TagSpecification.builder().resourceType(ResourceType.INSTANCE);
    Tag[] tags = new Tag[keyValues.length / 2];
    for (int i = 0; i < tags.length; i++) {
      tags[i] = Tag.builder().key(keyValues[2 * i]).value(keyValues[2 * i + 1]).build();
    }
    return spec.tags(tags).build();
  }
}
