package dev.campaignnotifier.transforms;

import dev.campaignnotifier.io.SubscriberTable;
import dev.campaignnotifier.model.SubscriberSnapshot;
import java.io.Serializable;
import java.sql.SQLException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.sql.DataSource;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.joda.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A subscriber snapshot that a worker reads itself, with the same query, instead of receiving it as
 * a side input: the whole path on the Spark runner (see {@code CampaignNotifier.buildPipeline}),
 * and elsewhere for a campaign that meets the side input before its first value. One snapshot per
 * JVM and data source serves every campaign. The first read blocks, and is retried with backoff,
 * because fanning out to an empty set is never an option; after that a snapshot older than the
 * refresh period is replaced in the background ({@link SnapshotLoader}) while the old one keeps
 * serving, so a refresh never stalls the fan-out.
 */
final class WorkerSnapshot implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(WorkerSnapshot.class);
  private static final Map<String, SubscriberSnapshot> CACHE = new ConcurrentHashMap<>();

  /** Reads a whole snapshot; serializable, so it travels with the DoFn to the workers. */
  @FunctionalInterface
  interface Source extends Serializable {
    SubscriberSnapshot read() throws SQLException;
  }

  private final String cacheKey;
  private final Source source;
  private final Duration maxAge;

  WorkerSnapshot(String cacheKey, Source source, Duration maxAge) {
    this.cacheKey = cacheKey;
    this.source = source;
    this.maxAge = maxAge;
  }

  /** Reads {@code subscribers_restaurants} through the given data source. */
  static WorkerSnapshot of(SerializableFunction<Void, DataSource> dataSource, Duration maxAge) {
    return new WorkerSnapshot(
        dataSource.toString(), () -> SubscriberTable.read(dataSource.apply(null)), maxAge);
  }

  SubscriberSnapshot get() throws InterruptedException {
    SnapshotLoader refresher = SnapshotLoader.of("worker:" + cacheKey);
    refresher.poll().ifPresent(this::takeRefresh);
    SubscriberSnapshot cached = CACHE.get(cacheKey);
    if (cached != null) {
      long age = System.currentTimeMillis() - cached.loadedAtMillis();
      if (age < maxAge.getMillis()) {
        return cached;
      }
      if (age < 2 * maxAge.getMillis()) {
        refresher.startIfDue(maxAge.getMillis(), source::read);
        return cached;
      }
      // Nothing asked for a snapshot for a while (refreshes here are driven by campaigns): one
      // over two periods old is not served, so no campaign sees the table older than that.
    }
    return readNow(cached);
  }

  private void takeRefresh(SnapshotLoader.Outcome outcome) {
    if (outcome.failure() != null) {
      LOG.warn(
          "Subscriber refresh failed, still serving the last good snapshot: {}",
          outcome.failure().toString());
      return;
    }
    CACHE.put(cacheKey, outcome.snapshot());
    LOG.info(
        "Subscriber snapshot refreshed in {} ms: {} restaurants, {} subscriptions",
        outcome.millis(),
        outcome.snapshot().restaurantCount(),
        outcome.snapshot().subscriptionCount());
  }

  /** Reads in this thread (the first read, or after an idle spell), unless another just did. */
  private SubscriberSnapshot readNow(SubscriberSnapshot tooOld) throws InterruptedException {
    synchronized (CACHE) {
      SubscriberSnapshot cached = CACHE.get(cacheKey);
      if (cached != null && cached != tooOld) {
        return cached;
      }
      long backoffMillis = 200;
      while (true) {
        try {
          long started = System.nanoTime();
          SubscriberSnapshot snapshot = source.read();
          CACHE.put(cacheKey, snapshot);
          LOG.info(
              "Subscriber snapshot read in {} ms: {} restaurants, {} subscriptions",
              (System.nanoTime() - started) / 1_000_000,
              snapshot.restaurantCount(),
              snapshot.subscriptionCount());
          return snapshot;
        } catch (SQLException | RuntimeException e) {
          LOG.warn("Cannot read subscribers, retrying in {} ms: {}", backoffMillis, e.toString());
          Thread.sleep(backoffMillis);
          backoffMillis = Math.min(backoffMillis * 2, 10_000);
        }
      }
    }
  }
}
