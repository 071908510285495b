package dev.campaignnotifier.ops;

import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the pipeline's steps in this JVM are doing now, for the health checks and the gauges that
 * Beam's metrics cannot give live (a runner publishes them per bundle, and a million-subscriber
 * delivery can be one bundle): notifications fanned out and not yet recorded, how long the oldest
 * slice has been in delivery, and when the subscriber snapshot in force was loaded.
 *
 * <p>Per JVM, so exact wherever the whole pipeline runs in the service's process (the DirectRunner,
 * Flink's and Spark's local launchers). On a cluster the workers keep their own, which nothing
 * scrapes; there the runner's metrics system is the window (docs/operations.md).
 */
public final class LiveState {
  /** A fan-out whose slices have not all been recorded yet (see {@link #pending}). */
  private record Backlog(long notifications, long campaignEndEpochSecond) {}

  /** Fan-outs of a campaign that ended longer ago than this are forgotten (a failed worker's). */
  private static final long FORGET_AFTER_END_SECONDS = 3600;

  private static final Map<String, Backlog> BACKLOG = new ConcurrentHashMap<>();
  private static final Map<Object, Long> IN_DELIVERY = new ConcurrentHashMap<>();
  private static final AtomicLong SNAPSHOT_LOADED_AT_MILLIS = new AtomicLong();
  private static final AtomicLong MICRO_BATCH_LAG_MILLIS = new AtomicLong(-1);

  private LiveState() {}

  /** The fan-out handed a slice of {@code notifications} to delivery. */
  public static void fannedOut(String fanOutId, long campaignEndEpochSecond, int notifications) {
    change(fanOutId, campaignEndEpochSecond, notifications);
  }

  /** A slice of the fan-out was published and recorded. */
  public static void recorded(String fanOutId, long campaignEndEpochSecond, int notifications) {
    change(fanOutId, campaignEndEpochSecond, -notifications);
  }

  private static void change(String fanOutId, long endEpochSecond, long delta) {
    BACKLOG.compute(
        fanOutId == null ? "" : fanOutId,
        (id, was) -> {
          long now = (was == null ? 0 : was.notifications()) + delta;
          return now == 0 ? null : new Backlog(now, endEpochSecond);
        });
  }

  /**
   * Notifications fanned out in this JVM and not yet recorded, over fan-outs of campaigns that
   * ended less than an hour before {@code nowEpochSecond} (a fan-out a failed task left behind is
   * replayed under a new id, so its remains are dropped rather than counted for ever).
   */
  public static long pending(long nowEpochSecond) {
    BACKLOG
        .entrySet()
        .removeIf(
            e -> e.getValue().campaignEndEpochSecond() + FORGET_AFTER_END_SECONDS < nowEpochSecond);
    return Math.max(0, BACKLOG.values().stream().mapToLong(Backlog::notifications).sum());
  }

  /** A slice entered delivery; pass the token to {@link #deliveryEnded} when it leaves. */
  public static Object deliveryStarted(long nowNanos) {
    Object token = new Object();
    IN_DELIVERY.put(token, nowNanos);
    return token;
  }

  public static void deliveryEnded(Object token) {
    IN_DELIVERY.remove(token);
  }

  /** How long the slice longest in delivery has been there, in nanoseconds; 0 if none is. */
  public static long oldestDeliveryNanos(long nowNanos) {
    return IN_DELIVERY.values().stream().mapToLong(started -> nowNanos - started).max().orElse(0);
  }

  /** A subscriber snapshot was loaded and handed to the fan-out. */
  public static void snapshotLoaded(long atMillis) {
    SNAPSHOT_LOADED_AT_MILLIS.set(atMillis);
  }

  /** When the snapshot in force was loaded, if one has been in this JVM. */
  public static OptionalLong snapshotLoadedAtMillis() {
    long at = SNAPSHOT_LOADED_AT_MILLIS.get();
    return at == 0 ? OptionalLong.empty() : OptionalLong.of(at);
  }

  /**
   * A Spark micro-batch finished: {@code lagMillis} from the time it stands for (its batch time) to
   * its end. Spark's own delays start when a batch's jobs are submitted, after the driver has built
   * them, so a driver that builds batches slower than the batch interval shows nothing there.
   */
  public static void microBatchCompleted(long lagMillis) {
    MICRO_BATCH_LAG_MILLIS.set(Math.max(0, lagMillis));
  }

  /** The last micro-batch's lag ({@link #microBatchCompleted}), if one has finished in this JVM. */
  public static OptionalLong microBatchLagMillis() {
    long lag = MICRO_BATCH_LAG_MILLIS.get();
    return lag < 0 ? OptionalLong.empty() : OptionalLong.of(lag);
  }

  /** Forgets everything: for tests that run many pipelines in one JVM. */
  public static void reset() {
    BACKLOG.clear();
    IN_DELIVERY.clear();
    SNAPSHOT_LOADED_AT_MILLIS.set(0);
    MICRO_BATCH_LAG_MILLIS.set(-1);
  }
}
