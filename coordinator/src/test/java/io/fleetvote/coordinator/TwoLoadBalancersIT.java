package io.fleetvote.coordinator;

import io.fleetvote.testkit.Await;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two LB instances: each LB agent keeps its own HAProxy right. Every web instance registers with both; one that is
 * terminated drains from both before it goes; its replacement is added to both.
 */
class TwoLoadBalancersIT {

  @TempDir
  Path dir;

  @Test
  void eachLbKeepsItsOwnHaproxyEqualToTheLiveInstances() {
    try (LbFleet fleet = LbFleet.start(dir, 2, 2, 2)) {
      List<String> lbs = Await.until("two LB instances", LbFleet.TIMEOUT, () -> fleet.groupInstances("lb"),
          list -> list.size() == 2);
      List<String> web = Await.until("two web instances", LbFleet.TIMEOUT, () -> fleet.groupInstances("web"),
          list -> list.size() == 2);
      for (String lb : lbs) {
        Await.until("both web instances up in " + lb, LbFleet.TIMEOUT,
            () -> Set.copyOf(fleet.readyServers(lb)).equals(Set.copyOf(web)));
      }

      Await.until("both LBs' backends on the dashboard", LbFleet.TIMEOUT, () -> {
        JsonObject snapshot = fleet.dashboard();
        return snapshot.getJsonArray("lbs") != null && snapshot.getJsonArray("lbs").size() == 2
            && snapshot.getJsonArray("lbs").stream().map(JsonObject.class::cast)
                .allMatch(lb -> lb.getJsonArray("servers").size() == 2);
      });

      String victim = web.get(0);
      fleet.ec2.terminateInstances(b -> b.instanceIds(victim));
      List<String> after = Await.until("a replacement for " + victim, LbFleet.TIMEOUT,
          () -> fleet.groupInstances("web"), list -> list.size() == 2 && !list.contains(victim));
      for (String lb : lbs) {
        Await.until("the replacement in " + lb + " and the victim gone", LbFleet.TIMEOUT,
            () -> Set.copyOf(fleet.readyServers(lb)).equals(Set.copyOf(after))
                && LbFleet.servers(fleet.backend(lb)).stream().noneMatch(s -> s.getString("name").equals(victim)));
      }
      Await.until(victim + " terminated", LbFleet.TIMEOUT,
          () -> fleet.admin.instance(victim).getString("state").equals("terminated"));
      String log = readAgentLog(fleet, victim);
      for (String lb : lbs) {
        assertThat(log).as("the victim's agent drained itself from " + lb)
            .containsPattern("left the LBs: .*\"lb\":\"" + lb + "\"[^}]*\"outcome\":\"deleted\"");
      }
      for (String lb : lbs) {
        JsonObject totals = fleet.backend(lb).getJsonObject("totals");
        assertThat(totals.getLong("http5xx")).isZero();
      }
    }
  }

  private static String readAgentLog(LbFleet fleet, String instance) {
    try {
      return java.nio.file.Files.readString(Path.of(fleet.admin.instance(instance).getString("dir"), "agent.log"));
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }
}
