package io.fleetvote.coordinator.auth;

import io.fleetvote.common.cli.CommandLine;
import io.fleetvote.common.cli.CommandLineException;
import io.fleetvote.common.tls.ClusterKey;

import java.nio.file.Files;
import java.nio.file.Path;

/** {@code ./fleetvote cluster-key --file FILE}: makes the key the coordinators of a deployment share; never overwrites. */
public final class MakeClusterKey {

  private MakeClusterKey() {
  }

  public static void main(String[] args) throws Exception {
    Path file = new CommandLine("cluster-key", """
        Makes the key every coordinator of a deployment holds (PKCS12, owner-only): give each the same file with
        --cluster-key; their event bus is TLS with client certificates.""")
        .option("file", "FILE", "where to write it (an existing file is never overwritten)", null)
        .parseOrExit(args, p -> {
          Path path = Path.of(p.string("file"));
          if (Files.exists(path)) {
            throw new CommandLineException(path + " exists: it may be the key of a running deployment");
          }
          return path;
        });
    ClusterKey.make(file);
    System.out.println("cluster key in " + file + ": copy it (owner-only) to every coordinator, --cluster-key " + file);
  }
}
