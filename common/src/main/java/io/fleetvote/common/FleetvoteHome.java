package io.fleetvote.common;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where Fleetvote is installed: the directory of the {@code ./fleetvote} launcher, whose jars it runs. */
public final class FleetvoteHome {

  private FleetvoteHome() {
  }

  /**
   * {@code -Dfleetvote.home}, else the nearest directory above this class's jar (or classes directory) that holds the
   * launcher (a jar may sit in {@code <module>/target} or in another module's {@code target/lib}), else the working
   * directory.
   */
  public static Path dir() {
    String configured = System.getProperty("fleetvote.home");
    if (configured != null && !configured.isBlank()) {
      return Path.of(configured).toAbsolutePath().normalize();
    }
    try {
      Path dir = Path.of(FleetvoteHome.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      for (; dir != null; dir = dir.getParent()) {
        if (Files.isRegularFile(dir.resolve("fleetvote")) && Files.isRegularFile(dir.resolve("pom.xml"))) {
          return dir.toAbsolutePath().normalize();
        }
      }
    } catch (Exception e) {
      // no code source: the working directory
    }
    return Path.of("").toAbsolutePath();
  }
}
