package dev.campaignnotifier.it;

import dev.campaignnotifier.io.KafkaClients;
import dev.campaignnotifier.local.EmbeddedKafka;
import dev.campaignnotifier.local.EmbeddedPostgresServer;
import dev.campaignnotifier.options.CampaignNotifierOptions;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Assertions;

/**
 * A test's view of one service on real servers, wherever the service runs (this JVM, another
 * process, a cluster): its own topics and database, helpers to publish campaigns and to read both
 * sinks, and the options that point a service at them.
 */
public class ServiceClient implements AutoCloseable {
  public final CampaignNotifierOptions options;
  public final String database;
  private KafkaProducer<byte[], byte[]> producer;

  /** The client of the topics and database {@code options} name. */
  public ServiceClient(CampaignNotifierOptions options) {
    this.options = options;
    String url = options.getJdbcUrl();
    this.database = url.substring(url.lastIndexOf('/') + 1);
  }

  /**
   * The command-line options that point a service in another JVM ({@link ServiceProcess}) at the
   * same topics and servers as {@code options}, with {@code jdbcUrl} (a proxy, say) for PostgreSQL.
   */
  public static List<String> serviceArgs(CampaignNotifierOptions options, String jdbcUrl) {
    return List.of(
        "--bootstrapServers=" + options.getBootstrapServers(),
        "--inputTopic=" + options.getInputTopic(),
        "--outputTopic=" + options.getOutputTopic(),
        "--deadLetterTopic=" + options.getDeadLetterTopic(),
        "--consumerGroup=" + options.getConsumerGroup(),
        "--jdbcUrl=" + jdbcUrl,
        "--jdbcUser=" + options.getJdbcUser(),
        "--subscribersRefresh=1s",
        // No metrics endpoint: several services at once would want the same port.
        "--metricsPort=0");
  }

  /** Options for a fresh set of topics and a fresh database, not yet running. */
  public static CampaignNotifierOptions options(boolean sampleSubscribers, String... extraArgs) {
    return options(LocalServers.kafka(), sampleSubscribers, extraArgs);
  }

  public static CampaignNotifierOptions options(
      EmbeddedKafka kafka, boolean sampleSubscribers, String... extraArgs) {
    String suffix = LocalServers.unique("t");
    String database = "db_" + suffix;
    String url = LocalServers.postgres().createDatabase(database, sampleSubscribers);
    Map<String, String> args = new LinkedHashMap<>();
    args.put("runner", "DirectRunner");
    args.put("blockOnRun", "false");
    args.put("bootstrapServers", kafka.bootstrapServers());
    args.put("inputTopic", "in_" + suffix);
    args.put("outputTopic", "out_" + suffix);
    args.put("deadLetterTopic", "dlq_" + suffix);
    args.put("consumerGroup", "group_" + suffix);
    args.put("jdbcUrl", url);
    args.put("jdbcUser", EmbeddedPostgresServer.USER);
    args.put("subscribersRefresh", "1s");
    // The test's own topics exist; an override may name one that does not.
    kafka.createTopics(
        1, args.get("inputTopic"), args.get("outputTopic"), args.get("deadLetterTopic"));
    for (String extra : extraArgs) {
      String[] nameValue = extra.substring(2).split("=", 2);
      args.put(nameValue[0], nameValue[1]);
    }
    CampaignNotifierOptions options =
        PipelineOptionsFactory.fromArgs(
                args.entrySet().stream()
                    .map(e -> "--" + e.getKey() + "=" + e.getValue())
                    .toArray(String[]::new))
            .withValidation()
            .as(CampaignNotifierOptions.class);
    return options;
  }

  public void publish(String key, String value) {
    publish(
        key == null ? null : key.getBytes(StandardCharsets.UTF_8),
        value == null ? null : value.getBytes(StandardCharsets.UTF_8));
  }

  public void publish(String key, byte[] value) {
    publish(key == null ? null : key.getBytes(StandardCharsets.UTF_8), value);
  }

  /** Publishes one record and waits for the broker's acknowledgement. */
  public void publish(byte[] key, byte[] value) {
    publishAll(List.of(new ProducerRecord<>(options.getInputTopic(), key, value)));
  }

  /** Publishes records as fast as the producer goes, then waits for every acknowledgement. */
  public void publishAll(List<ProducerRecord<byte[], byte[]>> records) {
    if (producer == null) {
      producer =
          new KafkaProducer<>(
              clientConfig(
                  Map.of(
                      ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                      options.getBootstrapServers(),
                      ProducerConfig.ACKS_CONFIG,
                      "all")),
              new ByteArraySerializer(),
              new ByteArraySerializer());
    }
    try {
      List<java.util.concurrent.Future<?>> acks = new ArrayList<>();
      for (ProducerRecord<byte[], byte[]> r : records) {
        acks.add(producer.send(r));
      }
      for (java.util.concurrent.Future<?> ack : acks) {
        ack.get();
      }
    } catch (Exception e) {
      throw new AssertionError("cannot publish to " + options.getInputTopic(), e);
    }
  }

  /** The test's own clients use the service's properties file too (SASL on a secured broker). */
  private Map<String, Object> clientConfig(Map<String, Object> config) {
    return new KafkaClients(options.getKafkaPropertiesFile()).configure(config);
  }

