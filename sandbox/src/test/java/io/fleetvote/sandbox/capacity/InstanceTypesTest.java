package io.fleetvote.sandbox.capacity;

import io.fleetvote.sandbox.capacity.InstanceTypes.InstanceType;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class InstanceTypesTest {

  @Test
  void theSandboxOffersSixT3SizesSmallestFirst() {
    assertThat(InstanceTypes.all()).extracting(InstanceType::name)
        .containsExactly("t3.nano", "t3.micro", "t3.small", "t3.medium", "t3.large", "t3.xlarge");
    assertThat(InstanceTypes.all()).extracting(InstanceType::vcpus).containsExactly(0.125, 0.25, 0.5, 1.0, 2.0, 4.0);
    assertThat(InstanceTypes.names()).isEqualTo("t3.nano, t3.micro, t3.small, t3.medium, t3.large, t3.xlarge");
  }

  @Test
  void aLaunchWithoutATypeGetsAQuarterOfACore() {
    assertThat(InstanceTypes.DEFAULT.name()).isEqualTo("t3.micro");
    assertThat(InstanceTypes.find("t3.micro")).contains(InstanceTypes.DEFAULT);
  }

  @Test
  void typesAreFoundByTheirExactName() {
    assertThat(InstanceTypes.find("t3.small")).map(InstanceType::vcpus).contains(0.5);
    assertThat(InstanceTypes.find("T3.SMALL")).isEmpty();
    assertThat(InstanceTypes.find("m5.large")).isEmpty();
    assertThat(InstanceTypes.find("")).isEmpty();
  }

  @Test
  void capacitiesAreWrittenWithoutTrailingZeros() {
    assertThat(InstanceTypes.format(0.25)).isEqualTo("0.25");
    assertThat(InstanceTypes.format(0.125)).isEqualTo("0.125");
    assertThat(InstanceTypes.format(1.0)).isEqualTo("1");
    assertThat(InstanceTypes.format(4.0)).isEqualTo("4");
  }

  @Test
  void theJsonListsNameAndVcpusOfEachType() {
    assertThat(InstanceTypes.toJson().getJsonObject(0).encode()).isEqualTo("{\"name\":\"t3.nano\",\"vcpus\":0.125}");
    assertThat(InstanceTypes.toJson()).hasSize(6);
  }
}
