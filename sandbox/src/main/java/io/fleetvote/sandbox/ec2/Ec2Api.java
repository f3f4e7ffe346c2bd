package io.fleetvote.sandbox.ec2;

import io.fleetvote.common.Ids;
import io.fleetvote.sandbox.Cloud;
import io.fleetvote.sandbox.CloudState;
import io.fleetvote.sandbox.Image;
import io.fleetvote.sandbox.ImageCatalog;
import io.fleetvote.sandbox.Instance;
import io.fleetvote.sandbox.InstanceState;
import io.fleetvote.sandbox.Reservation;
import io.fleetvote.sandbox.Volume;
import io.fleetvote.sandbox.Volumes;
import io.fleetvote.sandbox.capacity.InstanceTypes;
import io.fleetvote.sandbox.capacity.InstanceTypes.InstanceType;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The EC2 Query API actions Fleetvote uses, as the AWS SDK v2 sends them ({@code reference/ec2-query-api.md}):
 * parameters are checked the way EC2 checks them, answers use EC2's XML shapes, failures EC2's error codes.
 */
public final class Ec2Api {

  private static final Logger LOG = LoggerFactory.getLogger(Ec2Api.class);
  public static final String VERSION = "2016-11-15";
  static final int MAX_USER_DATA_BYTES = 16_384;
  private static final Pattern CLIENT_TOKEN = Pattern.compile("[\\x21-\\x7e]{1,64}");
  private static final Pattern NEXT_TOKEN = Pattern.compile("fv-(\\d{1,18})");
  private static final List<String> NOT_YET = List.of("CreateSnapshot", "DescribeSnapshots", "DeleteSnapshot",
      "DescribeTags", "RebootInstances");

  private final Cloud cloud;
  private final Map<String, Function<QueryRequest, String>> actions = new LinkedHashMap<>();
  private final Map<String, List<Pattern>> parameters = new LinkedHashMap<>();
  private final Map<String, Long> calls = new TreeMap<>();
  private final Map<String, Long> errors = new TreeMap<>();
  private final FilterSet<Instance> instanceFilters;
  private final FilterSet<Image> imageFilters;
  private final FilterSet<Volume> volumeFilters = new FilterSet<>(Volumes.filters(), Volume::tags);
  private String requestId;

