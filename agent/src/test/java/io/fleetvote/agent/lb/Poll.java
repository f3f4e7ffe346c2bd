package io.fleetvote.agent.lb;

import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;

/** Asks again every 20 ms until the answer satisfies the condition, on Vert.x timers (no sleeping thread). */
final class Poll {

  private static final long EVERY_MS = 20;

  private Poll() {
  }

  static <T> Future<T> until(Vertx vertx, Supplier<Future<T>> ask, Predicate<T> condition, long withinMs) {
    return attempt(vertx, ask, condition, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(withinMs), withinMs);
  }

  private static <T> Future<T> attempt(Vertx vertx, Supplier<Future<T>> ask, Predicate<T> condition, long deadline,
                                       long withinMs) {
    return ask.get().compose(answer -> {
      if (condition.test(answer)) {
        return Future.succeededFuture(answer);
      }
      if (System.nanoTime() - deadline > 0) {
        return Future.failedFuture(new AssertionError("condition not met within " + withinMs + " ms; last answer: "
            + answer));
      }
      return vertx.timer(EVERY_MS).compose(t -> attempt(vertx, ask, condition, deadline, withinMs));
    });
  }
}
