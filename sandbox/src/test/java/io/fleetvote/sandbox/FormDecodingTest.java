package io.fleetvote.sandbox;

import io.fleetvote.sandbox.ec2.Ec2Exception;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FormDecodingTest {

  @Test
  void decodesTheSdksPercentEncoding() {
    Map<String, String> params = new LinkedHashMap<>();
    SandboxVerticle.decodeForm("Action=CreateTags&Tag.1.Key=fleetvote%3Arole&Tag.1.Value=a+b%2Fc&Empty=&Bare", params);
    assertThat(params).containsExactly(Map.entry("Action", "CreateTags"), Map.entry("Tag.1.Key", "fleetvote:role"),
        Map.entry("Tag.1.Value", "a b/c"), Map.entry("Empty", ""), Map.entry("Bare", ""));
  }

  @Test
  void badEscapesAndRepeatedNamesAreMalformedQueryStrings() {
    assertThatThrownBy(() -> SandboxVerticle.decodeForm("Action=%zz", new LinkedHashMap<>()))
        .isInstanceOfSatisfying(Ec2Exception.class, e -> assertThat(e.code()).isEqualTo("MalformedQueryString"));
    assertThatThrownBy(() -> SandboxVerticle.decodeForm("A=1&A=2", new LinkedHashMap<>()))
        .isInstanceOfSatisfying(Ec2Exception.class, e -> assertThat(e.code()).isEqualTo("MalformedQueryString"));
  }
}
