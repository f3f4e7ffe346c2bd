package io.fleetvote.common.cluster;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * JVM flags for code that starts JVMs: what Hazelcast needs, and what a short-lived local process does best with.
 * Read from {@code jvm/hazelcast.args} and {@code jvm/local.args}, the argument files ({@code java @FILE}) that the
 * launcher, the scripts and the build use too, copied into this jar by the build: one list of each.
 */
public final class JvmFlags {

  private JvmFlags() {
  }

  /** Hazelcast's module access on Java 17 ({@code jvm/hazelcast.args}). */
  public static final List<String> HAZELCAST = read("hazelcast.args");

  /**
   * For the sandbox, the demo's and the tests' coordinators ({@code jvm/local.args}): C1 alone and the serial
   * collector, for processes that live minutes on two shared cores. Not for production coordinators.
   */
  public static final List<String> LOCAL = read("local.args");

  /** {@link #HAZELCAST} and {@link #LOCAL}. */
  public static List<String> localHazelcast() {
    return Stream.concat(HAZELCAST.stream(), LOCAL.stream()).toList();
  }

  /** The arguments of an argument file as the java launcher reads ours: separated by white space, # to line end. */
  static List<String> parse(String text) {
    List<String> args = new ArrayList<>();
    for (String line : text.split("\n")) {
      for (String token : line.trim().split("\\s+")) {
        if (token.startsWith("#")) {
          break;
        }
        if (!token.isEmpty()) {
          args.add(token);
        }
      }
    }
    return List.copyOf(args);
  }

  private static List<String> read(String name) {
    try (InputStream in = JvmFlags.class.getResourceAsStream("/jvm/" + name)) {
      if (in == null) {
        throw new IllegalStateException("jvm/" + name + " is not on the class path (the build copies it there)");
      }
      return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read jvm/" + name, e);
    }
  }
}
