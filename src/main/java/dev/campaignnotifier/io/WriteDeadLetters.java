package dev.campaignnotifier.io;

import dev.campaignnotifier.model.DeadLetter;
import dev.campaignnotifier.model.NotificationJson;
import java.util.Map;
import org.apache.beam.sdk.coders.ByteArrayCoder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.NullableCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.io.kafka.KafkaIO;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PDone;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes each dead letter under its original key, so a dead-letter topic partitions like the
 * input and a replay tool can put a fixed message back where it came from. Every one is also logged
 * once, with its reason and position but not its content (it may hold personal data).
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
    return deadLetters
        .apply("ToDeadLetterJson", ParDo.of(new ToJsonFn()))
        .setCoder(KvCoder.of(NullableCoder.of(ByteArrayCoder.of()), StringUtf8Coder.of()))
        .apply(
            "WriteToKafka",
            KafkaIO.<byte[], String>write()
                .withBootstrapServers(bootstrapServers)
                .withTopic(topic)
                .withKeySerializer(ByteArraySerializer.class)
                .withValueSerializer(StringSerializer.class)
                .withProducerConfigUpdates(
                    Map.of(
                        ProducerConfig.ACKS_CONFIG,
                        "all",
                        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
                        true))
                .withProducerFactoryFn(clients.producerFactory()));
  }

  static final class ToJsonFn extends DoFn<DeadLetter, KV<byte[], String>> {
    private static final Logger LOG = LoggerFactory.getLogger(WriteDeadLetters.class);

    @ProcessElement
    public void process(@Element DeadLetter d, OutputReceiver<KV<byte[], String>> out) {
      LOG.warn(
          "Dead letter {} from {}-{}@{}: {}",
          d.reason(),
          d.topic(),
          d.partition(),
          d.offset(),
          d.message());
      Metrics.counter("deadLetters", d.reason().name()).inc();
      out.output(KV.of(d.key(), NotificationJson.toJson(d, System.currentTimeMillis())));
    }
  }
}