  public Ec2Api(Cloud cloud) {
    this.cloud = cloud;
    action("DescribeImages", this::describeImages, "ImageId\\.\\d+", "Owner\\.\\d+", "ExecutableBy\\.\\d+",
        "IncludeDeprecated", "IncludeDisabled", "Filter\\.\\d+\\.Name", "Filter\\.\\d+\\.Value\\.\\d+");
    action("RunInstances", this::runInstances, "ImageId", "InstanceType", "MinCount", "MaxCount", "KeyName",
        "UserData", "SubnetId", "SecurityGroupId\\.\\d+", "Placement\\.AvailabilityZone", "Placement\\.Tenancy",
        "TagSpecification\\.\\d+\\.ResourceType", "TagSpecification\\.\\d+\\.Tag\\.\\d+\\.(Key|Value)",
        "MetadataOptions\\.(HttpTokens|HttpPutResponseHopLimit|HttpEndpoint|InstanceMetadataTags)",
        "Monitoring\\.Enabled", "EbsOptimized", "ClientToken");
    action("DescribeInstances", this::describeInstances, "InstanceId\\.\\d+", "Filter\\.\\d+\\.Name",
        "Filter\\.\\d+\\.Value\\.\\d+", "MaxResults", "NextToken");
    action("TerminateInstances", this::terminateInstances, "InstanceId\\.\\d+");
    action("StopInstances", this::stopInstances, "InstanceId\\.\\d+", "Force", "Hibernate");
    action("StartInstances", this::startInstances, "InstanceId\\.\\d+");
    action("CreateTags", this::createTags, "ResourceId\\.\\d+", "Tag\\.\\d+\\.(Key|Value)");
    action("CreateVolume", this::createVolume, "AvailabilityZone", "Size", "SnapshotId", "VolumeType", "Iops",
        "Throughput", "Encrypted", "MultiAttachEnabled", "TagSpecification\\.\\d+\\.ResourceType",
        "TagSpecification\\.\\d+\\.Tag\\.\\d+\\.(Key|Value)", "ClientToken");
    action("DescribeVolumes", this::describeVolumes, "VolumeId\\.\\d+", "Filter\\.\\d+\\.Name",
        "Filter\\.\\d+\\.Value\\.\\d+", "MaxResults", "NextToken");
    action("AttachVolume", this::attachVolume, "VolumeId", "InstanceId", "Device");
    action("DetachVolume", this::detachVolume, "VolumeId", "InstanceId", "Device", "Force");
    action("DeleteVolume", this::deleteVolume, "VolumeId");

    Map<String, Function<Instance, List<String>>> byInstance = new LinkedHashMap<>();
    byInstance.put("instance-id", i -> List.of(i.id()));
    byInstance.put("instance-state-name", i -> List.of(i.state().ec2Name()));
    byInstance.put("instance-state-code", i -> List.of(Integer.toString(i.state().code())));
    byInstance.put("image-id", i -> List.of(i.imageId()));
    byInstance.put("instance-type", i -> List.of(i.instanceType()));
    byInstance.put("client-token", i -> i.clientToken() == null ? List.of() : List.of(i.clientToken()));
    byInstance.put("reservation-id", i -> List.of(i.reservationId()));
    byInstance.put("availability-zone", i -> List.of(i.availabilityZone()));
    byInstance.put("private-ip-address", i -> List.of(i.privateIp()));
    byInstance.put("private-dns-name", i -> List.of(i.privateDnsName()));
    byInstance.put("key-name", i -> i.keyName() == null ? List.of() : List.of(i.keyName()));
    byInstance.put("subnet-id", i -> i.subnetId() == null ? List.of() : List.of(i.subnetId()));
    byInstance.put("launch-index", i -> List.of(Integer.toString(i.launchIndex())));
    instanceFilters = new FilterSet<>(byInstance, Instance::tags);

    Map<String, Function<Image, List<String>>> byImage = new LinkedHashMap<>();
    byImage.put("image-id", i -> List.of(i.id()));
    byImage.put("name", i -> List.of(i.name()));
    byImage.put("state", i -> List.of("available"));
    byImage.put("owner-id", i -> List.of(ImageCatalog.OWNER_ID));
    byImage.put("architecture", i -> List.of("x86_64"));
    byImage.put("is-public", i -> List.of("false"));
    byImage.put("image-type", i -> List.of("machine"));
    imageFilters = new FilterSet<>(byImage, Image::tags);
  }

  /** Answers one request: the XML body of a success, or an {@link Ec2Exception} for EC2's error document. */
  public String handle(QueryRequest request, String requestId) {
    this.requestId = requestId;
    String action = request.action();
    calls.merge(action == null ? "(none)" : abbreviateAction(action), 1L, Long::sum);
    try {
      if (cloud.faults().takeThrottle()) {
        throw new Ec2Exception(503, "RequestLimitExceeded", "Request limit exceeded.");
      }
      if (action == null || action.isEmpty()) {
        throw new Ec2Exception(400, "MissingAction", "The request must contain the parameter Action.");
      }
      Function<QueryRequest, String> handler = actions.get(action);
      if (handler == null) {
        if (NOT_YET.contains(action)) {
          throw new Ec2Exception(400, "UnsupportedOperation", "The sandbox does not implement " + action + " yet.");
        }
        throw new Ec2Exception(400, "InvalidAction",
            "The action " + Ec2Exception.abbreviate(action) + " is not valid for this web service.");
      }
      String version = request.get("Version");
      if (version != null && !version.equals(VERSION)) {
        throw new Ec2Exception(400, "NoSuchVersion",
            "An invalid or unsupported version was given: " + Ec2Exception.abbreviate(version));
      }
      Set<String> unknown = request.unknownParameters(parameters.get(action));
      if (!unknown.isEmpty()) {
        throw new Ec2Exception(400, "UnknownParameter",
            "The parameter " + Ec2Exception.abbreviate(unknown.iterator().next()) + " is not recognized");
      }
      return handler.apply(request);
    } catch (Ec2Exception e) {
      errors.merge(e.code(), 1L, Long::sum);
      LOG.info("{} -> {} {}", action == null ? "(no action)" : Ec2Exception.abbreviate(action), e.code(), e.getMessage());
      throw e;
    }
  }

