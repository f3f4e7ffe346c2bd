package io.fleetvote.sandbox.process;

import io.vertx.core.json.JsonObject;
import java.util.concurrent.CompletableFuture;

/**
 * A process the sandbox started for an instance. The pid together with the process's start time identifies it,
 * so a recycled pid is never mistaken for it after a sandbox restart.
 */
public final class RunningProcess {

  private final String name;
  private final long pid;
  private final long startedAtMillis;
  private Long exitedAtMillis;
  /** Started by this sandbox: the JDK, which reaps it, says when it exits (no need to read /proc). */
  private volatile boolean watched;
  private volatile boolean exitSeen;

  public RunningProcess(String name, long pid, long startedAtMillis) {
    this.name = name;
    this.pid = pid;
    this.startedAtMillis = startedAtMillis;
  }

  public String name() {
    return name;
  }

  public long pid() {
    return pid;
  }

  public long startedAtMillis() {
    return startedAtMillis;
  }

  /** {@code exit} completes when the process has exited (the JDK's {@link Process#onExit()} of a child). */
  void watch(CompletableFuture<?> exit) {
    watched = true;
    exit.whenComplete((x, e) -> exitSeen = true);
  }

  /** Whether it is watched ({@link #watch}); then {@link #exitSeen()} says if it exited. */
  boolean watched() {
    return watched;
  }

  boolean exitSeen() {
    return exitSeen;
  }

  public boolean exited() {
    return exitedAtMillis != null;
  }

  public Long exitedAtMillis() {
    return exitedAtMillis;
  }

  public void markExited(long atMillis) {
    if (exitedAtMillis == null) {
      exitedAtMillis = atMillis;
    }
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("name", name).put("pid", pid).put("startedAtMillis", startedAtMillis);
    if (exitedAtMillis != null) {
      json.put("exitedAtMillis", exitedAtMillis);
    }
    return json;
  }

  public static RunningProcess fromJson(JsonObject json) {
    RunningProcess process = new RunningProcess(json.getString("name"), json.getLong("pid"), json.getLong("startedAtMillis"));
    Long exited = json.getLong("exitedAtMillis");
    if (exited != null) {
      process.markExited(exited);
    }
    return process;
  }
}
