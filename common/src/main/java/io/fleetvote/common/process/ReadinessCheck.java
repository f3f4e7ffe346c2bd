package io.fleetvote.common.process;

import io.vertx.core.Future;

/**
 * Whether the child of {@code pid} serves yet: HAProxy's admin socket answering {@code show info} with that pid, a
 * database answering a ping. A {@link ChildSupervisor} asks again every {@link ChildOptions#getPollMs()} until it
 * succeeds or the start times out; a failure says why not yet, and the last one is quoted when the start gives up.
 */
@FunctionalInterface
public interface ReadinessCheck<T> {

  Future<T> check(long pid);
}
