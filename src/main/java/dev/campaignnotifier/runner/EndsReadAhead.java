package dev.campaignnotifier.runner;

import dev.campaignnotifier.campaigns.CampaignVersions;
import dev.campaignnotifier.delivery.DeliveryLedger;
import dev.campaignnotifier.io.KafkaClients;
import dev.campaignnotifier.io.Retry;
import dev.campaignnotifier.model.Campaign;
import dev.campaignnotifier.model.CampaignParser;
import dev.campaignnotifier.options.CampaignNotifierOptions;
import dev.campaignnotifier.startup.ServiceConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import javax.sql.DataSource;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Campaigns ended early, read from the input beside the pipeline. On the SparkRunner micro-batches
 * run one after another and a fan-out made in one go is delivered inside its micro-batch, so the
 * pipeline reads a "sold out" published meanwhile only once the whole fan-out has gone out. This
 * thread, in the service's own JVM (Spark's driver), follows the input topic from its end and
 * records in {@code campaign_versions} at once every valid version whose end is at most {@link
 * #HORIZON_SECONDS} away, of a campaign whose fan-out has begun (a slice in the delivery ledger;
 * one not begun yet is asked about again for {@link #PENDING_SECONDS}); the delivery asks that
 * table before it publishes (its memory of it at most 200 ms old) and withdraws what the new end
 * leaves out (docs/contract.md, Updates). Campaigns that had ended long before they were read (a
 * replay, old messages) begin no fan-out and are not recorded.
 *
 * <p>It decides nothing the pipeline does not: a recorded version counts only where it supersedes
 * the one being delivered ({@link Campaign#supersedes}), it never replaces a version created later
 * ({@link CampaignVersions#recordAhead}), and the pipeline records the same version, with its own
 * rules, when it reads it. A bad message is the pipeline's to dead-letter: skipped here. It stops
 * once the pipeline has ended.
 */
public final class EndsReadAhead {
  private static final Logger LOG = LoggerFactory.getLogger(EndsReadAhead.class);

  /**
   * Versions ending within this many seconds are recorded ahead: a fan-out in progress could still
   * be running at their end. A campaign's first version that ends this soon is recorded too, and
   * changes nothing (it supersedes nothing).
   */
  static final long HORIZON_SECONDS = 60;

  /**
   * How long a version recorded ahead is kept at least: past any fan-out in one go, until the
   * pipeline records it with the latest end of all its versions.
   */
  static final long KEEP_SECONDS = 600;

  /** How long a version ending soon waits for its campaign's fan-out to record a slice. */
  static final long PENDING_SECONDS = 30;

  /** The most versions waiting so; the oldest give way. */
  static final int MAX_PENDING = 5_000;

  private static final Duration POLL = Duration.ofMillis(500);
  private static final long PARTITIONS_CHECK_MILLIS = 60_000;

  private final CampaignNotifierOptions options;
  private final KafkaClients kafka;
  private final CampaignVersions versions;
  private final SerializableFunction<Void, DataSource> dataSource;
  private final CampaignParser parser;
  private final BooleanSupplier pipelineRunning;

  EndsReadAhead(
      CampaignNotifierOptions options,
      KafkaClients kafka,
      SerializableFunction<Void, DataSource> dataSource,
      BooleanSupplier pipelineRunning) {
    this.options = options;
    this.kafka = kafka;
    this.dataSource = dataSource;
    this.versions = CampaignVersions.inPostgres(dataSource);
    this.parser = new CampaignParser(options.getMaxMessageBytes(), options.getMaxFieldChars());
    this.pipelineRunning = pipelineRunning;
  }

  /**
   * Starts following the input topic from its end, in a daemon thread that ends once {@code
   * pipelineRunning} says no.
   */
  public static void start(ServiceConfig config, BooleanSupplier pipelineRunning) {
    EndsReadAhead reader =
        new EndsReadAhead(config.options(), config.kafka(), config.postgres(), pipelineRunning);
    Thread thread = new Thread(reader::run, "ends-read-ahead");
    thread.setDaemon(true);
    thread.start();
  }

  private void run() {
    String topic = options.getInputTopic();
    Map<String, Object> config = new HashMap<>();
    config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, options.getBootstrapServers());
    config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    config.put(ConsumerConfig.CLIENT_ID_CONFIG, "campaign-notifier-ends-read-ahead");
    try (Consumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(
            kafka.configure(config), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      Set<TopicPartition> assigned = new HashSet<>();
      long partitionsCheckedAt = 0;
      LOG.info("Reading campaigns ended early from {} ahead of the pipeline", topic);
      while (pipelineRunning.getAsBoolean()) {
        try {
          if (System.currentTimeMillis() - partitionsCheckedAt > PARTITIONS_CHECK_MILLIS) {
            follow(consumer, topic, assigned);
            partitionsCheckedAt = System.currentTimeMillis();
          }
          for (ConsumerRecord<byte[], byte[]> record : consumer.poll(POLL)) {
            Campaign ending = endingSoon(record.value(), System.currentTimeMillis() / 1000);
            if (ending != null) {
              // A later read of the same id replaces an earlier one, as in the pipeline.
              pending.remove(ending.advCampaignId());
              pending.put(ending.advCampaignId(), new Pending(ending, System.currentTimeMillis()));
            }
          }
          recordBegun();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        } catch (RuntimeException e) {
          // The broker or the database away: the pipeline waits them out, and so does this.
          LOG.warn(
              "Reading campaigns ended early ahead of the pipeline: {}; again in 5 s",
              e.toString());
          if (!Retry.pause(5_000)) {
            return;
          }
        }
      }
    }
  }

  /** Assigns the topic's partitions not followed yet: those there at the start from their end. */
  private static void follow(
      Consumer<byte[], byte[]> consumer, String topic, Set<TopicPartition> assigned) {
    List<TopicPartition> all = KafkaClients.partitions(consumer, topic);
    List<TopicPartition> added = new ArrayList<>(all);
    added.removeAll(assigned);
    if (added.isEmpty()) {
      return;
    }
    boolean first = assigned.isEmpty();
    assigned.addAll(added);
    consumer.assign(assigned);
    if (first) {
      consumer.seekToEnd(added);
    } else {
      // Partitions added while running hold nothing older than this reader.
      consumer.seekToBeginning(added);
    }
  }

  /**
   * The campaign in {@code value} if it is valid (or a withdrawal, whose end is before its start)
   * and ends within the horizon; null otherwise.
   */
  Campaign endingSoon(byte[] value, long nowEpochSecond) {
    if (value == null) {
      return null;
    }
    CampaignParser.Result parsed = parser.parse(value);
    if (!parsed.isValid() && !parsed.isWithdrawal()) {
      return null;
    }
    Campaign campaign = parsed.campaign();
    return campaign.endEpochSecond() <= nowEpochSecond + HORIZON_SECONDS ? campaign : null;
  }

  /** A version ending soon, read at {@code readAtMillis}. */
  private record Pending(Campaign campaign, long readAtMillis) {}

  /** Versions ending soon, by campaign id, oldest read first. */
  private final LinkedHashMap<String, Pending> pending = new LinkedHashMap<>();

  /** Records the pending versions whose fan-out has begun; lets go of those waiting too long. */
  private void recordBegun() throws InterruptedException {
    if (pending.isEmpty()) {
      return;
    }
    Set<String> ids = Set.copyOf(pending.keySet());
    Set<String> begun =
        Retry.sql(
            "read the delivery ledger of " + ids.size() + " campaigns ending soon",
            LOG,
            () -> {},
            () -> DeliveryLedger.begunAmong(dataSource.apply(null), ids));
    for (String id : begun) {
      record(pending.remove(id).campaign());
    }
    long oldest = System.currentTimeMillis() - PENDING_SECONDS * 1000;
    pending.values().removeIf(p -> p.readAtMillis() < oldest);
    Iterator<String> first = pending.keySet().iterator();
    while (pending.size() > MAX_PENDING) {
      first.next();
      first.remove();
    }
  }

  private void record(Campaign ending) throws InterruptedException {
    long now = System.currentTimeMillis() / 1000;
    versions.recordAhead(ending, Math.max(ending.endEpochSecond(), now + KEEP_SECONDS));
    LOG.info(
        "Campaign {} of restaurant {} ends at {}: recorded ahead of the pipeline, its delivery in"
            + " progress stops at that end",
        ending.advCampaignId(),
        ending.restaurantId(),
        ending.endEpochSecond());
  }
}
