package dev.campaignnotifier.delivery;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.kafka.clients.producer.Producer;

/**
 * Kafka producers shared by every instance of a delivery step in a JVM, one per configuration.
 * Beam's Spark runner deserializes a new DoFn for every task of every micro-batch, so
 * {@code @Setup} and {@code @Teardown} run per partition per micro-batch: a producer of its own per
 * instance was a new idempotent producer (a round trip for its id) and a read of the topic's {@code
 * max.message.bytes} (an admin client) each time. A KafkaProducer is thread-safe and meant to be
 * shared; here the last instance to let go of one closes it only after {@code linger} without a
 * taker, so the next micro-batch's tasks find it open, and a JVM that runs pipelines one after
 * another (tests) does not keep them for ever.
 */
final class SharedProducers {
  /** How long a producer nobody holds stays open for the next taker. */
  static final Duration LINGER = Duration.ofSeconds(60);

  private static final SharedProducers JVM = new SharedProducers(LINGER);

  /** The producers of this JVM. */
  static SharedProducers inThisJvm() {
    return JVM;
  }

  private final Duration linger;
  private final Map<String, Entry> entries = new HashMap<>();
  private final ScheduledExecutorService closer =
      Executors.newSingleThreadScheduledExecutor(
          task -> {
            Thread thread = new Thread(task, "kafka-producer-closer");
            thread.setDaemon(true);
            return thread;
          });
  private long created;

  SharedProducers(Duration linger) {
    this.linger = linger;
  }

  private static final class Entry {
    final Producer<String, String> producer;
    int holders;
    ScheduledFuture<?> closing;

    Entry(Producer<String, String> producer) {
      this.producer = producer;
    }
  }

  /**
   * The producer of {@code key}, made by {@code make} if none is open; each call is matched by one
   * {@link #release}.
   */
  synchronized Producer<String, String> acquire(
      String key, Supplier<Producer<String, String>> make) {
    Entry entry = entries.get(key);
    if (entry == null) {
      entry = new Entry(make.get());
      created++;
      entries.put(key, entry);
    }
    if (entry.closing != null) {
      entry.closing.cancel(false);
      entry.closing = null;
    }
    entry.holders++;
    return entry.producer;
  }

  /** Lets go of {@code key}'s producer; the last holder's release closes it after the linger. */
  void release(String key) {
    Producer<String, String> closing = null;
    synchronized (this) {
      Entry entry = entries.get(key);
      if (entry == null || --entry.holders > 0) {
        return;
      }
      if (linger.isZero()) {
        entries.remove(key);
        closing = entry.producer;
      } else {
        entry.closing =
            closer.schedule(
                () -> closeIfUnheld(key, entry), linger.toMillis(), TimeUnit.MILLISECONDS);
      }
    }
    if (closing != null) {
      // Outside the lock: a close waits for what is in flight, and others may take producers.
      closing.close(Duration.ofSeconds(30));
    }
  }

  private void closeIfUnheld(String key, Entry entry) {
    synchronized (this) {
      if (entry.holders > 0 || entries.get(key) != entry) {
        return;
      }
      entries.remove(key);
    }
    entry.producer.close(Duration.ofSeconds(30));
  }

  /** How many producers this has made (and so how many times a producer was set up). */
  synchronized long created() {
    return created;
  }
}
