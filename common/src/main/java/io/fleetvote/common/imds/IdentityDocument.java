package io.fleetvote.common.imds;

import io.fleetvote.common.Ids;
import io.fleetvote.common.msg.JsonFields;
import io.fleetvote.common.msg.MessageException;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.regex.Pattern;

/**
 * The fields of an instance identity document ({@code /latest/dynamic/instance-identity/document}) that say which
 * instance it is, of which account, where, and since when. Read it from a document whose signature was checked
 * ({@link IdentityVerifier#verify}); on its own it proves nothing.
 */
public record IdentityDocument(String instanceId, String accountId, String region, String availabilityZone,
                               String privateIp, String imageId, String instanceType, Instant pendingTime) {

  private static final Pattern ACCOUNT_ID = Pattern.compile("\\d{12}");

  /** Reads and validates a document; throws {@link MessageException} naming the first bad field. */
  public static IdentityDocument fromJson(Object body) {
    JsonObject json = JsonFields.object(body, "identity document");
    String pending = JsonFields.string(json, "pendingTime", 40, null);
    Instant pendingTime;
    try {
      pendingTime = Instant.parse(pending);
    } catch (DateTimeParseException e) {
      throw new MessageException("pendingTime", "'" + pending + "' is not a time");
    }
    return new IdentityDocument(JsonFields.string(json, "instanceId", 19, Ids.INSTANCE_ID),
        JsonFields.string(json, "accountId", 12, ACCOUNT_ID),
        JsonFields.string(json, "region", 32, null), JsonFields.string(json, "availabilityZone", 32, null),
        JsonFields.string(json, "privateIp", 15, Ids.IPV4), JsonFields.string(json, "imageId", 21, Ids.IMAGE_ID),
        JsonFields.string(json, "instanceType", 32, null), pendingTime);
  }
}
