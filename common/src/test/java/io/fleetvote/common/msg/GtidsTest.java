package io.fleetvote.common.msg;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GtidsTest {

  @Test
  void transactionsPastAPositionAreTheSequencesBeyondItPerDomain() {
    assertThat(Gtids.past("0-1-100", "0-1-100")).isZero();
    assertThat(Gtids.past("0-1-100", "0-1-97")).isEqualTo(3);
    assertThat(Gtids.past("0-1-100,1-1-5", "0-1-100")).as("a domain the other never saw").isEqualTo(5);
    assertThat(Gtids.past("0-1-100", "0-2-101")).as("the other ahead (its own epoch row)").isZero();
    assertThat(Gtids.past("", "0-2-1")).as("a master never heard").isZero();
    assertThatThrownBy(() -> Gtids.past("0-1-x", "")).isInstanceOf(MessageException.class)
        .hasMessageContaining("GTID");
    assertThat(Gtids.pastInShared("0-1-100,1-1-5", "0-1-97")).as("only the domains both list").isEqualTo(3);
    assertThatThrownBy(() -> Gtids.past("0-1-18446744073709551615", "")).isInstanceOf(MessageException.class)
        .hasMessageContaining("sequence number past");
    assertThatThrownBy(() -> Gtids.past("4294967296-1-1", "")).hasMessageContaining("domain or server id past");
  }
}
