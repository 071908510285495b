package dev.campaignnotifier.campaigns;

import dev.campaignnotifier.io.KafkaClients;
import dev.campaignnotifier.io.Retry;
import dev.campaignnotifier.model.Campaign;
import dev.campaignnotifier.model.NotificationJson;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PDone;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes the newest version of each active campaign published again ({@code
 * --campaignUpdatesTopic}), keyed by its id, in the input topic's format: notifications already
 * published carry the old end and text, and a push service that queues them can drop those of a
 * campaign whose newest end has passed. A bundle completes once its versions are acknowledged, as
 * the dead letters ({@link Retry#kafka}).
 */
public final class PublishCampaignUpdates extends PTransform<PCollection<Campaign>, PDone> {
  private final String bootstrapServers;
  private final String topic;
  private final KafkaClients clients;

  public PublishCampaignUpdates(String bootstrapServers, String topic, KafkaClients clients) {
    this.bootstrapServers = bootstrapServers;
    this.topic = topic;
    this.clients = clients;
  }

  @Override
  public PDone expand(PCollection<Campaign> versions) {
    versions.apply("WriteToKafka", ParDo.of(new PublishFn(bootstrapServers, topic, clients)));
    return PDone.in(versions.getPipeline());
  }

  static final class PublishFn extends DoFn<Campaign, Void> {
    private static final Logger LOG = LoggerFactory.getLogger(PublishCampaignUpdates.class);

    private final String bootstrapServers;
    private final String topic;
    private final KafkaClients clients;
    private transient Producer<String, String> producer;
    private transient List<ProducerRecord<String, String>> bundle;
    private transient long retries;

    PublishFn(String bootstrapServers, String topic, KafkaClients clients) {
      this.bootstrapServers = bootstrapServers;
      this.topic = topic;
      this.clients = clients;
    }

    @Setup
    public void setup() {
      producer = clients.acknowledgedProducer(bootstrapServers, StringSerializer.class);
    }

    @StartBundle
    public void startBundle() {
      bundle = new ArrayList<>();
    }

    @ProcessElement
    public void process(@Element Campaign newest) {
      bundle.add(
          new ProducerRecord<>(
              topic, newest.advCampaignId(), NotificationJson.campaignJson(newest)));
    }

    @FinishBundle
    public void finishBundle() throws InterruptedException {
      if (bundle.isEmpty()) {
        return;
      }
      retries = 0;
      Retry.kafka(bundle.size() + " campaign updates", LOG, () -> retries++, producer, bundle);
      Metrics.counter("sinks", "kafkaRetries").inc(retries);
      bundle = new ArrayList<>();
    }

    @Teardown
    public void teardown() {
      if (producer != null) {
        producer.close();
      }
    }
  }
}