  /** Calls per action and errors per code since start, for the admin API. */
  public JsonObject stats() {
    return new JsonObject().put("calls", new JsonObject(new LinkedHashMap<>(calls)))
        .put("errors", new JsonObject(new LinkedHashMap<>(errors)));
  }

  private void action(String name, Function<QueryRequest, String> handler, String... allowed) {
    actions.put(name, handler);
    List<Pattern> patterns = new ArrayList<>();
    for (String regex : List.of("Action", "Version", "DryRun")) {
      patterns.add(Pattern.compile(regex));
    }
    for (String regex : allowed) {
      patterns.add(Pattern.compile(regex));
    }
    parameters.put(name, patterns);
  }

  // ---------------------------------------------------------------- DescribeImages

  private String describeImages(QueryRequest request) {
    List<String> ids = request.list("ImageId");
    ids.forEach(Ec2Api::checkImageId);
    List<QueryRequest.Filter> filters = request.filters();
    imageFilters.check(filters);
    List<String> owners = request.list("Owner");
    List<String> missing = ids.stream().filter(id -> cloud.images().find(id).isEmpty()).toList();
    if (!missing.isEmpty()) {
      throw new Ec2Exception(400, "InvalidAMIID.NotFound", "The image id '" + missing + "' does not exist");
    }
    XmlWriter xml = XmlWriter.response("DescribeImages", requestId).open("imagesSet");
    for (Image image : cloud.images().all()) {
      boolean owned = owners.isEmpty() || owners.contains("self") || owners.contains(ImageCatalog.OWNER_ID);
      if ((ids.isEmpty() || ids.contains(image.id())) && owned && imageFilters.matches(image, filters)) {
        xml.open("item")
            .element("imageId", image.id())
            .element("imageLocation", ImageCatalog.OWNER_ID + "/" + image.name())
            .element("imageState", "available")
            .element("imageOwnerId", ImageCatalog.OWNER_ID)
            .element("creationDate", image.creationDate())
            .element("isPublic", "false")
            .element("architecture", "x86_64")
            .element("imageType", "machine")
            .element("name", image.name())
            .element("description", image.description())
            .element("rootDeviceType", "ebs")
            .element("rootDeviceName", "/dev/xvda")
            .empty("blockDeviceMapping")
            .element("virtualizationType", "hvm");
        tagSet(xml, image.tags());
        xml.element("hypervisor", "xen").close();
      }
    }
    return xml.close().finish();
  }

  // ---------------------------------------------------------------- RunInstances

