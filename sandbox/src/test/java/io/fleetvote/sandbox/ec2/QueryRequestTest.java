package io.fleetvote.sandbox.ec2;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class QueryRequestTest {

  @Test
  void listsAndStructsAreReadInIndexOrderNotArrivalOrder() {
    QueryRequest request = request("InstanceId.2", "i-2", "InstanceId.10", "i-10", "InstanceId.1", "i-1",
        "TagSpecification.1.ResourceType", "instance", "TagSpecification.1.Tag.2.Key", "b",
        "TagSpecification.1.Tag.1.Key", "a", "TagSpecification.1.Tag.1.Value", "1");
    assertThat(request.list("InstanceId")).containsExactly("i-1", "i-2", "i-10");
    Map<String, String> spec = request.structs("TagSpecification").get(0);
    assertThat(spec.get("ResourceType")).isEqualTo("instance");
    assertThat(QueryRequest.nestedStructs(spec, "Tag")).containsExactly(Map.of("Key", "a", "Value", "1"), Map.of("Key", "b"));
  }

  @Test
  void filtersCarryTheirValuesAndMustHaveSome() {
    QueryRequest request = request("Filter.1.Name", "tag:group", "Filter.1.Value.2", "b", "Filter.1.Value.1", "a");
    assertThat(request.filters()).containsExactly(new QueryRequest.Filter("tag:group", List.of("a", "b")));
    assertThatThrownBy(() -> request("Filter.1.Name", "x").filters()).isInstanceOfSatisfying(Ec2Exception.class,
        e -> assertThat(e.code()).isEqualTo("InvalidParameterValue"));
    assertThatThrownBy(() -> request("Filter.1.Value.1", "x").filters()).isInstanceOfSatisfying(Ec2Exception.class,
        e -> assertThat(e.code()).isEqualTo("MissingParameter"));
  }

  @Test
  void numbersAreCheckedAsEc2ChecksThem() {
    assertThat(request("MinCount", "3").requiredInt("MinCount", 1, 10)).isEqualTo(3);
    assertThatThrownBy(() -> request().requiredInt("MinCount", 1, 10)).isInstanceOfSatisfying(Ec2Exception.class,
        e -> assertThat(e.code()).isEqualTo("MissingParameter"));
    assertThatThrownBy(() -> request("MinCount", "x").requiredInt("MinCount", 1, 10))
        .isInstanceOfSatisfying(Ec2Exception.class, e -> assertThat(e.code()).isEqualTo("InvalidParameterValue"));
    assertThatThrownBy(() -> request("MinCount", "11").requiredInt("MinCount", 1, 10))
        .hasMessageContaining("between 1 and 10");
    assertThatThrownBy(() -> request("InstanceId.0", "i-1").list("InstanceId")).hasMessageContaining("out of range");
    assertThatThrownBy(() -> request("InstanceId.99999999999999", "i-1").list("InstanceId"))
        .hasMessageContaining("out of range");
    assertThatThrownBy(() -> request("DryRun", "yes").flag("DryRun")).hasMessageContaining("true or false");
  }

  @Test
  void unknownParametersAndFingerprints() {
    QueryRequest request = request("Action", "RunInstances", "ImageId", "ami-1", "Bogus", "1", "DryRun", "true");
    assertThat(request.unknownParameters(List.of(Pattern.compile("Action"), Pattern.compile("ImageId"),
        Pattern.compile("DryRun")))).containsExactly("Bogus");
    QueryRequest reordered = request("DryRun", "false", "Bogus", "1", "ImageId", "ami-1", "Action", "RunInstances");
    assertThat(reordered.fingerprint(Set.of("DryRun"))).isEqualTo(request.fingerprint(Set.of("DryRun")));
    assertThat(request("ImageId", "ami-2").fingerprint(Set.of())).isNotEqualTo(request("ImageId", "ami-1")
        .fingerprint(Set.of()));
  }

  private static QueryRequest request(String... pairs) {
    Map<String, String> params = new LinkedHashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      params.put(pairs[i], pairs[i + 1]);
    }
    return new QueryRequest(params);
  }
}
