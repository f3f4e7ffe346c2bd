package io.fleetvote.bench;

/**
 * The DB benchmarks' smoke modes on one DB pair, what the test suite runs (BenchSmokeIT): db-pair's, then
 * switchover's, then failover's ({@code --smoke} each, parsed as their scripts' would be); each that needs the pair
 * whole first waits for it. One system start instead of three; the pair runs with failover's settings ({@link FailoverBench#db}),
 * which the other two do not depend on. Each section begins with a {@code == bench NAME --smoke} line.
 */
public final class DbSmoke {

  private DbSmoke() {
  }

  public static void main(String[] args) throws Exception {
    String[] smoke = {"--smoke"};
    if (args.length != 0 && !(args.length == 1 && args[0].equals("--smoke"))) {
      System.err.println("bench db-smoke takes no option but --smoke (it runs only in smoke mode), not "
          + String.join(" ", args));
      System.exit(2);
    }
    BenchSupport.DbBenchmark dbPair = DbPairBench.benchmark(smoke);
    BenchSupport.DbBenchmark switchover = SwitchoverBench.benchmark(smoke);
    BenchSupport.DbBenchmark failover = FailoverBench.benchmark(smoke);
    BenchSupport.onDbPair("db-smoke", FailoverBench.db(), system -> {
      section("db-pair");
      dbPair.run(system);
      section("switchover");
      switchover.run(system);
      section("failover");
      failover.run(system);
    });
  }

  private static void section(String name) {
    System.out.printf("%n== bench %s --smoke%n", name);
  }
}