  private String runInstances(QueryRequest request) {
    String imageId = request.required("ImageId");
    checkImageId(imageId);
    int minCount = request.requiredInt("MinCount", 1, 1000);
    int maxCount = request.requiredInt("MaxCount", 1, 1000);
    if (minCount > maxCount) {
      throw Ec2Exception.invalidValue("MinCount (" + minCount + ") must not be greater than MaxCount (" + maxCount + ")");
    }
    String typeName = request.get("InstanceType");
    InstanceType instanceType = typeName == null ? InstanceTypes.DEFAULT : InstanceTypes.find(typeName)
        .orElseThrow(() -> Ec2Exception.invalidValue("Invalid value '" + Ec2Exception.abbreviate(typeName)
            + "' for InstanceType. The sandbox offers " + InstanceTypes.names() + "."));
    String userData = request.get("UserData");
    if (userData != null) {
      checkUserData(userData);
    }
    String clientToken = request.get("ClientToken");
    if (clientToken != null && !CLIENT_TOKEN.matcher(clientToken).matches()) {
      throw Ec2Exception.invalidValue("ClientToken", clientToken, "It must be 1 to 64 printable ASCII characters.");
    }
    Map<String, String> tags = new LinkedHashMap<>();
    for (Map<String, String> spec : request.structs("TagSpecification")) {
      String type = spec.get("ResourceType");
      if (type == null) {
        throw Ec2Exception.missingParameter("TagSpecification.N.ResourceType");
      }
      if (!type.equals("instance")) {
        throw new Ec2Exception(400, "UnsupportedOperation",
            "The sandbox tags only instances at launch, not '" + Ec2Exception.abbreviate(type) + "'.");
      }
      Tagging.read(QueryRequest.nestedStructs(spec, "Tag"), tags);
    }
    List<String> securityGroups = request.list("SecurityGroupId");
    boolean dryRun = request.flag("DryRun");
    request.flag("EbsOptimized");
    request.flag("Monitoring.Enabled");
    CloudState.LaunchRequest launch = new CloudState.LaunchRequest(imageId, minCount, maxCount, instanceType, userData, tags,
        request.get("Placement.AvailabilityZone"), request.get("KeyName"), request.get("SubnetId"), securityGroups,
        clientToken, request.fingerprint(Set.of("DryRun")));
    if (dryRun) {
      cloud.images().find(imageId).orElseThrow(() -> new Ec2Exception(400, "InvalidAMIID.NotFound",
          "The image id '[" + imageId + "]' does not exist"));
      throw dryRunSucceeded();
    }
    Reservation reservation = cloud.launch(launch);
    XmlWriter xml = XmlWriter.response("RunInstances", requestId)
        .element("reservationId", reservation.id())
        .element("ownerId", ImageCatalog.OWNER_ID)
        .empty("groupSet")
        .open("instancesSet");
    for (String id : reservation.instanceIds()) {
      cloud.find(id).ifPresent(instance -> instanceItem(xml, instance));
    }
    return xml.close().finish();
  }

  private static void checkUserData(String userData) {
    if (userData.length() > (MAX_USER_DATA_BYTES + 2) / 3 * 4 + 4) {
      throw Ec2Exception.invalidValue("User data is limited to " + MAX_USER_DATA_BYTES + " bytes");
    }
    byte[] decoded;
    try {
      decoded = Base64.getDecoder().decode(userData.getBytes(StandardCharsets.US_ASCII));
    } catch (IllegalArgumentException e) {
      throw Ec2Exception.invalidValue("Invalid BASE64 encoding of user data.");
    }
    if (decoded.length > MAX_USER_DATA_BYTES) {
      throw Ec2Exception.invalidValue("User data is limited to " + MAX_USER_DATA_BYTES + " bytes");
    }
  }

  // ---------------------------------------------------------------- DescribeInstances

  private String describeInstances(QueryRequest request) {
    List<String> ids = request.list("InstanceId");
    ids.forEach(Ec2Api::checkInstanceId);
    Integer maxResults = maxResults(request, !ids.isEmpty(), "instancesSet", 1000);
    long after = pageStart(request.get("NextToken"));
    List<QueryRequest.Filter> filters = request.filters();
    instanceFilters.check(filters);
    List<Instance> selected = ids.isEmpty() ? cloud.instances() : cloud.require(ids);
    List<Instance> matching = selected.stream()
        .filter(i -> i.seq() >= after)
        .filter(i -> instanceFilters.matches(i, filters))
        .toList();
    List<Instance> page = maxResults == null || matching.size() <= maxResults ? matching : matching.subList(0, maxResults);
    XmlWriter xml = XmlWriter.response("DescribeInstances", requestId).open("reservationSet");
    String openReservation = null;
    for (Instance instance : page) {
      if (!instance.reservationId().equals(openReservation)) {
        if (openReservation != null) {
          xml.close().close();
        }
        openReservation = instance.reservationId();
        xml.open("item").element("reservationId", openReservation).element("ownerId", ImageCatalog.OWNER_ID)
            .empty("groupSet").open("instancesSet");
      }
      instanceItem(xml, instance);
    }
    if (openReservation != null) {
      xml.close().close();
    }
    xml.close();
    if (page.size() < matching.size()) {
      xml.element("nextToken", "fv-" + matching.get(page.size()).seq());
    }
    return xml.finish();
  }

