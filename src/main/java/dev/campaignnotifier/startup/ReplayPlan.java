package dev.campaignnotifier.startup;

import dev.campaignnotifier.io.KafkaClients;
import dev.campaignnotifier.model.CampaignParser;
import dev.campaignnotifier.options.CampaignNotifierOptions;
import dev.campaignnotifier.options.Durations;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides where reading resumes, before the pipeline starts, so that a crash loses nothing.
 *
 * <p>The reader's committed offset says how far reading got, not what was delivered: a campaign
 * read just before a crash, or held for a later start, may be behind it and undelivered. So on
 * start each partition is scanned from {@code --replayWindow} ago up to the committed offset, and
 * the group is moved back to the oldest campaign there that has not ended. Replaying it is safe:
 * the fan-out skips every client that already has a feedback row, and a row is only written after
 * its message was acknowledged. Records before the committed offset that are not campaigns are not
 * dead-lettered a second time.
 */
public final class ReplayPlan {
  private static final Logger LOG = LoggerFactory.getLogger(ReplayPlan.class);
  private static final Duration POLL = Duration.ofMillis(500);

  private ReplayPlan() {}

  /**
   * Moves the consumer group back where needed.
   *
   * @return per partition of the input topic, the offset reading had reached before this start
   *     (records below it were read by an earlier run)
   */
  public static Map<Integer, Long> prepare(CampaignNotifierOptions options, long nowMillis) {
    KafkaClients clients = new KafkaClients(options.getKafkaPropertiesFile());
    String topic = options.getInputTopic();
    String group = options.getConsumerGroup();
    long windowStart =
        nowMillis - Durations.parse("replayWindow", options.getReplayWindow()).getMillis();
    CampaignParser parser =
        new CampaignParser(options.getMaxMessageBytes(), options.getMaxFieldChars());
    Map<String, Object> config = new HashMap<>();
    config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, options.getBootstrapServers());
    config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    Map<String, Object> adminConfig =
        clients.configure(
            Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, options.getBootstrapServers()));
    try (Admin admin = Admin.create(adminConfig);
        KafkaConsumer<byte[], byte[]> consumer =
            new KafkaConsumer<>(
                clients.configure(config),
                new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
      List<TopicPartition> partitions =
          consumer.partitionsFor(topic).stream()
              .map(p -> new TopicPartition(topic, p.partition()))
              .collect(Collectors.toList());
      Map<TopicPartition, OffsetAndMetadata> committed =
          admin
              .listConsumerGroupOffsets(group)
              .partitionsToOffsetAndMetadata()
              .get(30, TimeUnit.SECONDS);
      Map<TopicPartition, Long> beginning = consumer.beginningOffsets(partitions);
      Map<TopicPartition, OffsetAndTimestamp> fromWindow =
          consumer.offsetsForTimes(
              partitions.stream().collect(Collectors.toMap(tp -> tp, tp -> windowStart)));

      Map<Integer, Long> resumed = new HashMap<>();
      Map<TopicPartition, OffsetAndMetadata> rewind = new HashMap<>();
      for (TopicPartition tp : partitions) {
        OffsetAndMetadata done = committed.get(tp);
        if (done == null) {
          continue; // a new group reads the partition from its beginning anyway
        }
        long resume = done.offset();
        resumed.put(tp.partition(), resume);
        OffsetAndTimestamp window = fromWindow.get(tp);
        long scanFrom = Math.max(beginning.get(tp), window == null ? resume : window.offset());
        Long oldestOpen = oldestOpenCampaign(consumer, tp, scanFrom, resume, parser, nowMillis);
        if (oldestOpen != null) {
          rewind.put(tp, new OffsetAndMetadata(oldestOpen));
          LOG.info(
              "Replaying {}-{} from offset {} (committed {}): a campaign there has not ended,"
                  + " and may not have been delivered in full",
              topic,
              tp.partition(),
              oldestOpen,
              resume);
        }
      }
      if (!rewind.isEmpty()) {
        admin.alterConsumerGroupOffsets(group, rewind).all().get(30, TimeUnit.SECONDS);
      }
      return resumed;
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      throw new StartupException(
          "Cannot prepare consumer group '"
              + group
              + "' on "
              + topic
              + " (is another instance running with the same --consumerGroup?): "
              + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StartupException("Interrupted while preparing the consumer group");
    }
  }

  /** The first offset in [from, to) holding a valid campaign whose end has not passed. */
  private static Long oldestOpenCampaign(
      KafkaConsumer<byte[], byte[]> consumer,
      TopicPartition tp,
      long from,
      long to,
      CampaignParser parser,
      long nowMillis) {
    if (from >= to) {
      return null;
    }
    consumer.assign(List.of(tp));
    consumer.seek(tp, from);
    long nowSecond = nowMillis / 1000;
    while (consumer.position(tp) < to) {
      for (ConsumerRecord<byte[], byte[]> record : consumer.poll(POLL)) {
        if (record.offset() >= to) {
          return null;
        }
        CampaignParser.Result result = parser.parse(record.value());
        if (result.isValid() && !result.campaign().hasEndedBy(nowSecond)) {
          return record.offset();
        }
      }
    }
    return null;
  }
}
