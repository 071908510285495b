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
 * A subscriber snapshot read on demand, for the campaigns that reach the fan-out before the side
 * input's first value (only on runners that do not hold them back). One read per JVM serves every
 * such campaign for a refresh period; a failed read is retried with backoff, because fanning out to
 * an empty set is never an option.
 */
final class BootstrapSnapshot implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(BootstrapSnapshot.class);
  private static final Map<String, SubscriberSnapshot> CACHE = new ConcurrentHashMap<>();

  /** Reads a whole snapshot; serializable, so it travels with the DoFn to the workers. */
  @FunctionalInterface
  interface Source extends Serializable {
    SubscriberSnapshot read() throws SQLException;
  }

  private final String cacheKey;
  private final Source source;
  private final Duration maxAge;

  BootstrapSnapshot(String cacheKey, Source source, Duration maxAge) {
    this.cacheKey = cacheKey;
    this.source = source;
    this.maxAge = maxAge;
  }

  /** Reads {@code subscribers_restaurants} through the given data source. */
  static BootstrapSnapshot of(SerializableFunction<Void, DataSource> dataSource, Duration maxAge) {
    return new BootstrapSnapshot(
        dataSource.toString(), () -> SubscriberTable.read(dataSource.apply(null)), maxAge);
  }

  SubscriberSnapshot get() throws InterruptedException {
    synchronized (CACHE) {
      SubscriberSnapshot cached = CACHE.get(cacheKey);
      if (cached != null
          && System.currentTimeMillis() - cached.loadedAtMillis() < maxAge.getMillis()) {
        return cached;
      }
      long backoffMillis = 200;
      while (true) {
        try {
          SubscriberSnapshot snapshot = source.read();
          CACHE.put(cacheKey, snapshot);
          LOG.info(
              "Subscriber snapshot read for early campaigns: {} restaurants, {} subscriptions",
              snapshot.restaurantCount(),
              snapshot.subscriptionCount());
          return snapshot;
        } catch (SQLException | RuntimeException e) {
          LOG.warn(
              "Cannot read subscribers for an early campaign, retrying in {} ms: {}",
              backoffMillis,
              e.toString());
          Thread.sleep(backoffMillis);
          backoffMillis = Math.min(backoffMillis * 2, 10_000);
        }
      }
    }
  }
}
