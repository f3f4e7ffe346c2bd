package io.fleetvote.coordinator;

import io.fleetvote.common.cli.CommandLine;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.PrintStream;
import java.util.Locale;

/**
 * {@code ./fleetvote failover --reason TEXT}: asks a coordinator to force the failover of a DB master found dead
 * that automatic failover refuses ({@code POST /api/db/failover}: automatic failover off, the anti-flap window, or
 * semi-sync off in the master's last report), follows it ({@code GET /api/db}) until it is done, failed or refused,
 * and prints its journal with each step's time from the first. A master that answers is refused: that is a
 * switchover's case. Exit code 0 when done, 1 when refused, failed or not answered.
 */
public final class FailoverMain {

  private FailoverMain() {
  }

  static CommandLine commandLine() {
    return SwitchoverMain.operatorOptions(new CommandLine("failover", """
        Forces the failover of the DB pair's master once the coordinator found it dead but automatic failover refuses
        it (automatic failover off, inside the anti-flap window, or the master last seen with semi-sync off: then
        writes it acknowledged may be missing on the replica). The old master is fenced and the replica promoted, as
        in an automatic failover. Refused while the master answers (./fleetvote switchover is for that). Needs an
        operator (--token, or --user with --password-file; a coordinator started with --no-auth needs neither)."""))
        .option("reason", "TEXT", "why: written in the failover's journal and the ledger, with who asked", null);
  }

  public static void main(String[] args) {
    record Asked(SwitchoverMain.Options options, String reason) {
    }
    Asked asked = commandLine().parseOrExit(args, p -> new Asked(SwitchoverMain.options(p), p.string("reason")));
    SwitchoverMain.exit("failover", () -> run(asked.options(), asked.reason(), System.out, System.err));
  }

  /** Asks for the forced failover and follows it, telling {@code out} and {@code err}; the exit code. */
  static int run(SwitchoverMain.Options options, String reason, PrintStream out, PrintStream err)
      throws IOException, InterruptedException {
    return SwitchoverMain.ask("failover", "/api/db/failover", new JsonObject().put("reason", reason), "forced",
        options, out, err, failover -> {
          String phase = failover.getString("phase");
          if (!"done".equals(phase) && !"failed".equals(phase)) {
            return null;
          }
          JsonArray steps = SwitchoverMain.printSteps(failover, out);
          long took = steps.getJsonObject(steps.size() - 1).getLong("at") - steps.getJsonObject(0).getLong("at");
          out.printf(Locale.ROOT, "failover %s %s in %d ms: %s is the master%n", failover.getString("id"), phase,
              took, "done".equals(phase) ? failover.getString("target") : "none (see GET /api/db)");
          return "done".equals(phase) ? 0 : 1;
        });
  }
}
