package io.fleetvote.sandbox;

import io.fleetvote.common.FleetvoteHome;
import io.fleetvote.common.cli.CommandLine;
import io.fleetvote.common.cluster.ClusterBootstrap;
import io.fleetvote.common.msg.MessageException;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** {@code ./fleetvote sandbox}: an EC2-compatible cloud on 127.0.0.1 whose instances are local processes. */
public final class SandboxMain {

  private static final Logger LOG = LoggerFactory.getLogger(SandboxMain.class);

  private SandboxMain() {
  }

  public static void main(String[] args) {
    CommandLine cli = new CommandLine("sandbox", """
        Serves the EC2 Query API (the subset Fleetvote uses) on 127.0.0.1, runs instances as local processes
        with their own instance-metadata endpoints, and injects faults through its admin API under /_sandbox/.
        Each instance type has a CPU capacity (t3.nano 0.125 to t3.xlarge 4 vCPUs), a cgroup CPU quota on the
        instance's workload where the host allows it (GET /_sandbox/capacity says whether and why not).
        Stopping the sandbox leaves its instances running; started again on the same state dir, it adopts them.""")
        .option("port", "N", "port of the EC2 endpoint and the admin API", Integer.toString(SandboxOptions.DEFAULT_PORT))
        .option("state-dir", "DIR", "where the sandbox keeps its state, instance directories and logs", null)
        .option("images", "FILE", "more images (JSON, the shape of the built-in images.json) next to the built-in app image",
            "none")
        .option("region", "NAME", "the region the sandbox answers as", SandboxOptions.DEFAULT_REGION)
        .option("max-instances", "N", "instances alive at once before InsufficientInstanceCapacity",
            Integer.toString(SandboxOptions.DEFAULT_MAX_INSTANCES))
        .option("max-vcpus", "N", "vCPUs (the instance types' capacities, e.g. t3.micro 0.25) that the instances "
            + "neither stopped nor terminated may have in all before InsufficientInstanceCapacity; the default is "
            + "this host's cores, so CPU quotas never promise more than the host has",
            Integer.toString(SandboxOptions.hostCores()));
    SandboxOptions options = cli.parseOrExit(args, parsed -> new SandboxOptions(
        parsed.intValue("port", 0, 65535),
        Path.of(parsed.string("state-dir")).toAbsolutePath().normalize(),
        parsed.string("images").equals("none") ? null : Path.of(parsed.string("images")),
        parsed.string("region"),
        parsed.intValue("max-instances", 1, 10_000),
        parsed.doubleValue("max-vcpus", 0.125, 100_000),
        SandboxOptions.DEFAULT_TERMINATED_RETENTION_MILLIS,
        FleetvoteHome.dir(),
        SandboxOptions.defaultJava()));
    ImageCatalog images;
    try {
      images = options.imagesFile() == null ? ImageCatalog.builtIn()
          : ImageCatalog.builtIn().with(ImageCatalog.fromFile(options.imagesFile()), options.imagesFile().toString());
    } catch (MessageException e) {
      System.err.println("fleetvote sandbox: image catalog: " + e.getMessage());
      System.exit(2);
      return;
    }
    Vertx vertx = ClusterBootstrap.standalone(new VertxOptions());
    vertx.deployVerticle(new SandboxVerticle(options, images))
        .onFailure(err -> {
          LOG.error("sandbox failed to start: {}", err.getMessage());
          System.exit(1);
        });
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        LOG.info("sandbox stopped; its instances keep running");
      } catch (Exception e) {
        LOG.warn("sandbox did not stop cleanly: {}", e.toString());
      }
    }, "sandbox-shutdown"));
  }
}
