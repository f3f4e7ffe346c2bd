package io.fleetvote.testkit;

import io.fleetvote.common.process.PidRecord;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** What a run that kept its state in a directory left running once it said it stopped: for tests of clean stops. */
public final class LeftRunning {

  private LeftRunning() {
  }

  /**
   * Live processes whose command line names {@code stateDir} (a sandbox, a coordinator), and live processes of the
   * pid files under it (the instances' agents, apps and HAProxies, whose command lines need not name it).
   */
  public static List<String> under(Path stateDir) {
    List<String> live = new ArrayList<>(ProcessHandle.allProcesses()
        .filter(p -> p.info().commandLine().orElse("").contains(stateDir.toString()))
        .map(p -> p.pid() + " " + p.info().commandLine().orElse("")).toList());
    if (Files.isDirectory(stateDir)) {
      try (Stream<Path> files = Files.walk(stateDir)) {
        files.filter(f -> f.toString().endsWith(".pid"))
            .forEach(f -> PidRecord.read(f).flatMap(PidRecord::live).ifPresent(p -> live.add(p.pid() + " of " + f)));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return live;
  }

  /** How many pid files the run wrote under {@code stateDir}: that it started instances at all. */
  public static long pidFiles(Path stateDir) {
    try (Stream<Path> files = Files.walk(stateDir)) {
      return files.filter(f -> f.toString().endsWith(".pid")).count();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
