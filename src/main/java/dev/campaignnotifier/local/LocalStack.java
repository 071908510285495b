package dev.campaignnotifier.local;

import dev.campaignnotifier.options.CampaignNotifierOptions;
import dev.campaignnotifier.startup.StartupException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts whatever the options leave out: a broker when there is no {@code --bootstrapServers}, a
 * database when there is no {@code --jdbcUrl}, each on the brief's well-known port when it is free.
 * It fills the options in, so the pipeline cannot tell an embedded server from a real one.
 */
public final class LocalStack implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(LocalStack.class);

  private final EmbeddedKafka kafka;
  private final EmbeddedPostgresServer postgres;
  private final Path dir;

  private LocalStack(EmbeddedKafka kafka, EmbeddedPostgresServer postgres, Path dir) {
    this.kafka = kafka;
    this.postgres = postgres;
    this.dir = dir;
  }

  public static boolean isNeeded(CampaignNotifierOptions options) {
    return options.getBootstrapServers() == null || options.getJdbcUrl() == null;
  }

  public static LocalStack startFor(CampaignNotifierOptions options) {
    if (!isBundled()) {
      // The cluster bundles (-Pspark-runner, -Pflink-runner) leave the embedded servers out.
      throw new StartupException(
          "this build has no embedded Kafka or PostgreSQL: give --bootstrapServers and --jdbcUrl");
    }
    Path dir;
    try {
      dir = Files.createTempDirectory("campaign-notifier-");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a directory for the embedded servers", e);
    }
    EmbeddedKafka kafka = null;
    EmbeddedPostgresServer postgres = null;
    if (options.getBootstrapServers() == null) {
      LOG.info("No --bootstrapServers: starting an embedded Kafka broker");
      kafka = EmbeddedKafka.start(dir.resolve("kafka"), preferred(9092));
      kafka.createTopics(
          1, options.getInputTopic(), options.getOutputTopic(), options.getDeadLetterTopic());
      options.setBootstrapServers(kafka.bootstrapServers());
    }
    if (options.getJdbcUrl() == null) {
      LOG.info("No --jdbcUrl: starting an embedded PostgreSQL");
      postgres = EmbeddedPostgresServer.start(preferred(5432));
      options.setJdbcUrl(postgres.createDatabase(EmbeddedPostgresServer.DATABASE, true));
      options.setJdbcUser(EmbeddedPostgresServer.USER);
    }
    return new LocalStack(kafka, postgres, dir);
  }

  private static boolean isBundled() {
    try {
      Class.forName("kafka.server.KafkaRaftServer", false, LocalStack.class.getClassLoader());
      Class.forName(
          "io.zonky.test.db.postgres.embedded.EmbeddedPostgres",
          false,
          LocalStack.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException e) {
      return false;
    }
  }

  private static int preferred(int port) {
    return Ports.isFree(port) ? port : 0;
  }

  /** The commands a user pastes to try the service: publish the brief's sample, read results. */
  public String quickStartText(CampaignNotifierOptions options, Instant now) {
    String broker = options.getBootstrapServers();
    long start = now.getEpochSecond() - 60;
    long end = now.getEpochSecond() + 3600;
    String sample =
        SampleCampaign.json(
            SampleCampaign.CAMPAIGN_ID, SampleCampaign.RESTAURANT, start, end, start);
    StringBuilder text = new StringBuilder();
    text.append("\n==== campaign-notifier is starting on embedded servers ====\n");
    if (kafka != null) {
      text.append("Kafka:      ").append(broker).append('\n');
    }
    if (postgres != null) {
      text.append("PostgreSQL: ").append(options.getJdbcUrl()).append(" (user jovyan)\n");
    }
    text.append("\nPublish the brief's sample campaign (active from a minute ago for an hour):\n")
        .append("  echo 'key:")
        .append(sample)
        .append("' | kcat -b ")
        .append(broker)
        .append(" -t ")
        .append(options.getInputTopic())
        .append(" -K: -P\n")
        .append("\nRead the notifications (9 for the sample):\n")
        .append("  kcat -b ")
        .append(broker)
        .append(" -t ")
        .append(options.getOutputTopic())
        .append(" -C -K: -e\n");
    if (postgres != null) {
      text.append("\nSee the feedback rows:\n")
          .append("  psql -h localhost -p ")
          .append(postgres.port())
          .append(" -U jovyan -d de -c 'select * from subscribers_feedback'\n");
    }
    text.append("\nDead letters: kcat -b ")
        .append(broker)
        .append(" -t ")
        .append(options.getDeadLetterTopic())
        .append(" -C -e\n")
        .append("Stop with Ctrl-C; the embedded servers and their data go with it.\n");
    return text.toString();
  }

  @Override
  public void close() {
    if (kafka != null) {
      kafka.close();
    }
    if (postgres != null) {
      postgres.close();
    }
    deleteQuietly(dir);
  }

  private static void deleteQuietly(Path dir) {
    try (var paths = Files.walk(dir)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      LOG.warn("Could not delete {}: {}", dir, e.toString());
    }
  }
}
