package io.fleetvote.load;

import io.netty.channel.ConnectTimeoutException;
import io.vertx.core.VertxException;
import io.vertx.core.http.HttpClosedException;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.util.concurrent.TimeoutException;

import static org.assertj.core.api.Assertions.assertThat;

class FailureClassTest {

  @Test
  void aConnectTimeoutIsATimeoutThoughItIsAConnectException() {
    assertThat(FailureClass.of(new ConnectTimeoutException("connection timed out after 300 ms: /127.0.0.1:80")))
        .isEqualTo("timeout");
    assertThat(FailureClass.of(new TimeoutException("Timeout 300 (ms) fired"))).isEqualTo("timeout");
  }

  @Test
  void aConnectExceptionIsARefusal() {
    assertThat(FailureClass.of(new ConnectException("Connection refused"))).isEqualTo("refused");
  }

  @Test
  void aCloseOrAResetByThePeerIsAReset() {
    assertThat(FailureClass.of(new HttpClosedException("Connection was closed"))).isEqualTo("reset");
    assertThat(FailureClass.of(new SocketException("Connection reset"))).isEqualTo("reset");
    // What netty's native transport raises: an IOException whose message alone tells.
    assertThat(FailureClass.of(new IOException("recvAddress(..) failed: Connection reset by peer")))
        .isEqualTo("reset");
  }

  @Test
  void aWrappedFailureIsClassifiedByItsCause() {
    assertThat(FailureClass.of(new VertxException(new ConnectException("Connection refused")))).isEqualTo("refused");
  }

  @Test
  void anythingElseIsOtherNamedByItsClass() {
    assertThat(FailureClass.of(new UnknownHostException("nowhere.invalid"))).isEqualTo("other-UnknownHostException");
    assertThat(FailureClass.of(new IllegalStateException("Client is closed"))).isEqualTo("other-IllegalStateException");
    assertThat(FailureClass.of(new RuntimeException("anonymous") { })).matches("other-FailureClassTest_[0-9]+");
  }

  @Test
  void onlyA2xxStatusIsASuccess() {
    assertThat(FailureClass.isSuccess(204)).isTrue();
    assertThat(FailureClass.isSuccess(302)).isFalse();
    assertThat(FailureClass.ofStatus(503)).isEqualTo("http-503");
  }
}