  /** MaxResults (5..max), or null; not with ids ({@code idsName} in EC2's message). */
  private static Integer maxResults(QueryRequest request, boolean withIds, String idsName, int max) {
    Integer maxResults = request.optionalInt("MaxResults", Integer.MIN_VALUE, Integer.MAX_VALUE);
    if (maxResults != null && withIds) {
      throw new Ec2Exception(400, "InvalidParameterCombination",
          "The parameter " + idsName + " cannot be used with the parameter maxResults");
    }
    if (maxResults != null && (maxResults < 5 || maxResults > max)) {
      throw Ec2Exception.invalidValue("MaxResults", maxResults.toString(), "It must be between 5 and " + max + ".");
    }
    return maxResults;
  }

  private static long pageStart(String token) {
    if (token == null) {
      return 0;
    }
    var m = NEXT_TOKEN.matcher(token);
    if (!m.matches()) {
      throw new Ec2Exception(400, "InvalidPaginationToken",
          "The pagination token '" + Ec2Exception.abbreviate(token) + "' is not valid.");
    }
    return Long.parseLong(m.group(1));
  }

  // ---------------------------------------------------------------- Terminate / Stop / Start

  private String terminateInstances(QueryRequest request) {
    List<String> ids = instanceIds(request);
    dryRunCheck(request, ids);
    return stateChanges("TerminateInstances", "instancesSet", cloud.terminate(ids));
  }

  /** Force: SIGKILL at once rather than SIGTERM first. Hibernate: no instance is configured for it, as EC2 says. */
  private String stopInstances(QueryRequest request) {
    List<String> ids = instanceIds(request);
    boolean force = request.flag("Force");
    if (request.flag("Hibernate")) {
      cloud.require(ids);
      throw new Ec2Exception(400, "UnsupportedHibernationConfiguration", "The instance can't be hibernated because "
          + "it was not configured at launch for hibernation: " + String.join(", ", ids));
    }
    dryRunCheck(request, ids);
    return stateChanges("StopInstances", "instancesSet", cloud.stop(ids, force));
  }

  private String startInstances(QueryRequest request) {
    List<String> ids = instanceIds(request);
    dryRunCheck(request, ids);
    return stateChanges("StartInstances", "instancesSet", cloud.start(ids));
  }

  private List<String> instanceIds(QueryRequest request) {
    List<String> ids = request.list("InstanceId");
    if (ids.isEmpty()) {
      throw Ec2Exception.missingParameter("InstanceId");
    }
    ids.forEach(Ec2Api::checkInstanceId);
    return ids;
  }

  private void dryRunCheck(QueryRequest request, List<String> ids) {
    if (request.flag("DryRun")) {
      cloud.require(ids);
      throw dryRunSucceeded();
    }
  }

  private String stateChanges(String action, String listName, List<CloudState.StateChange> changes) {
    XmlWriter xml = XmlWriter.response(action, requestId).open(listName);
    for (CloudState.StateChange change : changes) {
      xml.open("item").element("instanceId", change.instanceId());
      state(xml, "currentState", change.current());
      state(xml, "previousState", change.previous());
      xml.close();
    }
    return xml.close().finish();
  }

  // ---------------------------------------------------------------- CreateTags

