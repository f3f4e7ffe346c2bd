package io.fleetvote.sandbox;

import io.fleetvote.common.msg.JsonFields;
import io.fleetvote.common.msg.MessageException;
import io.fleetvote.sandbox.process.ProcessSpec;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The images the sandbox can launch, read from JSON ({@code images.json} in the jar, or {@code --images FILE}).
 * Commands and environment may use these variables, checked when the catalog is read:
 * {@code ${java}} (this JVM's java), {@code ${home}} (the Fleetvote install), {@code ${instance.id}},
 * {@code ${instance.dir}} (the instance's own directory), {@code ${instance.vcpus}} (its type's capacity, e.g.
 * {@code 0.25}), {@code ${private-ip}}, {@code ${imds}} (the instance's metadata endpoint URL) and
 * {@code ${port.NAME}} for each declared port. A process is started under the instance's CPU quota unless it says
 * {@code "withinCapacity": false}.
 */
public final class ImageCatalog {

  public static final String OWNER_ID = "123456789012";
  private static final Pattern VARIABLE = Pattern.compile("\\$\\{([a-z.-]+)}");
  private static final Set<String> FIXED_VARIABLES =
      Set.of("java", "home", "instance.id", "instance.dir", "instance.vcpus", "private-ip", "imds");
  private static final Pattern IMAGE_NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
  private static final Pattern PORT_NAME = Pattern.compile("[a-z][a-z0-9-]{0,30}");
  private static final Pattern ENV_NAME = Pattern.compile("[A-Z_][A-Z0-9_]{0,63}");

  private final Map<String, Image> byId;

  private ImageCatalog(Map<String, Image> byId) {
    this.byId = byId;
  }

  /** The images shipped in the sandbox jar. */
  public static ImageCatalog builtIn() {
    try (InputStream in = ImageCatalog.class.getResourceAsStream("/images.json")) {
      if (in == null) {
        throw new IllegalStateException("images.json is missing from the sandbox jar");
      }
      return fromJson(new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8)));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static ImageCatalog fromFile(Path file) {
    String text;
    try {
      text = Files.readString(file);
    } catch (IOException e) {
      throw new MessageException(file.toString(), "cannot be read: " + e.getMessage());
    }
    return fromJson(JsonFields.object(text, file.toString()));
  }

  /** Reads and checks a catalog; a bad entry throws {@link MessageException} naming it, e.g. {@code images[0].ports[1]}. */
  public static ImageCatalog fromJson(JsonObject json) {
    Object raw = json.getValue("images");
    if (!(raw instanceof JsonArray array) || array.isEmpty()) {
      throw new MessageException("images", "must be a non-empty list");
    }
    Map<String, Image> images = new LinkedHashMap<>();
    for (int i = 0; i < array.size(); i++) {
      String where = "images[" + i + "]";
      if (!(array.getValue(i) instanceof JsonObject item)) {
        throw new MessageException(where, "must be an object");
      }
      Image image = image(item, where);
      if (images.containsKey(image.id())) {
        throw new MessageException(where + ".name", "'" + image.name() + "' is registered twice");
      }
      images.put(image.id(), image);
    }
    return new ImageCatalog(images);
  }

  /** This catalog plus {@code more}'s images; an image registered in both is an error naming it. */
  public ImageCatalog with(ImageCatalog more, String source) {
    Map<String, Image> merged = new LinkedHashMap<>(byId);
    for (Image image : more.all()) {
      if (merged.putIfAbsent(image.id(), image) != null) {
        throw new MessageException(source, "image '" + image.name() + "' is already registered");
      }
    }
    return new ImageCatalog(merged);
  }

  public Optional<Image> find(String imageId) {
    return Optional.ofNullable(byId.get(imageId));
  }

  public List<Image> all() {
    return List.copyOf(byId.values());
  }

  /** The image with this name (for tools and tests that launch by name). */
  public Image named(String name) {
    return byId.values().stream().filter(i -> i.name().equals(name)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no image named " + name));
  }

  /** {@code ami-} and the first 17 hex digits of the name's SHA-256: stable, and shaped like a real AMI id. */
  public static String imageId(String name) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(name.getBytes(StandardCharsets.UTF_8));
      return "ami-" + HexFormat.of().formatHex(digest).substring(0, 17);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Fills in {@code ${...}} variables; every variable was checked when the catalog was read. */
  public static String expand(String template, Map<String, String> variables) {
    Matcher m = VARIABLE.matcher(template);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String value = variables.get(m.group(1));
      if (value == null) {
        throw new IllegalStateException("variable ${" + m.group(1) + "} has no value");
      }
      m.appendReplacement(out, Matcher.quoteReplacement(value));
    }
    m.appendTail(out);
    return out.toString();
  }

  private static Image image(JsonObject json, String where) {
    try {
      String name = JsonFields.string(json, "name", 63, IMAGE_NAME);
      String description = JsonFields.optionalString(json, "description", 255, null);
      List<String> ports = JsonFields.strings(json, "ports", 16, 31, PORT_NAME);
      if (Set.copyOf(ports).size() != ports.size()) {
        throw new MessageException("ports", "names a port twice");
      }
      Object rawProcesses = json.getValue("processes");
      if (!(rawProcesses instanceof JsonArray processArray) || processArray.isEmpty()) {
        throw new MessageException("processes", "must be a non-empty list");
      }
      List<ProcessSpec> processes = new ArrayList<>();
      for (int p = 0; p < processArray.size(); p++) {
        if (!(processArray.getValue(p) instanceof JsonObject process)) {
          throw new MessageException("processes[" + p + "]", "must be an object");
        }
        processes.add(process(process, "processes[" + p + "]", ports));
      }
      if (processes.stream().map(ProcessSpec::name).distinct().count() != processes.size()) {
        throw new MessageException("processes", "two processes have the same name");
      }
      Map<String, String> tags = stringMap(JsonFields.object(json, "tags"), "tags", 256, null);
      String created = JsonFields.optionalString(json, "creationDate", 30, null);
      return new Image(imageId(name), name, description == null ? name : description, ports, processes, tags,
          created == null ? "2026-11-01T00:00:00.000Z" : created);
    } catch (MessageException e) {
      throw e.within(where);
    }
  }

  private static ProcessSpec process(JsonObject json, String where, List<String> ports) {
    try {
      String name = JsonFields.string(json, "name", 31, PORT_NAME);
      List<String> command = JsonFields.strings(json, "command", 256, 4096, null);
      if (command.isEmpty()) {
        throw new MessageException("command", "must name a program");
      }
      for (int c = 0; c < command.size(); c++) {
        checkVariables(command.get(c), "command[" + c + "]", ports);
      }
      Map<String, String> env = stringMap(JsonFields.object(json, "env"), "env", 4096, ENV_NAME);
      env.forEach((key, value) -> checkVariables(value, "env." + key, ports));
      long stopTimeout = JsonFields.longValue(json, "stopTimeoutMillis", 100, 600_000, 10_000);
      boolean withinCapacity = JsonFields.booleanValue(json, "withinCapacity", true);
      return new ProcessSpec(name, command, env, stopTimeout, withinCapacity);
    } catch (MessageException e) {
      throw e.within(where);
    }
  }

  private static Map<String, String> stringMap(JsonObject json, String where, int maxLength, Pattern keyShape) {
    Map<String, String> values = new LinkedHashMap<>();
    for (String key : json.fieldNames()) {
      if (keyShape != null && !keyShape.matcher(key).matches()) {
        throw new MessageException(where + "." + key, "is not a valid name");
      }
      try {
        values.put(key, JsonFields.string(json, key, maxLength, null));
      } catch (MessageException e) {
        throw e.within(where);
      }
    }
    return values;
  }

  private static void checkVariables(String template, String where, List<String> ports) {
    Matcher m = VARIABLE.matcher(template);
    while (m.find()) {
      String variable = m.group(1);
      boolean known = FIXED_VARIABLES.contains(variable)
          || (variable.startsWith("port.") && ports.contains(variable.substring(5)));
      if (!known) {
        throw new MessageException(where, "unknown variable ${" + variable + "}");
      }
    }
  }
}
