package dev.campaignnotifier.campaigns;

import dev.campaignnotifier.io.KafkaClients;
import dev.campaignnotifier.options.CampaignNotifierOptions;
import java.util.Map;
import org.apache.beam.sdk.io.kafka.KafkaIO;
import org.apache.beam.sdk.io.kafka.KafkaRecord;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.kafka.clients.consumer.ConsumerConfig;

/**
 * Reads raw campaign records, bytes and all, so that a message that is not even UTF-8 can still be
 * handed to the dead-letter topic unchanged, with its topic, partition and offset.
 */
public final class ReadCampaigns
    extends PTransform<PBegin, PCollection<KafkaRecord<byte[], byte[]>>> {
  private final String bootstrapServers;
  private final String topic;
  private final String consumerGroup;
  private final KafkaClients clients;

  public ReadCampaigns(
      String bootstrapServers, String topic, String consumerGroup, KafkaClients clients) {
    this.bootstrapServers = bootstrapServers;
    this.topic = topic;
    this.consumerGroup = consumerGroup;
    this.clients = clients;
  }

  public static ReadCampaigns from(CampaignNotifierOptions options, KafkaClients clients) {
    return new ReadCampaigns(
        options.getBootstrapServers(),
        options.getInputTopic(),
        options.getConsumerGroup(),
        clients);
  }

  @Override
  public PCollection<KafkaRecord<byte[], byte[]>> expand(PBegin input) {
    return input.apply(
        "ReadFromKafka",
        KafkaIO.readBytes()
            .withBootstrapServers(bootstrapServers)
            .withTopic(topic)
            .withConsumerConfigUpdates(
                Map.of(
                    ConsumerConfig.GROUP_ID_CONFIG,
                    consumerGroup,
                    // A group with no committed offset starts at the beginning: campaigns
                    // published before the first start are still delivered if still active.
                    ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                    "earliest",
                    ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                    false,
                    ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
                    5_000))
            .withConsumerFactoryFn(clients.consumerFactory())
            .commitOffsetsInFinalize());
  }
}
