package dev.campaignnotifier.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import dev.campaignnotifier.CampaignNotifier;
import dev.campaignnotifier.Samples;
import dev.campaignnotifier.local.EmbeddedKafka;
import dev.campaignnotifier.model.Clock;
import dev.campaignnotifier.options.CampaignNotifierOptions;
import dev.campaignnotifier.startup.Preflight;
import dev.campaignnotifier.startup.ServiceConfig;
import dev.campaignnotifier.startup.StartupException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.util.construction.PipelineTranslation;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The brief's managed-cluster setup, SASL_SSL with SCRAM-SHA-512 and a CA certificate, against a
 * real broker that requires it; and the credentials never leak.
 */
class SecuredKafkaIT {
  private static final String USER = "de-notifier";
  private static final String KAFKA_PASSWORD = "kafka-" + UUID.randomUUID();
  private static final String JDBC_PASSWORD = "jdbc-" + UUID.randomUUID();
  private static EmbeddedKafka broker;
  private static Path dir;

  @BeforeAll
  static void startSecuredBroker() throws Exception {
    dir = Files.createTempDirectory("secured-kafka");
    broker = SecuredBroker.start(dir.resolve("broker"), USER, KAFKA_PASSWORD);
  }

  @AfterAll
  static void stopBroker() {
    broker.close();
  }

  private static Path clientProperties(String password) throws Exception {
    Path file = Files.createTempFile(dir, "kafka-client", ".properties");
    Files.writeString(
        file,
        "security.protocol=SASL_SSL\n"
            + "sasl.mechanism=SCRAM-SHA-512\n"
            + "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required"
            + " username=\""
            + USER
            + "\" password=\""
            + password
            + "\";\n"
            + "ssl.truststore.type=PEM\n"
            + "ssl.truststore.location="
            + SecuredBroker.caCertificate(dir.resolve("broker"))
            + "\n");
    return file;
  }

  @Test
  void sampleRoundTripsOverSaslSslAndNoPasswordIsLoggedPrintedOrSerialized() throws Exception {
    Path properties = clientProperties(KAFKA_PASSWORD);
    Path jdbcPasswordFile = Files.createTempFile(dir, "jdbc", ".password");
    Files.writeString(jdbcPasswordFile, JDBC_PASSWORD + "\n");

    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    Logger kafkaLogger = (Logger) LoggerFactory.getLogger("org.apache.kafka");
    Level kafkaLevel = kafkaLogger.getLevel();
    ListAppender<ILoggingEvent> log = new ListAppender<>();
    log.start();
    root.addAppender(log);
    kafkaLogger.setLevel(Level.INFO); // Kafka prints every client's config at INFO
    try (RunningPipeline service =
        RunningPipeline.start(
            broker,
            true,
            "--kafkaPropertiesFile=" + properties,
            "--jdbcPasswordFile=" + jdbcPasswordFile)) {
      long now = Instant.now().getEpochSecond();
      service.publish(
          "key", Samples.campaignJson(Samples.CAMPAIGN_ID, Samples.RESTAURANT, now - 60, now + 60));
      Await.until("9 rows", Duration.ofSeconds(90), () -> service.feedbackRows() >= 9);
      Await.until(
          "9 messages over SASL_SSL",
          Duration.ofSeconds(90),
          () -> service.notifications().size() >= 9);
      assertEquals(9, service.notifications().size());

      String options = service.options.toString();
      assertFalse(options.contains(KAFKA_PASSWORD), "Kafka password in the printed options");
      assertFalse(options.contains(JDBC_PASSWORD), "JDBC password in the printed options");

      Pipeline pipeline = Pipeline.create(service.options);
      CampaignNotifier.buildPipeline(pipeline, service.options, Clock.system());
      String graph =
          new String(
              PipelineTranslation.toProto(pipeline).toByteArray(), StandardCharsets.ISO_8859_1);
      assertFalse(graph.contains(KAFKA_PASSWORD), "Kafka password in the serialized pipeline");
      assertFalse(graph.contains(JDBC_PASSWORD), "JDBC password in the serialized pipeline");
    } finally {
      root.detachAppender(log);
      kafkaLogger.setLevel(kafkaLevel);
    }
    assertTrue(log.list.size() > 10, "the log was captured: " + log.list.size() + " events");
    for (ILoggingEvent event : log.list) {
      String text = event.getFormattedMessage() + throwableText(event.getThrowableProxy());
      assertFalse(text.contains(KAFKA_PASSWORD), () -> "Kafka password logged: " + text);
      assertFalse(text.contains(JDBC_PASSWORD), () -> "JDBC password logged: " + text);
    }
  }

  @Test
  void wrongKafkaPasswordFailsAtStartupNamingTheOption() throws Exception {
    String wrong = "wrong-" + UUID.randomUUID();
    CampaignNotifierOptions options =
        ServiceClient.options(broker, false, "--kafkaPropertiesFile=" + clientProperties(wrong));
    StartupException e =
        assertThrows(StartupException.class, () -> Preflight.check(ServiceConfig.resolve(options)));
    assertTrue(e.getMessage().contains("--kafkaPropertiesFile"), e.getMessage());
    assertTrue(e.getMessage().contains("Authentication failed"), e.getMessage());
    assertFalse(e.getMessage().contains(wrong), e.getMessage());
  }

  private static String throwableText(IThrowableProxy t) {
    StringBuilder text = new StringBuilder();
    for (IThrowableProxy p = t; p != null; p = p.getCause()) {
      text.append(' ').append(p.getClassName()).append(": ").append(p.getMessage());
    }
    return text.toString();
  }
}
