package io.fleetvote.coordinator.fleet;

import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.ec2.model.Ec2Exception;

import java.io.IOException;
import java.util.OptionalLong;
import java.util.concurrent.CompletionException;

import static org.assertj.core.api.Assertions.assertThat;

class Ec2FleetRetryPolicyTest {

  @Test
  void throttlingCapacityAndServerErrorsAreRetried() {
    assertThat(RetryPolicy.retryable(ec2("RequestLimitExceeded", 503))).isTrue();
    assertThat(RetryPolicy.retryable(ec2("RequestLimitExceeded", 400))).isTrue();
    assertThat(RetryPolicy.retryable(ec2("InsufficientInstanceCapacity", 500))).isTrue();
    assertThat(RetryPolicy.retryable(ec2("InsufficientInstanceCapacity", 400))).isTrue();
    assertThat(RetryPolicy.retryable(ec2("InternalError", 500))).isTrue();
    assertThat(RetryPolicy.retryable(ec2("Unavailable", 503))).isTrue();
    assertThat(RetryPolicy.retryable(ec2(null, 502))).isTrue();
    assertThat(RetryPolicy.retryable(ec2("Throttling", 429))).isTrue();
  }

  @Test
  void failuresToGetAnAnswerAreRetried() {
    assertThat(RetryPolicy.retryable(new CompletionException(SdkClientException.create("connection refused",
        new IOException("refused"))))).isTrue();
    assertThat(RetryPolicy.retryable(ApiCallAttemptTimeoutException.create(30_000))).isTrue();
  }

  @Test
  void whatARetryCannotFixIsNot() {
    assertThat(RetryPolicy.retryable(ec2("InvalidAMIID.NotFound", 400))).isFalse();
    assertThat(RetryPolicy.retryable(ec2("InvalidParameterValue", 400))).isFalse();
    assertThat(RetryPolicy.retryable(ec2("IdempotentParameterMismatch", 400))).isFalse();
    assertThat(RetryPolicy.retryable(ec2("InvalidInstanceID.NotFound", 400))).isFalse();
    assertThat(RetryPolicy.retryable(new IllegalStateException("client closed"))).isFalse();
  }

  @Test
  void theErrorCodeIsEc2sOrTheExceptionsClassName() {
    assertThat(RetryPolicy.errorCode(new CompletionException(ec2("RequestLimitExceeded", 503))))
        .isEqualTo("RequestLimitExceeded");
    assertThat(RetryPolicy.errorMessage(ec2("RequestLimitExceeded", 503))).isEqualTo("RequestLimitExceeded!");
    assertThat(RetryPolicy.errorCode(ec2(null, 500))).isEqualTo("Ec2Exception");
    assertThat(RetryPolicy.errorCode(ApiCallAttemptTimeoutException.create(30_000)))
        .isEqualTo("ApiCallAttemptTimeoutException");
  }

  @Test
  void delaysDoubleFromTheFirstUpToTheMaximumWithJitterBelowEachStep() {
    RetryPolicy lowest = new RetryPolicy(300_000, 1000, 30_000, () -> 0.0);
    RetryPolicy highest = new RetryPolicy(300_000, 1000, 30_000, () -> 0.999_999);
    assertThat(lowest.nextDelay(1, 0)).hasValue(1000);
    assertThat(highest.nextDelay(1, 0)).hasValue(1000);
    assertThat(lowest.nextDelay(2, 0)).hasValue(1000);
    assertThat(highest.nextDelay(2, 0)).hasValue(1999);
    assertThat(lowest.nextDelay(4, 0)).hasValue(4000);
    assertThat(highest.nextDelay(4, 0)).hasValue(7999);
    assertThat(lowest.nextDelay(6, 0)).hasValue(15_000);
    assertThat(highest.nextDelay(6, 0)).hasValue(29_999);
    assertThat(highest.nextDelay(60, 0)).hasValue(29_999);
  }

  @Test
  void noAttemptStartsAfterTheWindowCloses() {
    RetryPolicy policy = new RetryPolicy(10_000, 1000, 30_000, () -> 0.0);
    assertThat(policy.nextDelay(1, 9000)).hasValue(1000);
    assertThat(policy.nextDelay(1, 9001)).isEqualTo(OptionalLong.empty());
    assertThat(new RetryPolicy(0, 1000, 30_000, () -> 0.0).nextDelay(1, 0)).isEmpty();
  }

  private static Ec2Exception ec2(String code, int status) {
    return (Ec2Exception) Ec2Exception.builder().statusCode(status)
        .awsErrorDetails(AwsErrorDetails.builder().errorCode(code).errorMessage(code + "!").build()).build();
  }
}
