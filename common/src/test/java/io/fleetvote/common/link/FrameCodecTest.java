package io.fleetvote.common.link;

import io.fleetvote.common.msg.MessageException;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class FrameCodecTest {

  private final List<Frame> frames = new ArrayList<>();
  private final List<String> invalid = new ArrayList<>();
  private final List<Long> oversized = new ArrayList<>();
  private final Handler<Buffer> parser = FrameCodec.parser(1024, new FrameCodec.Sink() {
    @Override
    public void frame(Frame frame) {
      frames.add(frame);
    }

    @Override
    public void invalid(MessageException problem) {
      invalid.add(problem.getMessage());
    }

    @Override
    public void oversized(long length) {
      oversized.add(length);
    }
  });

  @Test
  void framesSplitAnywhereAcrossReadsComeOutWhole() {
    Buffer wire = FrameCodec.encode(Frame.publish("fleetvote.votes", new JsonObject().put("x", 1)))
        .appendBuffer(FrameCodec.encode(Frame.request("fleetvote.lb.i-1.register", new JsonObject(), 7, 1000)))
        .appendBuffer(FrameCodec.encode(Frame.ping()));
    for (int i = 0; i < wire.length(); i++) {
      parser.handle(wire.getBuffer(i, i + 1));
    }
    assertThat(frames).extracting(Frame::type).containsExactly(Frame.Type.PUBLISH, Frame.Type.REQUEST,
        Frame.Type.PING);
    assertThat(frames.get(0).body().getInteger("x")).isEqualTo(1);
    assertThat(frames.get(1).id()).isEqualTo(7L);
  }

  @Test
  void badFramesAreReportedAndTheStreamStaysInStep() {
    parser.handle(raw("not json"));
    parser.handle(raw("{\"type\":\"launch\"}"));
    parser.handle(raw("{\"type\":\"publish\",\"address\":\"a b\",\"body\":{}}"));
    parser.handle(raw("{\"type\":\"request\",\"address\":\"x\",\"body\":{},\"id\":1,\"timeoutMs\":99999999}"));
    parser.handle(FrameCodec.encode(Frame.pong()));
    assertThat(invalid).hasSize(4);
    assertThat(invalid.get(0)).contains("frame: is not a JSON object");
    assertThat(invalid.get(1)).contains("unknown frame type 'launch'");
    assertThat(invalid.get(2)).contains("address");
    assertThat(invalid.get(3)).contains("timeoutMs");
    assertThat(frames).extracting(Frame::type).containsExactly(Frame.Type.PONG);
  }

  @Test
  void aLengthBeyondTheLimitIsNeverBufferedAndStopsTheStream() {
    parser.handle(Buffer.buffer().appendInt(Integer.MAX_VALUE).appendString("{"));
    parser.handle(FrameCodec.encode(Frame.ping()));
    assertThat(oversized).containsExactly((long) Integer.MAX_VALUE);
    assertThat(frames).isEmpty();
  }

  private static Buffer raw(String json) {
    byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
    return Buffer.buffer().appendInt(bytes.length).appendBytes(bytes);
  }
}
