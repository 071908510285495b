package dev.campaignnotifier.startup;

import dev.campaignnotifier.delivery.DeliveryLedger;
import dev.campaignnotifier.io.KafkaClients;
import dev.campaignnotifier.io.PostgresDataSource;
import dev.campaignnotifier.io.Retry;
import dev.campaignnotifier.model.Campaign;
import dev.campaignnotifier.model.CampaignParser;
import dev.campaignnotifier.options.CampaignNotifierOptions;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
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
 * the group is moved back to the oldest campaign there that has not ended and that the delivery
 * ledger does not show delivered in full (one query for all of them), so a restart re-reads what is
 * left, not what was done. The active campaigns it finds delivered in full are handed to the
 * pipeline instead ({@link Resume#activeDeliveredInFull}), for late subscribers: re-reading them
 * from Kafka was slow on the DirectRunner (docs/performance.md, restart). Replaying it is safe: the
 * fan-out skips every client that already has a feedback row, and a row is only written after its
 * message was acknowledged. Records before the committed offset that are not campaigns are not
 * dead-lettered a second time. A campaign published again counts as its newest version: one
 * cancelled or ended early is not replayed.
 */
public final class ReplayPlan {
  private static final Logger LOG = LoggerFactory.getLogger(ReplayPlan.class);
  private static final Duration POLL = Duration.ofMillis(500);

  /**
   * Where this start resumes from an earlier run's work.
   *
   * @param readBefore per input partition, the offset the earlier run had read up to (a bad record
   *     below it was dead-lettered then)
   * @param deliveredInFull the campaigns in the replay window the delivery ledger showed delivered
   *     in full at this start: a replayed one is skipped at its fan-out without asking again
   * @param activeDeliveredInFull those of them still active: not read again (the group is moved
   *     back only to what is left to deliver) but handed to the pipeline, so that late subscribers
   *     still reach them after a restart that lost the pipeline's state
   */
  public record Resume(
      Map<Integer, Long> readBefore,
      Set<String> deliveredInFull,
      List<Campaign> activeDeliveredInFull)
      implements java.io.Serializable {
    /** A first start: nothing read, nothing delivered. */
    public static final Resume NONE = new Resume(Map.of(), Set.of(), List.of());

    public Resume {
      readBefore = Map.copyOf(readBefore);
      deliveredInFull = Set.copyOf(deliveredInFull);
      activeDeliveredInFull = List.copyOf(activeDeliveredInFull);
    }
  }

  private ReplayPlan() {}

  /**
   * Moves the consumer group back where needed.
   *
   * @return what an earlier run read and delivered
   */
  public static Resume prepare(ServiceConfig service, long nowMillis) {
    CampaignNotifierOptions options = service.options();
    KafkaClients clients = service.kafka();
    PostgresDataSource postgres = service.postgres();
    String topic = options.getInputTopic();
    String group = options.getConsumerGroup();
    long windowStart = nowMillis - service.replayWindow().getMillis();
    CampaignParser parser =
        new CampaignParser(options.getMaxMessageBytes(), options.getMaxFieldChars());
    Map<String, Object> config = new HashMap<>();
    config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, options.getBootstrapServers());
    config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    try (Admin admin = clients.admin(options.getBootstrapServers(), 30_000);
        KafkaConsumer<byte[], byte[]> consumer =
            new KafkaConsumer<>(
                clients.configure(config),
                new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = KafkaClients.partitions(consumer, topic);
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
      Set<String> deliveredInFull = new java.util.HashSet<>();
      List<Campaign> activeDeliveredInFull = new java.util.ArrayList<>();
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
        Map<Long, Campaign> open = openCampaigns(consumer, tp, scanFrom, resume, parser, nowMillis);
        Set<String> finished =
            finishedAmong(
                postgres,
                open.values().stream().map(Campaign::advCampaignId).collect(Collectors.toList()));
        deliveredInFull.addAll(finished);
        open.values().stream()
            .filter(c -> finished.contains(c.advCampaignId()))
            .forEach(activeDeliveredInFull::add);
        Long oldestOpen =
            open.entrySet().stream()
                .filter(e -> !finished.contains(e.getValue().advCampaignId()))
                .map(Map.Entry::getKey)
                .findFirst()
                .orElse(null);
        if (oldestOpen != null) {
          rewind.put(tp, new OffsetAndMetadata(oldestOpen));
          LOG.info(
              "Replaying {}-{} from offset {} (committed {}): a campaign there has not ended,"
                  + " and may not have been delivered in full ({} not ended, {} of them delivered"
                  + " in full)",
              topic,
              tp.partition(),
              oldestOpen,
              resume,
              open.size(),
              finished.size());
        } else if (!open.isEmpty()) {
          LOG.info(
              "Nothing to replay on {}-{}: the {} campaigns before offset {} that have not ended"
                  + " were delivered in full (delivery ledger)",
              topic,
              tp.partition(),
              open.size(),
              resume);
        }
      }
      if (!rewind.isEmpty()) {
        admin.alterConsumerGroupOffsets(group, rewind).all().get(30, TimeUnit.SECONDS);
      }
      return new Resume(resumed, deliveredInFull, activeDeliveredInFull);
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

  /** Which of the campaigns the ledger shows delivered in full, waiting out PostgreSQL. */
  private static Set<String> finishedAmong(PostgresDataSource postgres, Collection<String> ids)
      throws InterruptedException {
    return Retry.sql(
        "read the delivery ledger of " + ids.size() + " campaigns",
        LOG,
        () -> {},
        () -> DeliveryLedger.finishedAmong(postgres.apply(null), ids));
  }

  /**
   * Offset to campaign of each valid campaign in [from, to) whose newest version there has not
   * ended nor been cancelled, in order: the offset of its first version (the replay reads every
   * version again, in order), and its newest version (published again with the same id: newer by
   * {@code datetime_created}, or later in the partition).
   */
  private static Map<Long, Campaign> openCampaigns(
      KafkaConsumer<byte[], byte[]> consumer,
      TopicPartition tp,
      long from,
      long to,
      CampaignParser parser,
      long nowMillis) {
    Map<String, Long> firstOffset = new HashMap<>();
    Map<String, Campaign> first = new HashMap<>();
    Map<String, Campaign> newest = new HashMap<>();
    if (from < to) {
      consumer.assign(List.of(tp));
      consumer.seek(tp, from);
      read:
      while (consumer.position(tp) < to) {
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(POLL)) {
          if (record.offset() >= to) {
            break read;
          }
          CampaignParser.Result result = parser.parse(record.value());
          boolean withdrawal = result.isWithdrawal();
          if (!result.isValid() && !withdrawal) {
            continue;
          }
          Campaign campaign = result.campaign();
          String id = campaign.advCampaignId();
          if (withdrawal && !newest.containsKey(id)) {
            // Cancels nothing: a dead letter when it was read.
            continue;
          }
          firstOffset.putIfAbsent(id, record.offset());
          first.putIfAbsent(id, campaign);
          Campaign known = newest.get(id);
          if (known == null || campaign.supersedes(known)) {
            newest.put(id, campaign);
          }
        }
      }
    }
    long nowSecond = nowMillis / 1000;
    Map<Long, Campaign> open = new TreeMap<>();
    newest.forEach(
        (id, campaign) -> {
          boolean updated = campaign != first.get(id);
          boolean over = updated ? campaign.cancelsAt(nowSecond) : campaign.hasEndedBy(nowSecond);
          if (!over) {
            open.put(firstOffset.get(id), campaign);
          }
        });
    return open;
  }
}
