package dev.campaignnotifier.delivery;

import dev.campaignnotifier.model.Slice;
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
 * Delivers the slices of big fan-outs beside the bundles, in this worker JVM, so that a bundle ends
 * once they are handed over: on Spark a bundle is a micro-batch's partition, and the next
 * micro-batch, with the small campaigns published meanwhile, waited for the whole delivery of a big
 * one ({@code RunnerProfile#deliversBigBeside}). The same delivery does the work ({@link
 * DeliverNotifications.DeliverFn#deliver}: the same sinks, checks and ledger), on threads of its
 * own, one slice per parcel.
 *
 * <p>At most {@link #CLIENTS_HANDED_OVER} clients are handed over and not yet delivered in a JVM; a
 * bundle that would hand over more waits for room. A crash loses what was handed over: the ledger
 * shows the fan-out unfinished, and the next start reads the campaign again ({@code ReplayPlan}),
 * as after a crash inside a micro-batch. A delivery that fails for good (not an outage, which is
 * waited out) is thrown from the next bundle's end in this JVM, so the pipeline fails as it did
 * when the bundle delivered the slice itself, and the next start delivers the rest.
 *
 * <p>Made when a JVM first hands a big campaign's slice over, closed (its producer let go, its
 * threads stopped) once nothing was handed over for {@link #CLOSE_AFTER_IDLE_SECONDS}.
 */
final class BesideBundles {
  private static final Logger LOG = LoggerFactory.getLogger(BesideBundles.class);

  /** Clients handed over and not yet delivered, per JVM: about 100 MB of client ids. */
  static final int CLIENTS_HANDED_OVER = 1_000_000;

  /**
   * Idle this long, a JVM's delivery beside the bundles is closed; the next big slice opens one.
   */
  static final int CLOSE_AFTER_IDLE_SECONDS = 30;

  /**
   * Slices in delivery at once: as many as the delivery steps of one task per core would have (the
   * JVM runs a task per core), so that a big campaign goes no slower beside the bundles.
   */
  static final int THREADS =
      DeliverNotifications.DeliverFn.PARALLELISM * Runtime.getRuntime().availableProcessors();

  private static final Map<List<Object>, BesideBundles> IN_THIS_JVM = new ConcurrentHashMap<>();

  /** Closes the idle ones, for every delivery of the JVM. */
  private static final ScheduledExecutorService CLOSER =
      Executors.newSingleThreadScheduledExecutor(
          task -> {
            Thread thread = new Thread(task, "delivery-beside-bundles-closer");
            thread.setDaemon(true);
            return thread;
          });

  static {
    CLOSER.scheduleWithFixedDelay(
        BesideBundles::closeIdle,
        CLOSE_AFTER_IDLE_SECONDS,
        CLOSE_AFTER_IDLE_SECONDS / 3,
        TimeUnit.SECONDS);
  }

  private final DeliverNotifications.DeliverFn fn;
  private final ExecutorService workers;
  private final Semaphore room = new Semaphore(CLIENTS_HANDED_OVER);
  private final AtomicLong delivered = new AtomicLong();
  private final AtomicReference<Exception> failed = new AtomicReference<>();
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

  /**
   * Hands {@code slice} to the JVM's delivery beside the bundles for {@code key} (the sinks it
   * delivers to), made with {@code fn} if there is none, waiting while it has no room.
   */
  static void handOver(List<Object> key, Supplier<DeliverNotifications.DeliverFn> fn, Slice slice)
      throws InterruptedException {
    while (true) {
      BesideBundles beside =
          IN_THIS_JVM.computeIfAbsent(
              key,
              k -> {
                DeliverNotifications.DeliverFn set = fn.get();
                set.setup();
                return new BesideBundles(set);
              });
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
   * failure of a delivery there.
   */
  static long countSinceLastBundle(List<Object> key) {
    BesideBundles beside = IN_THIS_JVM.get(key);
    return beside == null ? 0 : beside.countSinceLastBundle();
  }

  private static void closeIdle() {
    IN_THIS_JVM.forEach(
        (key, beside) -> {
          if (beside.closeIfIdle()) {
            IN_THIS_JVM.remove(key, beside);
          }
        });
  }

  private synchronized boolean closeIfIdle() {
    if (closed
        || handedOver > 0
        || System.nanoTime() - idleSinceNanos < CLOSE_AFTER_IDLE_SECONDS * 1_000_000_000L) {
      return false;
    }
    closed = true;
    workers.shutdown();
    fn.teardown();
    return true;
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

  /** Whether {@code slice} is one of several of its fan-out: a big campaign's. */
  static boolean isOfBigFanOut(Slice slice) {
    return slice.fanOutId() != null && !(slice.number() == 1 && slice.ofSlices() == 1);
  }

  /** Hands the slice over, waiting while the JVM has no room for its clients; false if closed. */
  private boolean submit(Slice slice) throws InterruptedException {
    if (!open()) {
      return false;
    }
    int clients = Math.max(1, slice.size());
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
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
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

  /**
   * Notifications delivered since the last call, with the delivery's other counts added to Beam's
   * metrics on the calling (runner's) thread; throws a failure of a delivery here.
   */
  private long countSinceLastBundle() {
    Exception failure = failed.get();
    if (failure != null) {
      throw new IllegalStateException(
          "A big campaign's delivery beside the micro-batches failed: " + failure.getMessage(),
          failure);
    }
    long count = delivered.getAndSet(0);
    fn.count(count);
    return count;
  }
}
