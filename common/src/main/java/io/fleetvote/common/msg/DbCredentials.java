package io.fleetvote.common.msg;

import io.fleetvote.common.Ids;
import io.vertx.core.json.JsonObject;

/**
 * The leader coordinator handing an app instance's agent the DB pair's application account (request/reply on
 * {@link io.fleetvote.common.Addresses#agentSecrets}, over that agent's attested connection alone): the agent keeps
 * it in a file only its app reads and answers once it has. Where to connect comes from the LBs' announcements (their
 * DB write port), never from here: applications connect to an LB, not to the master.
 *
 * @param deployment the Fleetvote deployment
 * @param database   the application's database
 * @param user       the application's account
 * @param password   its password
 */
public record DbCredentials(String deployment, String database, String user, String password) {

  public JsonObject toJson() {
    return new JsonObject().put("deployment", deployment).put("database", database).put("user", user)
        .put("password", password);
  }

  /** Reads and validates them; throws {@link MessageException} naming the first bad field (never its value). */
  public static DbCredentials fromJson(Object body) {
    JsonObject json = JsonFields.object(body, "db credentials");
    return new DbCredentials(JsonFields.string(json, "deployment", 63, Ids.NAME),
        JsonFields.string(json, "database", 32, DbCommand.NAME), JsonFields.string(json, "user", 32, DbCommand.NAME),
        DbCommand.secret(json, "password"));
  }

  /** Without the password: safe to log. */
  @Override
  public String toString() {
    return "DbCredentials[" + deployment + ", database " + database + ", user " + user + "]";
  }
}