  private String createTags(QueryRequest request) {
    List<String> resources = request.list("ResourceId");
    if (resources.isEmpty()) {
      throw Ec2Exception.missingParameter("ResourceId");
    }
    Map<String, String> tags = new LinkedHashMap<>();
    List<Map<String, String>> tagStructs = request.structs("Tag");
    if (tagStructs.isEmpty()) {
      throw Ec2Exception.missingParameter("Tag");
    }
    Tagging.read(tagStructs, tags);
    List<String> instances = new ArrayList<>();
    List<String> volumeIds = new ArrayList<>();
    for (String resource : resources) {
      if (resource.startsWith("ami-")) {
        throw new Ec2Exception(400, "UnsupportedOperation", "The sandbox's images are tagged in its image catalog.");
      }
      if (resource.startsWith("vol-")) {
        checkVolumeId(resource);
        volumeIds.add(resource);
        continue;
      }
      if (!resource.startsWith("i-")) {
        throw new Ec2Exception(400, "InvalidID", "The ID '" + Ec2Exception.abbreviate(resource) + "' is not valid");
      }
      checkInstanceId(resource);
      instances.add(resource);
    }
    if (request.flag("DryRun")) {
      cloud.require(instances);
      cloud.volumes().require(volumeIds);
      throw dryRunSucceeded();
    }
    cloud.createTags(instances, volumeIds, tags);
    return XmlWriter.response("CreateTags", requestId).element("return", "true").finish();
  }

  // ---------------------------------------------------------------- volumes

  private String createVolume(QueryRequest request) {
    String zone = request.required("AvailabilityZone");
    String snapshotId = request.get("SnapshotId");
    Integer size = snapshotId != null && request.get("Size") == null ? null
        : request.requiredInt("Size", Integer.MIN_VALUE, Integer.MAX_VALUE);
    if (size == null) {
      throw new Ec2Exception(400, "InvalidSnapshot.NotFound", "The snapshot '" + Ec2Exception.abbreviate(snapshotId)
          + "' does not exist.");
    }
    if (request.flag("Encrypted")) {
      throw new Ec2Exception(400, "UnsupportedOperation", "The sandbox's volumes are not encrypted.");
    }
    if (request.flag("MultiAttachEnabled")) {
      throw new Ec2Exception(400, "UnsupportedOperation", "The sandbox's volumes attach to one instance at a time.");
    }
    String clientToken = request.get("ClientToken");
    if (clientToken != null && !CLIENT_TOKEN.matcher(clientToken).matches()) {
      throw Ec2Exception.invalidValue("ClientToken", clientToken, "It must be 1 to 64 printable ASCII characters.");
    }
    Map<String, String> tags = specifiedTags(request, "volume");
    Volumes.CreateRequest create = new Volumes.CreateRequest(size, zone, request.get("VolumeType"),
        request.optionalInt("Iops", Integer.MIN_VALUE, Integer.MAX_VALUE),
        request.optionalInt("Throughput", Integer.MIN_VALUE, Integer.MAX_VALUE), snapshotId, tags, clientToken,
        request.fingerprint(Set.of("DryRun")));
    if (request.flag("DryRun")) {
      throw dryRunSucceeded();
    }
    Volume volume = cloud.createVolume(create);
    XmlWriter xml = XmlWriter.response("CreateVolume", requestId);
    volumeFields(xml, volume);
    return xml.finish();
  }

  private String describeVolumes(QueryRequest request) {
    List<String> ids = request.list("VolumeId");
    ids.forEach(Ec2Api::checkVolumeId);
    Integer maxResults = maxResults(request, !ids.isEmpty(), "volumeSet", 500);
    long after = pageStart(request.get("NextToken"));
    List<QueryRequest.Filter> filters = request.filters();
    volumeFilters.check(filters);
    List<Volume> selected = ids.isEmpty() ? cloud.volumes().all() : cloud.volumes().require(ids);
    List<Volume> matching = selected.stream().filter(v -> v.seq() >= after)
        .filter(v -> volumeFilters.matches(v, filters)).toList();
    List<Volume> page = maxResults == null || matching.size() <= maxResults ? matching : matching.subList(0, maxResults);
    XmlWriter xml = XmlWriter.response("DescribeVolumes", requestId).open("volumeSet");
    for (Volume volume : page) {
      xml.open("item");
      volumeFields(xml, volume);
      Volume.Attachment attachment = volume.attachment();
      if (attachment == null) {
        xml.empty("attachmentSet");
      } else {
        xml.open("attachmentSet").open("item");
        attachmentFields(xml, volume, attachment);
        xml.element("deleteOnTermination", "false").close().close();
      }
      xml.close();
    }
    xml.close();
    if (page.size() < matching.size()) {
      xml.element("nextToken", "fv-" + matching.get(page.size()).seq());
    }
    return xml.finish();
  }

