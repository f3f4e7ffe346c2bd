package io.fleetvote.common.link;

import io.fleetvote.common.msg.MessageException;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.core.parsetools.RecordParser;

import java.nio.charset.StandardCharsets;

/**
 * The agent link's wire format, the TCP event-bus bridge's: each frame is a 4-byte big-endian length and that many
 * bytes of UTF-8 JSON. Unlike the bridge's parser, a frame longer than {@code maxFrameBytes} is never buffered: the
 * parser reports it and stops, and the caller closes the connection.
 */
public final class FrameCodec {

  /** What a frame carries at most: a heartbeat is 600 bytes, an identity document 500, an LB status 20 KiB. */
  public static final int MAX_FRAME_BYTES = 256 * 1024;

  private FrameCodec() {
  }

  public static Buffer encode(Frame frame) {
    byte[] json = frame.toJson().encode().getBytes(StandardCharsets.UTF_8);
    return Buffer.buffer(4 + json.length).appendInt(json.length).appendBytes(json);
  }

  /** What a parser hands on: a frame, or a frame that could not be read (the stream may go on) or a fatal one. */
  public interface Sink {
    void frame(Frame frame);

    /** A frame that is valid JSON but not a valid frame, or not JSON: the stream stays in step. */
    void invalid(MessageException problem);

    /** A length beyond the limit: the stream cannot be read further. */
    void oversized(long length);
  }

  /** A parser to feed with the connection's bytes ({@code socket.handler(parser)}). */
  public static Handler<Buffer> parser(int maxFrameBytes, Sink sink) {
    RecordParser parser = RecordParser.newFixed(4);
    boolean[] readingLength = {true};
    boolean[] stopped = {false};
    parser.handler(chunk -> {
      if (stopped[0]) {
        return;
      }
      if (readingLength[0]) {
        long length = Integer.toUnsignedLong(chunk.getInt(0));
        if (length > maxFrameBytes || length == 0) {
          stopped[0] = true;
          sink.oversized(length);
          return;
        }
        readingLength[0] = false;
        parser.fixedSizeMode((int) length);
        return;
      }
      readingLength[0] = true;
      parser.fixedSizeMode(4);
      JsonObject json;
      try {
        json = new JsonObject(chunk);
      } catch (DecodeException | ClassCastException e) {
        sink.invalid(new MessageException("frame", "is not a JSON object"));
        return;
      }
      Frame frame;
      try {
        frame = Frame.fromJson(json);
      } catch (MessageException e) {
        sink.invalid(e);
        return;
      }
      sink.frame(frame);
    });
    return parser;
  }
}
