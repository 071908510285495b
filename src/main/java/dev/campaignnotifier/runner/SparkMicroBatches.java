package dev.campaignnotifier.runner;

import dev.campaignnotifier.ops.LiveState;
import java.util.function.LongSupplier;
import org.apache.spark.streaming.api.java.JavaStreamingListener;
import org.apache.spark.streaming.api.java.JavaStreamingListenerBatchCompleted;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the SparkRunner's micro-batches from the driver: how far behind its batch time each one
 * ends ({@link LiveState#microBatchLagMillis}, the {@code spark_microBatchLagSeconds} gauge), and a
 * warning while that keeps growing.
 *
 * <p>Spark generates the jobs of a micro-batch on one driver thread, and Beam's runner does work
 * there for every batch (it collects each stateful step's keys and the sources' read reports, and
 * unpersists the RDDs of earlier batches). When that takes longer than the batch interval the
 * batches run back to back, each later behind its batch time than the one before, and the cached
 * RDDs of the batches not yet cleared pile up on the driver. Spark's UI and its scheduling delay do
 * not show it: they count from the moment a batch's jobs are submitted, after they were built. What
 * it was measured at, with 500 ms and 1,000 ms batches: docs/performance.md, "A Spark driver that
 * falls behind".
 *
 * <p>Registered by {@code RunnerProfile.beforeRun} through Beam's {@code
 * SparkContextOptions.setListeners}; compiled against Spark, which only the SparkRunner's classpath
 * holds, so nothing else loads this class.
 */
public final class SparkMicroBatches extends JavaStreamingListener {
  private static final Logger LOG = LoggerFactory.getLogger(SparkMicroBatches.class);

  /** Lags under this many batch intervals are ordinary: a batch's own work and a busy moment. */
  static final int BEHIND_AFTER_INTERVALS = 10;

  /** The warning is repeated at most this often while the lag lasts. */
  static final long WARN_EVERY_MILLIS = 60_000;

  private final long batchIntervalMillis;
  private final LongSupplier clock;
  private long warnedAtMillis = -WARN_EVERY_MILLIS;

  public SparkMicroBatches(long batchIntervalMillis) {
    this(batchIntervalMillis, System::currentTimeMillis);
  }

  SparkMicroBatches(long batchIntervalMillis, LongSupplier clock) {
    this.batchIntervalMillis = batchIntervalMillis;
    this.clock = clock;
  }

  /**
   * Reads the batch's times by reflection: {@code JavaBatchInfo} and Spark's {@code Time} are Scala
   * case classes, and compiling a call on them needs the Scala library, which the Spark bundle's
   * build does not put on the compile class path (the cluster provides it).
   */
  @Override
  public void onBatchCompleted(JavaStreamingListenerBatchCompleted batchCompleted) {
    Object batch = batchCompleted.batchInfo();
    try {
      Object time = batch.getClass().getMethod("batchTime").invoke(batch);
      long batchTime = (Long) time.getClass().getMethod("milliseconds").invoke(time);
      long end = (Long) batch.getClass().getMethod("processingEndTime").invoke(batch);
      completed(batchTime, end);
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.debug("Could not read a micro-batch's times: {}", e.toString());
    }
  }

  /** A batch of {@code batchTimeMillis} ended at {@code endMillis} (or -1: use now). */
  void completed(long batchTimeMillis, long endMillis) {
    long now = clock.getAsLong();
    long lag = (endMillis > 0 ? endMillis : now) - batchTimeMillis;
    LiveState.microBatchCompleted(lag);
    if (lag > BEHIND_AFTER_INTERVALS * batchIntervalMillis
        && now - warnedAtMillis >= WARN_EVERY_MILLIS) {
      warnedAtMillis = now;
      LOG.warn(
          "Spark micro-batches run {} s behind their batch time (--batchIntervalMillis={}): the"
              + " driver has built batches slower than one per interval, and its cached blocks"
              + " grow while the lag does; if the lag does not shrink once the load has passed,"
              + " raise --batchIntervalMillis",
          lag / 1000,
          batchIntervalMillis);
    }
  }
}
