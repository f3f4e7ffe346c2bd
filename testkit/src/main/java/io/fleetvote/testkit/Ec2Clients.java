package io.fleetvote.testkit;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.ec2.Ec2Client;

import java.net.URI;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * AWS SDK v2 EC2 clients pointed at a sandbox: the endpoint overridden, fixed credentials (the sandbox accepts
 * any on loopback) and region, so the SDK never looks for AWS credentials or instance metadata.
 */
public final class Ec2Clients {

  private Ec2Clients() {
  }

  public static Ec2Client sync(URI endpoint) {
    return sync(endpoint, o -> {
    });
  }

  /** A synchronous client; {@code overrides} may change retries and timeouts. */
  public static Ec2Client sync(URI endpoint, Consumer<ClientOverrideConfiguration.Builder> overrides) {
    return Ec2Client.builder()
        .endpointOverride(endpoint)
        .region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("sandbox", "sandbox")))
        .httpClient(UrlConnectionHttpClient.builder().connectionTimeout(Duration.ofSeconds(2))
            .socketTimeout(Duration.ofSeconds(30)).build())
        .overrideConfiguration(overrides)
        .build();
  }
}