  private String attachVolume(QueryRequest request) {
    String volumeId = request.required("VolumeId");
    checkVolumeId(volumeId);
    String instanceId = request.required("InstanceId");
    checkInstanceId(instanceId);
    String device = request.required("Device");
    if (request.flag("DryRun")) {
      cloud.volumes().require(List.of(volumeId));
      cloud.require(List.of(instanceId));
      throw dryRunSucceeded();
    }
    Volume volume = cloud.attachVolume(volumeId, instanceId, device);
    XmlWriter xml = XmlWriter.response("AttachVolume", requestId);
    attachmentFields(xml, volume, volume.attachment());
    return xml.finish();
  }

  private String detachVolume(QueryRequest request) {
    String volumeId = request.required("VolumeId");
    checkVolumeId(volumeId);
    String instanceId = request.get("InstanceId");
    if (instanceId != null) {
      checkInstanceId(instanceId);
    }
    boolean force = request.flag("Force");
    if (request.flag("DryRun")) {
      cloud.volumes().require(List.of(volumeId));
      throw dryRunSucceeded();
    }
    Volume volume = cloud.detachVolume(volumeId, instanceId, request.get("Device"), force);
    XmlWriter xml = XmlWriter.response("DetachVolume", requestId);
    attachmentFields(xml, volume, volume.attachment());
    return xml.finish();
  }

  private String deleteVolume(QueryRequest request) {
    String volumeId = request.required("VolumeId");
    checkVolumeId(volumeId);
    if (request.flag("DryRun")) {
      cloud.volumes().require(List.of(volumeId));
      throw dryRunSucceeded();
    }
    cloud.deleteVolume(volumeId);
    return XmlWriter.response("DeleteVolume", requestId).element("return", "true").finish();
  }

  /** The tags of the TagSpecifications, which must all be for {@code resourceType}. */
  private static Map<String, String> specifiedTags(QueryRequest request, String resourceType) {
    Map<String, String> tags = new LinkedHashMap<>();
    for (Map<String, String> spec : request.structs("TagSpecification")) {
      String type = spec.get("ResourceType");
      if (type == null) {
        throw Ec2Exception.missingParameter("TagSpecification.N.ResourceType");
      }
      if (!type.equals(resourceType)) {
        throw Ec2Exception.invalidValue("TagSpecification.N.ResourceType", type, "This call tags a " + resourceType
            + ".");
      }
      Tagging.read(QueryRequest.nestedStructs(spec, "Tag"), tags);
    }
    return tags;
  }

  private static void volumeFields(XmlWriter xml, Volume volume) {
    xml.element("volumeId", volume.id())
        .element("size", volume.sizeGib());
    if (volume.snapshotId() == null) {
      xml.empty("snapshotId");
    } else {
      xml.element("snapshotId", volume.snapshotId());
    }
    xml.element("availabilityZone", volume.availabilityZone())
        .element("status", volume.state().ec2Name())
        .element("createTime", volume.createTime())
        .element("volumeType", volume.volumeType());
    if (volume.iops() > 0) {
      xml.element("iops", volume.iops());
    }
    if (volume.throughput() > 0) {
      xml.element("throughput", volume.throughput());
    }
    xml.element("encrypted", "false").element("multiAttachEnabled", "false");
    tagSet(xml, volume.tags());
  }

  private static void attachmentFields(XmlWriter xml, Volume volume, Volume.Attachment attachment) {
    xml.element("volumeId", volume.id())
        .element("instanceId", attachment.instanceId())
        .element("device", attachment.device())
        .element("status", attachment.state().ec2Name())
        .element("attachTime", attachment.attachTime());
  }

