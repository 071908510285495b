package dev.campaignnotifier.delivery;

import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;

/**
 * What one delivering instance (a Flink subtask, a Spark task's copy, a DirectRunner thread's copy)
 * has delivered since it started, logged every {@link #PERIOD_SECONDS} s while it changes
 * ("Delivery worker 3fa2c1 (thread): 310 slices, 310000 notifications since start") and once more
 * when it stops. Beam's metrics add the workers up; this line shows how the work was spread over
 * them.
 */
final class WorkerTally implements AutoCloseable {
  static final int PERIOD_SECONDS = 5;

  private final Logger log;
  private final String worker;
  private final AtomicLong slices = new AtomicLong();
  private final AtomicLong notifications = new AtomicLong();
  private final ScheduledExecutorService timer;
  private long lastLoggedSlices;

  private WorkerTally(Logger log, String worker) {
    this.log = log;
    this.worker = worker;
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            task -> {
              Thread thread = new Thread(task, "delivery-tally");
              thread.setDaemon(true);
              return thread;
            });
  }

  /** A tally for the instance running on {@code thread}, logging until closed. */
  static WorkerTally start(Logger log, String thread) {
    WorkerTally tally =
        new WorkerTally(log, UUID.randomUUID().toString().substring(0, 6) + " (" + thread + ")");
    tally.timer.scheduleWithFixedDelay(
        tally::logIfChanged, PERIOD_SECONDS, PERIOD_SECONDS, TimeUnit.SECONDS);
    return tally;
  }

  void add(long slices, long notifications) {
    this.slices.addAndGet(slices);
    this.notifications.addAndGet(notifications);
  }

  /** Logs the tally if it changed since it was last logged (a bundle that delivered ends). */
  void logIfChanged() {
    long now = slices.get();
    if (now != lastLoggedSlices) {
      lastLoggedSlices = now;
      log.info(
          "Delivery worker {}: {} slices, {} notifications since start",
          worker,
          now,
          notifications.get());
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
    logIfChanged();
  }
}
