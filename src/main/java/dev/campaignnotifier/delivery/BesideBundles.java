package dev.campaignnotifier.delivery;

import dev.campaignnotifier.model.Slice;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers the slices of big fan-outs beside the bundles, in this JVM, so that a bundle ends once
 * they are handed over: on Spark a bundle is a micro-batch's partition, and the next micro-batch,
 * with the small campaigns published meanwhile, waited for the whole delivery of a big one ({@code
 * RunnerProfile#deliversBigBeside}: on a local master only, where the driver's JVM is the one
 * worker). The same delivery does the work ({@link DeliverNotifications.DeliverFn#deliver}: the
 * same sinks, checks and ledger), on threads of its own, one slice per parcel.
 *
 * <p>At most {@link #CLIENTS_HANDED_OVER} clients are handed over and not yet delivered in a JVM; a
 * bundle that would hand over more waits for room. A stop of the service waits for what was handed
 * over ({@link #finishAll}); a crash loses it, and the ledger shows the fan-out unfinished, so the
 * next start reads the campaign again ({@code ReplayPlan}), as after a crash inside a micro-batch.
 * A delivery that fails for good (not an outage, which is waited out) fails every later bundle of
 * this JVM that hands a slice over or ends, so the pipeline fails as it did when the bundle
 * delivered the slice itself, and the next start delivers the rest.
 *
 * <p>Made when a JVM first hands a big campaign's slice over, closed (its producer let go, its
 * threads stopped) once nothing was handed over for {@link #CLOSE_AFTER_IDLE_SECONDS}.
 */
final class BesideBundles {
  private static final Logger LOG = LoggerFactory.getLogger(BesideBundles.class);

  /** Clients handed over and not yet delivered, per JVM: about 100 MB of client ids. */
  static final int CLIENTS_HANDED_OVER = 1_000_000;

  /**
   * Slices in delivery at once: a delivery holds a pooled PostgreSQL connection while Kafka
   * acknowledges, and JdbcIO's pool keeps 8, so half of them stay for the small campaigns'
   * deliveries and the fan-out's questions (with 8 a small campaign behind a big one waited longer:
   * docs/performance.md).
   */
  static final int THREADS = DeliverNotifications.DeliverFn.PARALLELISM;

  /**
   * Idle this long, a JVM's delivery beside the bundles is closed; the next big slice opens one.
   */
  static final int CLOSE_AFTER_IDLE_SECONDS = 30;

  private static final Map<List<Object>, BesideBundles> IN_THIS_JVM = new ConcurrentHashMap<>();

  /** Set by the stop ({@link #finishAll}): nothing more is handed over. */
  private static volatile boolean stopping;

  /** Closes the idle ones, for every delivery of the JVM; started with the first of them. */
  private static final class Closer {
    private static final ScheduledExecutorService TIMER =
        Executors.newSingleThreadScheduledExecutor(
            task -> {
              Thread thread = new Thread(task, "delivery-beside-bundles-closer");
              thread.setDaemon(true);
              return thread;
            });

    static {
      TIMER.scheduleWithFixedDelay(
          BesideBundles::closeIdle,
          CLOSE_AFTER_IDLE_SECONDS,
          CLOSE_AFTER_IDLE_SECONDS / 3,
          TimeUnit.SECONDS);
    }

    static void started() {}
  }

  private final DeliverNotifications.DeliverFn fn;
  private final ExecutorService workers;
  private final Semaphore room = new Semaphore(CLIENTS_HANDED_OVER);
  private final AtomicLong delivered = new AtomicLong();
  private final AtomicReference<Throwable> failed = new AtomicReference<>();
  private int handedOver;
  private long idleSinceNanos = System.nanoTime();
  private boolean closed;

  private BesideBundles(DeliverNotifications.DeliverFn fn) {
    this.fn = fn;
    this.workers =
        Executors.newFixedThreadPool(
            THREADS,
            task -> {
              Thread thread = new Thread(task, "delivery-beside-bundles");
              thread.setDaemon(true);
              return thread;
            });
  }

  /** Whether {@code slice} is one of several of its fan-out: a big campaign's. */
  static boolean isOfBigFanOut(Slice slice) {
    return slice.fanOutId() != null && !(slice.number() == 1 && slice.ofSlices() == 1);
  }

  /**
   * Hands {@code slice} to the JVM's delivery beside the bundles for {@code key} (the sinks it
   * delivers to), made with {@code fn} if there is none, waiting while it has no room; throws a
   * delivery's failure there.
   */
  static void handOver(List<Object> key, Supplier<DeliverNotifications.DeliverFn> fn, Slice slice)
      throws InterruptedException {
    while (true) {
      if (stopping) {
        throw new IllegalStateException(
            "The service is stopping: slice "
                + slice.number()
                + " of campaign "
                + slice.campaign().advCampaignId()
                + " is left to the next start");
      }
      BesideBundles beside =
          IN_THIS_JVM.computeIfAbsent(
              key,
              k -> {
                Closer.started();
                DeliverNotifications.DeliverFn set = fn.get();
                set.setup();
                return new BesideBundles(set);
              });
      beside.throwIfFailed();
      if (beside.submit(slice)) {
        return;
      }
      // Closed meanwhile: it has left the map, the next turn makes another.
      IN_THIS_JVM.remove(key, beside);
    }
  }

  /**
   * The notifications the JVM's delivery for {@code key} delivered since the last call (0 if it has
   * none), its other counts added to Beam's metrics on the calling (runner's) thread; throws a
   * delivery's failure there.
   */
  static long countSinceLastBundle(List<Object> key) {
    BesideBundles beside = IN_THIS_JVM.get(key);
    if (beside == null) {
      return 0;
    }
    beside.throwIfFailed();
    long count = beside.delivered.getAndSet(0);
    beside.fn.count(count);
    return count;
  }

  /**
   * Waits up to {@code timeout} for every slice handed over in this JVM to be delivered, then
   * closes the deliveries: the service's stop, so that a big campaign's delivery under way is not
   * cut short (what is not done by then is left to the next start). Returns whether all were.
   */
  static boolean finishAll(Duration timeout) throws InterruptedException {
    stopping = true;
    long deadline = System.nanoTime() + timeout.toNanos();
    boolean all = true;
    for (Map.Entry<List<Object>, BesideBundles> e : IN_THIS_JVM.entrySet()) {
      BesideBundles beside = e.getValue();
      beside.close();
      long left = Math.max(0, deadline - System.nanoTime());
      if (!beside.workers.awaitTermination(left, TimeUnit.NANOSECONDS)) {
        all = false;
        beside.workers.shutdownNow();
      }
      beside.fn.teardown();
      IN_THIS_JVM.remove(e.getKey(), beside);
    }
    return all;
  }

  private static void closeIdle() {
    try {
      IN_THIS_JVM.forEach(
          (key, beside) -> {
            if (beside.closeIfIdle()) {
              IN_THIS_JVM.remove(key, beside);
            }
          });
    } catch (RuntimeException e) {
      LOG.warn("Could not close the idle deliveries beside the bundles: {}", e.toString());
    }
  }

  private void throwIfFailed() {
    Throwable failure = failed.get();
    if (failure != null) {
      throw new IllegalStateException(
          "A big campaign's delivery beside the micro-batches failed: " + failure.getMessage(),
          failure);
    }
  }

  /** Closes it if nothing was handed over for a while and nothing failed (kept to be thrown). */
  private synchronized boolean closeIfIdle() {
    if (closed
        || failed.get() != null
        || handedOver > 0
        || System.nanoTime() - idleSinceNanos < CLOSE_AFTER_IDLE_SECONDS * 1_000_000_000L) {
      return false;
    }
    close();
    fn.teardown();
    return true;
  }

  /** Refuses new slices; those handed over are still delivered. */
  private synchronized void close() {
    closed = true;
    workers.shutdown();
  }

  private synchronized boolean open() {
    if (closed) {
      return false;
    }
    handedOver++;
    return true;
  }

  private synchronized void done() {
    if (--handedOver == 0) {
      idleSinceNanos = System.nanoTime();
    }
  }

  /** Hands the slice over, waiting while the JVM has no room for its clients; false if closed. */
  private boolean submit(Slice slice) throws InterruptedException {
    if (!open()) {
      return false;
    }
    int clients = Math.min(CLIENTS_HANDED_OVER, Math.max(1, slice.size()));
    try {
      room.acquire(clients);
    } catch (InterruptedException e) {
      done();
      throw e;
    }
    try {
      workers.execute(
          () -> {
            try {
              delivered.addAndGet(fn.deliver(List.of(slice), true));
            } catch (Throwable e) {
              // An interruption too: the slice is not delivered, and only a new start delivers it.
              LOG.error(
                  "Delivery of slice {} of campaign {} failed; the pipeline fails at its next"
                      + " bundle, and the next start delivers what is left",
                  slice.number(),
                  slice.campaign().advCampaignId(),
                  e);
              failed.compareAndSet(null, e);
            } finally {
              room.release(clients);
              done();
            }
          });
    } catch (RuntimeException e) {
      room.release(clients);
      done();
      throw e;
    }
    return true;
  }
}
