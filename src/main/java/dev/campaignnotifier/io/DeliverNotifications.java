package dev.campaignnotifier.io;

import dev.campaignnotifier.model.Notification;
import dev.campaignnotifier.model.NotificationJson;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import javax.sql.DataSource;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PDone;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes each notification to both sinks, in an order that makes PostgreSQL the record of what was
 * delivered: a batch is published to Kafka and acknowledged by the broker ({@code acks=all},
 * idempotent producer) before its rows are inserted. So a row implies its message, and after a
 * crash the fan-out can skip exactly the clients that have a row ({@link FeedbackTable#
 * deliveredClients}) while re-sending the rest: no notification is lost, and the only duplicate
 * messages are those of the one batch that was on its way when the process died.
 *
 * <p>Why not KafkaIO.write and JdbcIO.write side by side: two independent sinks cannot give that
 * order (a row could exist for a message that was never sent), KafkaIO.write says nothing about
 * when a message is acknowledged, and JdbcIO.write on an unbounded input funnels every row through
 * one key with {@code GroupIntoBatches}, which the Spark runner refuses. This step uses Kafka's
 * producer and JdbcIO's pooled data source, batches per bundle (rows are written before the bundle
 * commits), needs no state or timers, and so runs the same on every runner.
 */
public final class DeliverNotifications extends PTransform<PCollection<Notification>, PDone> {
  static final Map<String, Object> PRODUCER_CONFIG =
      Map.of(
          ProducerConfig.ACKS_CONFIG,
          "all",
          ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
          true,
          ProducerConfig.LINGER_MS_CONFIG,
          5,
          ProducerConfig.BATCH_SIZE_CONFIG,
          256 * 1024,
          ProducerConfig.COMPRESSION_TYPE_CONFIG,
          "lz4");

  private final String bootstrapServers;
  private final String topic;
  private final KafkaClients kafka;
  private final SerializableFunction<Void, DataSource> postgres;
  private final int batchSize;

  /** The producer settings the service publishes with (the benchmark's floor uses them too). */
  public static Map<String, Object> producerConfig() {
    return PRODUCER_CONFIG;
  }

  public DeliverNotifications(
      String bootstrapServers,
      String topic,
      KafkaClients kafka,
      SerializableFunction<Void, DataSource> postgres,
      int batchSize) {
    this.bootstrapServers = bootstrapServers;
    this.topic = topic;
    this.kafka = kafka;
    this.postgres = postgres;
    this.batchSize = batchSize;
  }

  @Override
  public PDone expand(PCollection<Notification> notifications) {
    notifications.apply(
        "PublishThenRecord",
        ParDo.of(new DeliverFn(bootstrapServers, topic, kafka, postgres, batchSize)));
    return PDone.in(notifications.getPipeline());
  }

  static final class DeliverFn extends DoFn<Notification, Void> {
    private static final Logger LOG = LoggerFactory.getLogger(DeliverNotifications.class);

    private final String bootstrapServers;
    private final String topic;
    private final KafkaClients kafka;
    private final SerializableFunction<Void, DataSource> postgres;
    private final int batchSize;
    private final Counter toKafka = Metrics.counter("sinks", "notificationsToKafka");
    private final Counter toPostgres = Metrics.counter("sinks", "feedbackRowsToPostgres");
    private final Counter retries = Metrics.counter("sinks", "postgresRetries");
    private transient Producer<String, String> producer;
    private transient List<Notification> batch;

    DeliverFn(
        String bootstrapServers,
        String topic,
        KafkaClients kafka,
        SerializableFunction<Void, DataSource> postgres,
        int batchSize) {
      this.bootstrapServers = bootstrapServers;
      this.topic = topic;
      this.kafka = kafka;
      this.postgres = postgres;
      this.batchSize = batchSize;
    }

    @Setup
    public void setup() {
      Map<String, Object> config = new HashMap<>(PRODUCER_CONFIG);
      config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
      config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
      config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
      producer = kafka.<String, String>producerFactory().apply(config);
    }

    @StartBundle
    public void startBundle() {
      batch = new ArrayList<>(batchSize);
    }

    @ProcessElement
    public void process(@Element Notification n) throws Exception {
      batch.add(n);
      if (batch.size() >= batchSize) {
        flush();
      }
    }

    @FinishBundle
    public void finishBundle() throws Exception {
      flush();
    }

    private void flush() throws InterruptedException, ExecutionException {
      if (batch.isEmpty()) {
        return;
      }
      List<Future<RecordMetadata>> sent = new ArrayList<>(batch.size());
      for (Notification n : batch) {
        sent.add(producer.send(new ProducerRecord<>(topic, n.key(), NotificationJson.toJson(n))));
      }
      producer.flush();
      for (Future<RecordMetadata> ack : sent) {
        ack.get(); // throws if the broker refused it: the bundle fails and is retried whole
      }
      toKafka.inc(batch.size());
      Retry.sql(
          "write " + batch.size() + " feedback rows",
          LOG,
          retries,
          () -> {
            FeedbackTable.insert(postgres.apply(null), batch);
            return null;
          });
      toPostgres.inc(batch.size());
      batch.clear();
    }

    @Teardown
    public void teardown() {
      if (producer != null) {
        producer.close();
      }
    }
  }
}
