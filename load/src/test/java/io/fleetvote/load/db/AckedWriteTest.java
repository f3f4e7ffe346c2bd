package io.fleetvote.load.db;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AckedWriteTest {

  @Test
  void aLineIsTheSequenceNumberAndTheAckTimeInMicroseconds() {
    assertThat(new AckedWrite(1042, 1_765_068_325_123_456L).line()).isEqualTo("1042 1765068325123456");
  }

  @Test
  void aLineReadsBackAsTheWriteItRecords() {
    AckedWrite write = new AckedWrite(7, 1_765_068_325_000_001L);

    assertThat(AckedWrite.parse(write.line())).isEqualTo(write);
    assertThat(AckedWrite.parse(write.line() + "\n")).isEqualTo(write);
  }

  @Test
  void aLineThatIsNotOneIsRefusedQuotingIt() {
    assertThatThrownBy(() -> AckedWrite.parse("1042")).hasMessageContaining("'1042'");
    assertThatThrownBy(() -> AckedWrite.parse("x 1765068325123456")).hasMessageContaining("not an acked-write line");
    assertThatThrownBy(() -> AckedWrite.parse("1 2 3")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> AckedWrite.parse("0 1765068325123456")).hasMessageContaining("not positive");
  }
}
