package io.fleetvote.sandbox.ec2;

import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.Deque;

/** Writes EC2's response XML: nested elements, escaped text, EC2's timestamp format. */
public final class XmlWriter {

  public static final String NAMESPACE = "http://ec2.amazonaws.com/doc/2016-11-15/";
  private static final DateTimeFormatter TIMESTAMP = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")
      .withZone(java.time.ZoneOffset.UTC);

  private final StringBuilder out = new StringBuilder(1024);
  private final Deque<String> open = new ArrayDeque<>();

  private XmlWriter() {
    out.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
  }

  /** {@code <{Action}Response xmlns=...><requestId>...</requestId>}, as every EC2 success starts. */
  public static XmlWriter response(String action, String requestId) {
    XmlWriter xml = new XmlWriter();
    xml.out.append('<').append(action).append("Response xmlns=\"").append(NAMESPACE).append("\">");
    xml.open.push(action + "Response");
    return xml.element("requestId", requestId);
  }

  /** EC2's error document: one {@code <Error>} inside {@code <Errors>}. */
  public static String error(String code, String message, String requestId) {
    return new XmlWriter().open("Response").open("Errors").open("Error")
        .element("Code", code).element("Message", message)
        .close().close().element("RequestID", requestId).finish();
  }

  public XmlWriter open(String name) {
    out.append('<').append(name).append('>');
    open.push(name);
    return this;
  }

  public XmlWriter close() {
    out.append("</").append(open.pop()).append('>');
    return this;
  }

  /** An element with text; a null value writes an empty element, as EC2 does for absent strings. */
  public XmlWriter element(String name, Object value) {
    if (value == null) {
      return empty(name);
    }
    out.append('<').append(name).append('>');
    escape(String.valueOf(value));
    out.append("</").append(name).append('>');
    return this;
  }

  public XmlWriter element(String name, Instant time) {
    return element(name, time == null ? null : TIMESTAMP.format(time.truncatedTo(ChronoUnit.MILLIS)));
  }

  public XmlWriter empty(String name) {
    out.append('<').append(name).append("/>");
    return this;
  }

  public String finish() {
    while (!open.isEmpty()) {
      close();
    }
    return out.toString();
  }

  private void escape(String text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '&' -> out.append("&amp;");
        case '"' -> out.append("&quot;");
        case '\'' -> out.append("&apos;");
        case '\r' -> out.append("&#13;");
        default -> {
          // Characters XML 1.0 cannot carry at all are replaced rather than breaking the document.
          boolean legal = c == '\t' || c == '\n' || (c >= 0x20 && c <= 0xD7FF) || (c >= 0xE000 && c <= 0xFFFD)
              || Character.isSurrogate(c);
          out.append(legal ? c : '\uFFFD');
        }
      }
    }
  }
}
