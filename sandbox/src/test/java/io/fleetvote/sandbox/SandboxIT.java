package io.fleetvote.sandbox;

import io.fleetvote.testkit.Ec2Clients;
import io.fleetvote.testkit.SandboxAdmin;
import io.fleetvote.testkit.SandboxProcess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.ec2.Ec2Client;

import java.nio.file.Path;

/**
 * One real sandbox process per test class, with the test images registered, room for 8 vCPUs of instances, an admin
 * client and an SDK client; closing it terminates every instance the class launched.
 */
abstract class SandboxIT {

  static final String APP = ImageCatalog.imageId("fleetvote-app");
  static final String SLEEPER = ImageCatalog.imageId("test-sleeper");

  @TempDir
  static Path stateDir;
  static SandboxProcess sandbox;
  static SandboxAdmin admin;
  static Ec2Client ec2;

  @BeforeAll
  static void startSandbox() {
    // The classes keep their instances until they end, most of them idle sleepers: their quotas may add up beyond
    // the host's cores without any instance being short of CPU.
    sandbox = SandboxProcess.start(stateDir, "--images", It.testImages().toString(), "--max-vcpus", "8");
    admin = sandbox.admin();
    ec2 = Ec2Clients.sync(sandbox.endpoint());
  }

  @AfterAll
  static void stopSandbox() {
    if (ec2 != null) {
      ec2.close();
    }
    if (sandbox != null) {
      sandbox.close();
    }
  }
}
