package dev.campaignnotifier.io;

import dev.campaignnotifier.model.Notification;
import dev.campaignnotifier.model.NotificationJson;
import java.util.Map;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.io.kafka.KafkaIO;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PDone;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Publishes each notification as the JSON of {@code CONTRACT.md}, keyed {@code
 * <adv_campaign_id>:<client_id>}. The producer keeps {@code acks=all} with idempotence, so a broker
 * failover neither loses nor reorders a message; only a pipeline retry can duplicate one, and then
 * with the same key.
 */
public final class WriteNotificationsToKafka extends PTransform<PCollection<Notification>, PDone> {
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
  private final KafkaClients clients;

  public WriteNotificationsToKafka(String bootstrapServers, String topic, KafkaClients clients) {
    this.bootstrapServers = bootstrapServers;
    this.topic = topic;
    this.clients = clients;
  }

  @Override
  public PDone expand(PCollection<Notification> notifications) {
    return notifications
        .apply("ToKeyedJson", ParDo.of(new ToKeyedJsonFn()))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), StringUtf8Coder.of()))
        .apply(
            "WriteToKafka",
            KafkaIO.<String, String>write()
                .withBootstrapServers(bootstrapServers)
                .withTopic(topic)
                .withKeySerializer(StringSerializer.class)
                .withValueSerializer(StringSerializer.class)
                .withProducerConfigUpdates(PRODUCER_CONFIG)
                .withProducerFactoryFn(clients.producerFactory()));
  }

  static final class ToKeyedJsonFn extends DoFn<Notification, KV<String, String>> {
    private final Counter toKafka = Metrics.counter("sinks", "notificationsToKafka");

    @ProcessElement
    public void process(@Element Notification n, OutputReceiver<KV<String, String>> out) {
      out.output(KV.of(n.key(), NotificationJson.toJson(n)));
      toKafka.inc();
    }
  }
}
