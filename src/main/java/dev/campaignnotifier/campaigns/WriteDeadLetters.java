package dev.campaignnotifier.campaigns;

import dev.campaignnotifier.io.KafkaClients;
import dev.campaignnotifier.io.Retry;
import dev.campaignnotifier.model.DeadLetter;
import dev.campaignnotifier.model.NotificationJson;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PDone;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes each dead letter under its original key, so a dead-letter topic partitions like the
 * input and a replay tool can put a fixed message back where it came from. Every one is also logged
 * once, with its reason and position but not its content (it may hold personal data).
 *
 * <p>Not KafkaIO.write: its writer fails the bundle when the producer gives up on a record, so a
 * broker outage longer than {@code delivery.timeout.ms} with a bad message in it ended the service
 * on the DirectRunner. Here a bundle's dead letters are acknowledged before it completes, and what
 * an outage left unacknowledged is sent again until it is ({@link Retry#kafka}), as the
 * notifications are.
 */
public final class WriteDeadLetters extends PTransform<PCollection<DeadLetter>, PDone> {
  private final String bootstrapServers;
  private final String topic;
  private final KafkaClients clients;

  public WriteDeadLetters(String bootstrapServers, String topic, KafkaClients clients) {
    this.bootstrapServers = bootstrapServers;
    this.topic = topic;
    this.clients = clients;
  }

  @Override
  public PDone expand(PCollection<DeadLetter> deadLetters) {
    deadLetters.apply("WriteToKafka", ParDo.of(new WriteFn(bootstrapServers, topic, clients)));
    return PDone.in(deadLetters.getPipeline());
  }

  static final class WriteFn extends DoFn<DeadLetter, Void> {
    private static final Logger LOG = LoggerFactory.getLogger(WriteDeadLetters.class);

    private final String bootstrapServers;
    private final String topic;
    private final KafkaClients clients;
    private transient Producer<byte[], String> producer;
    private transient List<ProducerRecord<byte[], String>> bundle;
    private transient List<DeadLetter> letters;
    private transient long retries;

    WriteFn(String bootstrapServers, String topic, KafkaClients clients) {
      this.bootstrapServers = bootstrapServers;
      this.topic = topic;
      this.clients = clients;
    }

    @Setup
    public void setup() {
      producer = clients.acknowledgedProducer(bootstrapServers, ByteArraySerializer.class);
    }

    @StartBundle
    public void startBundle() {
      bundle = new ArrayList<>();
      letters = new ArrayList<>();
    }

    @ProcessElement
    public void process(@Element DeadLetter d) {
      LOG.warn(
          "Dead letter {} from {}-{}@{}: {}",
          d.reason(),
          d.topic(),
          d.partition(),
          d.offset(),
          d.message());
      Metrics.counter("deadLetters", d.reason().name()).inc();
      letters.add(d);
      bundle.add(
          new ProducerRecord<>(
              topic, d.key(), NotificationJson.toJson(d, System.currentTimeMillis())));
    }

    /** The bundle completes (and its input offsets may be committed) once its letters are acked. */
    @FinishBundle
    public void finishBundle() throws InterruptedException {
      if (bundle.isEmpty()) {
        return;
      }
      retries = 0;
      Map<Integer, Exception> refused =
          Retry.kafkaUnlessRefused(
              bundle.size() + " dead letters", LOG, () -> retries++, producer, bundle);
      if (!refused.isEmpty()) {
        sendWithoutBytes(refused);
      }
      Metrics.counter("sinks", "kafkaRetries").inc(retries);
      bundle = new ArrayList<>();
      letters = new ArrayList<>();
    }

    /**
     * The letters the dead-letter topic refused for good, again without the original bytes: a value
     * near the broker's limit is longer still in a letter (base64 if it is not UTF-8), and the
     * letter must not stop the service. Refused even so, the topic cannot be written to at all,
     * which is the setup's fault, not the input's: thrown.
     */
    private void sendWithoutBytes(Map<Integer, Exception> refused) throws InterruptedException {
      List<ProducerRecord<byte[], String>> shorter = new ArrayList<>(refused.size());
      refused.forEach(
          (index, error) -> {
            DeadLetter d = letters.get(index);
            LOG.warn(
                "Dead letter {} from {}-{}@{} refused by {} ({}); sent again without its key and"
                    + " value",
                d.reason(),
                d.topic(),
                d.partition(),
                d.offset(),
                topic,
                error.getMessage());
            shorter.add(
                new ProducerRecord<>(
                    topic, null, NotificationJson.toJson(d, false, System.currentTimeMillis())));
          });
      Retry.kafka(
          shorter.size() + " shortened dead letters", LOG, () -> retries++, producer, shorter);
    }

    @Teardown
    public void teardown() {
      if (producer != null) {
        producer.close();
      }
    }
  }
}