  private static void checkVolumeId(String id) {
    if (!Ids.VOLUME_ID.matcher(id).matches()) {
      throw new Ec2Exception(400, "InvalidVolumeID.Malformed",
          "Invalid id: \"" + Ec2Exception.abbreviate(id) + "\" (expecting \"vol-...\")");
    }
  }

  // ---------------------------------------------------------------- rendering

  private void instanceItem(XmlWriter xml, Instance instance) {
    xml.open("item")
        .element("instanceId", instance.id())
        .element("imageId", instance.imageId());
    state(xml, "instanceState", instance.state());
    xml.element("privateDnsName", instance.privateDnsName())
        .empty("dnsName")
        .element("reason", instance.stateReason())
        .element("keyName", instance.keyName())
        .element("amiLaunchIndex", instance.launchIndex())
        .empty("productCodes")
        .element("instanceType", instance.instanceType())
        .element("launchTime", instance.launchTime())
        .open("placement").element("availabilityZone", instance.availabilityZone()).empty("groupName")
        .element("tenancy", "default").close()
        .open("monitoring").element("state", "disabled").close()
        .element("subnetId", instance.subnetId())
        .element("privateIpAddress", instance.privateIp())
        .element("sourceDestCheck", "true")
        .open("groupSet");
    for (String group : instance.securityGroupIds()) {
      xml.open("item").element("groupId", group).close();
    }
    xml.close()
        .element("architecture", "x86_64")
        .element("rootDeviceType", "ebs")
        .element("rootDeviceName", "/dev/xvda")
        .empty("blockDeviceMapping")
        .element("virtualizationType", "hvm")
        .element("clientToken", instance.clientToken());
    if (instance.stateReason() != null && instance.stateReason().startsWith("User initiated")) {
      xml.open("stateReason").element("code", "Client.UserInitiatedShutdown")
          .element("message", "Client.UserInitiatedShutdown: User initiated shutdown").close();
    } else if (instance.stateReason() != null && instance.stateReason().startsWith("Server.")) {
      xml.open("stateReason").element("code", "Server.InternalError")
          .element("message", instance.stateReason()).close();
    }
    tagSet(xml, instance.tags());
    xml.element("hypervisor", "xen")
        .empty("networkInterfaceSet")
        .element("ebsOptimized", "false")
        .open("metadataOptions").element("state", "applied").element("httpTokens", "required")
        .element("httpPutResponseHopLimit", 2).element("httpEndpoint", "enabled")
        .element("instanceMetadataTags", "enabled").close()
        .close();
  }

  private static void state(XmlWriter xml, String element, InstanceState state) {
    xml.open(element).element("code", state.code()).element("name", state.ec2Name()).close();
  }

  private static void tagSet(XmlWriter xml, Map<String, String> tags) {
    if (tags.isEmpty()) {
      return;
    }
    xml.open("tagSet");
    tags.forEach((key, value) -> xml.open("item").element("key", key).element("value", value).close());
    xml.close();
  }

  private static void checkInstanceId(String id) {
    if (!Ids.INSTANCE_ID.matcher(id).matches()) {
      throw Ec2Exception.instanceIdMalformed(id);
    }
  }

  private static void checkImageId(String id) {
    if (!Ids.IMAGE_ID.matcher(id).matches()) {
      throw new Ec2Exception(400, "InvalidAMIID.Malformed",
          "Invalid id: \"" + Ec2Exception.abbreviate(id) + "\" (expecting \"ami-...\")");
    }
  }

  private static Ec2Exception dryRunSucceeded() {
    return new Ec2Exception(412, "DryRunOperation", "Request would have succeeded, but DryRun flag is set.");
  }

  private static String abbreviateAction(String action) {
    return action.length() <= 40 && action.chars().allMatch(Character::isLetterOrDigit) ? action : "(invalid)";
  }
}
