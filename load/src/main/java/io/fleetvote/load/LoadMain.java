package io.fleetvote.load;

import io.fleetvote.common.cli.CommandLine;
import io.fleetvote.common.cli.CommandLineException;
import io.vertx.core.Vertx;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** {@code ./fleetvote load}: an open-loop HTTP load generator that reports latency and failures every second. */
public final class LoadMain {

  private LoadMain() {
  }

  public static void main(String[] args) {
    CommandLine cli = new CommandLine("load", """
        Sends GET requests to --url at a fixed --rate for --duration, whatever the answers take (open loop: a slow
        server does not slow the sender, and latency counts from when each request was due). Prints, every second
        and in total, requests sent, answered 2xx, failed, and latency percentiles. Failures are counted by class:
          refused      the connection was refused (nothing listening)
          reset        the connection was reset or closed by the server before a full answer
          timeout      no answer within --timeout, the connect timeout included
          http-<code>  an answer that is not 2xx, e.g. http-503
          other-<Exc>  anything else, named by its exception, e.g. other-UnknownHostException""")
        .option("url", "URL[,URL...]", "what to load, e.g. http://127.0.0.1:8080/?work=5 (several: in turn)", null)
        .option("rate", "N", "requests per second", "100")
        .option("duration", "SECONDS", "how long to send", "30")
        .option("timeout", "MS", "a request not answered within this long (connect included) fails: timeout", "5000")
        .option("connections", "N", "most connections open at once", "256")
        .option("summary-json", "FILE", "also write the totals as JSON to FILE", "none");
    LoadOptions options = cli.parseOrExit(args, p -> {
      List<URI> urls = new ArrayList<>();
      for (String text : p.string("url").split(",")) {
        URI url;
        try {
          url = URI.create(text.trim());
        } catch (IllegalArgumentException e) {
          url = null;
        }
        if (url == null || !"http".equals(url.getScheme()) || url.getHost() == null) {
          throw new CommandLineException("option --url: '" + text + "' is not an http://host[:port]/path URL");
        }
        urls.add(url);
      }
      return new LoadOptions(urls, p.intValue("rate", 1, 100_000), Duration.ofSeconds(p.longValue("duration", 1, 86_400)),
          Duration.ofMillis(p.longValue("timeout", 1, 600_000)), p.intValue("connections", 1, 10_000),
          p.string("summary-json").equals("none") ? null : Path.of(p.string("summary-json")));
    });
    Vertx vertx = Vertx.vertx();
    LoadGenerator generator = new LoadGenerator(vertx, options, System.out::println);
    int status;
    try {
      LoadReport total = generator.run().await();
      status = total.sent() > 0 ? 0 : 1;
    } catch (Exception e) {
      System.err.println("fleetvote load: " + e.getMessage());
      status = 1;
    }
    vertx.close().await();
    System.exit(status);
  }
}
