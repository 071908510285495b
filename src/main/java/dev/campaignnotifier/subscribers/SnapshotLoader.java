package dev.campaignnotifier.subscribers;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.LongSupplier;

/**
 * Reads subscriber snapshots off the runner's threads, one at a time, at most once per refresh
 * period. The refresh step only starts a read and later picks up its result, so it never holds a
 * bundle open for the seconds a big table takes: the DirectRunner polls its sources (the campaigns)
 * only when no bundle is outstanding, so a read inside the step stalled every campaign behind it
 * (measured in docs/subscriber-modes.md).
 *
 * <p>One loader per pipeline and JVM ({@link #of}), because a runner may create the step's {@code
 * DoFn} anew for every bundle (Spark does, per micro-batch).
 */
final class SnapshotLoader {
  private static final Map<String, SnapshotLoader> LOADERS = new ConcurrentHashMap<>();

  /** What a read gave: a snapshot, or the failure; numbered from 0 in the order started. */
  record Outcome(long number, SubscriberSnapshot snapshot, Exception failure, long millis) {}

  /** Reads a whole snapshot. */
  @FunctionalInterface
  interface Source {
    SubscriberSnapshot read() throws Exception;
  }

  private final Executor executor;
  private final LongSupplier clockMillis;
  private CompletableFuture<Outcome> inFlight;
  private long lastStartMillis;
  private long started;

  SnapshotLoader(Executor executor, LongSupplier clockMillis) {
    this.executor = executor;
    this.clockMillis = clockMillis;
  }

  /** The loader of one pipeline in this JVM; reads run on a daemon thread of their own. */
  static SnapshotLoader of(String pipelineId) {
    return LOADERS.computeIfAbsent(
        pipelineId,
        id ->
            new SnapshotLoader(
                task -> {
                  Thread reader = new Thread(task, "subscriber-snapshot-reader");
                  reader.setDaemon(true);
                  reader.start();
                },
                System::currentTimeMillis));
  }

  /** The read that has finished since the last call, if one has. */
  synchronized Optional<Outcome> poll() {
    if (inFlight == null || !inFlight.isDone()) {
      return Optional.empty();
    }
    Outcome outcome = inFlight.join();
    inFlight = null;
    return Optional.of(outcome);
  }

  /** Starts a read unless one is running or the last started less than a refresh period ago. */
  synchronized void startIfDue(long refreshMillis, Source source) {
    long now = clockMillis.getAsLong();
    if (inFlight != null || (started > 0 && now - lastStartMillis < refreshMillis)) {
      return;
    }
    long number = started++;
    lastStartMillis = now;
    inFlight =
        CompletableFuture.supplyAsync(
            () -> {
              long begin = System.nanoTime();
              try {
                SubscriberSnapshot snapshot = source.read();
                return new Outcome(number, snapshot, null, (System.nanoTime() - begin) / 1_000_000);
              } catch (Exception e) {
                return new Outcome(number, null, e, (System.nanoTime() - begin) / 1_000_000);
              }
            },
            executor);
  }
}