  /** Every record on the topic so far, read from the beginning. */
  public List<ConsumerRecord<String, String>> readAll(String topic) {
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(
            clientConfig(
                Map.of(
                    ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                    options.getBootstrapServers(),
                    ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                    "read_committed")),
            new ByteArrayDeserializer(),
            new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = KafkaClients.partitions(consumer, topic);
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      List<ConsumerRecord<String, String>> records = new ArrayList<>();
      while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          records.add(
              new ConsumerRecord<>(
                  r.topic(),
                  r.partition(),
                  r.offset(),
                  r.key() == null ? null : new String(r.key(), StandardCharsets.UTF_8),
                  r.value() == null ? null : new String(r.value(), StandardCharsets.UTF_8)));
        }
      }
      return records;
    }
  }

  public List<ConsumerRecord<String, String>> notifications() {
    return readAll(options.getOutputTopic());
  }

  public List<ConsumerRecord<String, String>> deadLetters() {
    return readAll(options.getDeadLetterTopic());
  }

  public Connection db() throws SQLException {
    return LocalServers.postgres().connect(database);
  }

  public long count(String sql) {
    try (Connection c = db();
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery(sql)) {
      r.next();
      return r.getLong(1);
    } catch (SQLException e) {
      throw new AssertionError("query failed: " + sql, e);
    }
  }

  /**
   * A lunch rush's favourites: clients {@code client-1} to {@code client-<perCampaign>} on each of
   * the restaurants {@code rush-1} to {@code rush-<campaigns>}.
   */
  public void insertRushSubscribers(int campaigns, int perCampaign) {
    execute(
        "INSERT INTO public.subscribers_restaurants (client_id, restaurant_id)"
            + " SELECT 'client-' || g, 'rush-' || r FROM generate_series(1, "
            + campaigns
            + ") r, generate_series(1, "
            + perCampaign
            + ") g");
  }

  /**
   * A lunch rush's campaigns, to publish at once: {@code c1} to {@code c<campaigns>}, each on its
   * restaurant {@code rush-<i>} (and keyed by it), active from 10 s before {@code nowEpochSecond}
   * for an hour.
   */
  public List<ProducerRecord<byte[], byte[]>> rushCampaigns(int campaigns, long nowEpochSecond) {
    List<ProducerRecord<byte[], byte[]>> rush = new ArrayList<>();
    for (int i = 1; i <= campaigns; i++) {
      rush.add(
          new ProducerRecord<>(
              options.getInputTopic(),
              ("rush-" + i).getBytes(StandardCharsets.UTF_8),
              dev.campaignnotifier.Samples.campaignJson(
                      "c" + i, "rush-" + i, nowEpochSecond - 10, nowEpochSecond + 3600)
                  .getBytes(StandardCharsets.UTF_8)));
    }
    return rush;
  }

  /**
   * Campaigns of {@link #rushCampaigns} whose feedback rows are not exactly {@code perCampaign}.
   */
  public long rushCampaignsShort(int perCampaign) {
    return count(
        "SELECT count(*) FROM (SELECT adv_campaign_id FROM public.subscribers_feedback"
            + " WHERE adv_campaign_id ~ '^c[0-9]+$' GROUP BY adv_campaign_id HAVING count(*) <> "
            + perCampaign
            + ") short");
  }

  /**
   * The duplicate messages a stop in the middle of a rush may leave: at most the parcels that can
   * be in flight, {@code ADMITTED} per delivery instance, a handful of instances, each of up to
   * {@code --deliverySliceSize} notifications.
   */
  public static final long RUSH_PARCELS_IN_FLIGHT = 4L * 8 * 2_000;

  /** Adds clients {@code client-1} to {@code client-<count>} to a restaurant's subscribers. */
  public void insertSubscribers(String restaurant, int count) {
    execute(
        "INSERT INTO public.subscribers_restaurants (client_id, restaurant_id)"
            + " SELECT 'client-' || g, '"
            + restaurant
            + "' FROM generate_series(1, "
            + count
            + ") g");
  }

  /**
   * Prints what a scenario delivered and asserts {@code expected} rows, none twice, and {@code
   * expected} distinct messages; returns the duplicate messages (Kafka is at least once), for a
   * bound of the caller's own.
   */
  public long assertDeliveredOnce(String scenario, long expected) {
    Map<String, Integer> messages = notificationsByKey();
    long duplicates = messages.values().stream().mapToLong(n -> n - 1).sum();
    long rows = feedbackRows();
    long distinctRows =
        count(
            "SELECT count(*) FROM (SELECT DISTINCT adv_campaign_id, client_id"
                + " FROM public.subscribers_feedback) d");
    System.out.printf(
        "%s: rows expected %d / written %d / duplicated %d; messages expected %d / delivered %d"
            + " / duplicated %d%n",
        scenario, expected, rows, rows - distinctRows, expected, messages.size(), duplicates);
    Assertions.assertEquals(expected, rows, scenario + ": rows");
    Assertions.assertEquals(rows, distinctRows, scenario + ": duplicated rows");
    Assertions.assertEquals(expected, messages.size(), scenario + ": distinct messages");
    return duplicates;
  }

  public long feedbackRows() {
    return count("SELECT count(*) FROM public.subscribers_feedback");
  }

  /** Feedback rows of one campaign. */
  public long rowsOf(String campaign) {
    return count(
        "SELECT count(*) FROM public.subscribers_feedback WHERE adv_campaign_id = '"
            + campaign
            + "'");
  }

  /** Every message on the output topic: key -> how many times it was delivered. */
  public Map<String, Integer> notificationsByKey() {
    Map<String, Integer> seen = new LinkedHashMap<>();
    for (ConsumerRecord<String, String> r : notifications()) {
      seen.merge(r.key(), 1, Integer::sum);
    }
    return seen;
  }

  public void execute(String sql) {
    try (Connection c = db();
        Statement s = c.createStatement()) {
      s.execute(sql);
    } catch (SQLException e) {
      throw new AssertionError("statement failed: " + sql, e);
    }
  }

  @Override
  public void close() {
    if (producer != null) {
      producer.close();
    }
  }
}
