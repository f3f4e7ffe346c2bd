package io.fleetvote.sandbox.ec2;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class WildcardTest {

  @Test
  void starAndQuestionMarkMatchAsInEc2FiltersAndTheRestIsLiteral() {
    assertThat(Wildcard.matches("web", "web")).isTrue();
    assertThat(Wildcard.matches("web", "web-1")).isFalse();
    assertThat(Wildcard.matches("web*", "web-1")).isTrue();
    assertThat(Wildcard.matches("*-1", "web-1")).isTrue();
    assertThat(Wildcard.matches("web-?", "web-12")).isFalse();
    assertThat(Wildcard.matches("web-??", "web-12")).isTrue();
    assertThat(Wildcard.matches("a.b", "axb")).as("a dot is literal").isFalse();
    assertThat(Wildcard.matches("(x)[y]", "(x)[y]")).isTrue();
    assertThat(Wildcard.matches("*", "")).isTrue();
    assertThat(Wildcard.matches("*", null)).isFalse();
  }
}
