package io.fleetvote.sandbox;

import io.fleetvote.sandbox.process.ProcessSpec;

import java.util.List;
import java.util.Map;

/**
 * A registered image (an AMI): what processes an instance of it runs and which named ports they need.
 *
 * @param id           {@code ami-} and 17 hex digits, derived from the name so it is stable across restarts
 * @param name         e.g. {@code fleetvote-app}
 * @param description  shown by DescribeImages
 * @param ports        names of the ports the sandbox allocates per instance ({@code ${port.NAME}} in commands)
 * @param processes    started in order, stopped in reverse order
 * @param tags         the image's tags
 * @param creationDate ISO-8601, as DescribeImages reports it
 */
public record Image(String id, String name, String description, List<String> ports, List<ProcessSpec> processes,
                    Map<String, String> tags, String creationDate) {

  public Image {
    ports = List.copyOf(ports);
    processes = List.copyOf(processes);
    tags = Map.copyOf(tags);
  }
}
