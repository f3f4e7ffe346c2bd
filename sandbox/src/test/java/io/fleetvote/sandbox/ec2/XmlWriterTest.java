package io.fleetvote.sandbox.ec2;

import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

class XmlWriterTest {

  @Test
  void aResponseStartsWithTheActionElementAndTheRequestId() {
    String xml = XmlWriter.response("CreateTags", "req-1").element("return", "true").finish();
    assertThat(xml).isEqualTo("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        + "<CreateTagsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>req-1</requestId>"
        + "<return>true</return></CreateTagsResponse>");
  }

  @Test
  void textIsEscapedAndCharactersXmlCannotCarryAreReplaced() {
    String xml = XmlWriter.response("X", "r").element("v", "<a & 'b' \"c\">\u0001\r").finish();
    assertThat(xml).contains("<v>&lt;a &amp; &apos;b&apos; &quot;c&quot;&gt;\uFFFD&#13;</v>");
  }

  @Test
  void timestampsAreEc2sFormNullsAreEmptyElements() {
    String xml = XmlWriter.response("X", "r").element("t", Instant.parse("2026-11-25T17:30:00.123456Z"))
        .element("n", (Object) null).finish();
    assertThat(xml).contains("<t>2026-11-25T17:30:00.123Z</t>", "<n/>");
  }

  @Test
  void anErrorHasExactlyEc2sShape() {
    assertThat(XmlWriter.error("InvalidAction", "no <such> action", "r-1")).isEqualTo(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>InvalidAction</Code>"
            + "<Message>no &lt;such&gt; action</Message></Error></Errors><RequestID>r-1</RequestID></Response>");
  }
}
