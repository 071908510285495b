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
 * Fans out and delivers big campaigns beside the bundles, in this JVM, so that a bundle ends once
 * they are handed over: on Spark a bundle is a micro-batch's partition, and the next micro-batch,
 * with the small campaigns published meanwhile, waited for the whole fan-out and delivery of a big
 * one ({@code RunnerProfile#deliversBigBeside}: on a local master only, where the driver's JVM is
 * the one worker). The fan-out step hands a big campaign over whole ({@link #fanOut}): one thread
 * reads its subscribers and cuts its slices as the fan-out in the bundle would ({@link
 * DeliverNotifications.FanOut}), and each slice goes to the same delivery ({@link
 * DeliverNotifications.DeliverFn#deliver}: the same sinks, checks and ledger) on threads of its
 * own, one slice per parcel, as soon as it is cut. The delivery step hands over the slices of a big
 * fan-out that reach it all the same ({@link #handOver}).
 *
 * <p>At most {@code --deliveryBesideClients} clients are handed over and not yet delivered in a
 * JVM; a fan-out that would hand over more waits for room. A stop of the service waits for what was
 * handed over ({@link #finishAll}); a crash loses it, and the ledger shows the fan-out unfinished,
 * so the next start reads the campaign again ({@code ReplayPlan}), as after a crash inside a
 * micro-batch. A fan-out or delivery that fails for good (not an outage, which is waited out) fails
 * every later bundle of this JVM that hands something over or delivers, so the pipeline fails as it
 * did when the bundle did the work itself, and the next start delivers the rest.
 *
 * <p>Made when a JVM first hands a big campaign or slice over, closed (its producer let go, its
 * threads stopped) once nothing was handed over for {@link #CLOSE_AFTER_IDLE_SECONDS}.
 */
final class BesideBundles {
  private static final Logger LOG = LoggerFactory.getLogger(BesideBundles.class);

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

  /** How often a hand-over waiting for room looks whether the service stops meanwhile. */
  private static final long ROOM_CHECK_MILLIS = 200;

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
  private final ExecutorService fanOuts;
  private final int clientsHandedOver;
  private final Semaphore room;
  private final AtomicLong delivered = new AtomicLong();
  private final AtomicReference<Throwable> failed = new AtomicReference<>();
  private int handedOver;
  private long idleSinceNanos = System.nanoTime();
  private volatile boolean closed;

  private BesideBundles(DeliverNotifications.DeliverFn fn) {
    this.fn = fn;
    this.clientsHandedOver = fn.besideClients();
    this.room = new Semaphore(clientsHandedOver);
    this.workers = threads(THREADS, "delivery-beside-bundles");
    // One big campaign read at a time: its slices keep the delivery's threads busy.
    this.fanOuts = threads(1, "fan-out-beside-bundles");
  }

  private static ExecutorService threads(int count, String name) {
    return Executors.newFixedThreadPool(
        count,
        task -> {
          Thread thread = new Thread(task, name);
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
      BesideBundles beside =
          inThisJvm(
              key,
              fn,
              "slice " + slice.number() + " of campaign " + slice.campaign().advCampaignId());
      if (beside.deliver(slice)) {
        return;
      }
      // Closed meanwhile: it has left the map, the next turn makes another.
      IN_THIS_JVM.remove(key, beside);
    }
  }

  /**
   * Hands the fan-out of campaign {@code campaignId} to the JVM's delivery beside the bundles for
   * {@code key}, made with {@code fn} if there is none, and returns at once; throws a failure of an
   * earlier fan-out or delivery there.
   */
  static void fanOut(
      List<Object> key,
      Supplier<DeliverNotifications.DeliverFn> fn,
      String campaignId,
      DeliverNotifications.FanOut fanOut) {
    while (true) {
      BesideBundles beside = inThisJvm(key, fn, "the fan-out of campaign " + campaignId);
      if (beside.startFanOut(campaignId, fanOut)) {
        return;
      }
      IN_THIS_JVM.remove(key, beside);
    }
  }

  /** The JVM's delivery for {@code key}, made if there is none; throws if it failed or stops. */
  private static BesideBundles inThisJvm(
      List<Object> key, Supplier<DeliverNotifications.DeliverFn> fn, String what) {
    if (stopping) {
      throw new IllegalStateException(
          "The service is stopping: " + what + " is left to the next start");
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
    return beside;
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
      // A fan-out under way hands nothing more over (closed): what it has not cut is left.
      for (ExecutorService threads : List.of(beside.fanOuts, beside.workers)) {
        long left = Math.max(0, deadline - System.nanoTime());
        if (!threads.awaitTermination(left, TimeUnit.NANOSECONDS)) {
          all = false;
          threads.shutdownNow();
        }
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
          "A big campaign's fan-out or delivery beside the micro-batches failed: "
              + failure.getMessage(),
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

  /** Refuses new slices and fan-outs; the slices handed over are still delivered. */
  private synchronized void close() {
    closed = true;
    fanOuts.shutdown();
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

  /**
   * Hands the fan-out over to the fan-out thread, which hands each slice it cuts to the delivery's
   * threads, waiting for room; false if closed.
   */
  private boolean startFanOut(String campaignId, DeliverNotifications.FanOut fanOut) {
    if (!open()) {
      return false;
    }
    try {
      fanOuts.execute(
          () -> {
            try {
              if (closed) {
                // Queued when the stop began: not read at all.
                LOG.info(
                    "The fan-out of campaign {} beside the micro-batches is left to the next"
                        + " start (the service is stopping)",
                    campaignId);
                return;
              }
              fanOut.run(
                  slice -> {
                    try {
                      if (failed.get() != null || !deliver(slice)) {
                        throw new IllegalStateException(
                            "The service is stopping, or a fan-out or delivery beside the"
                                + " micro-batches failed: the rest is left to the next start");
                      }
                    } catch (InterruptedException e) {
                      throw new FanOutInterrupted(e);
                    }
                  });
            } catch (Throwable e) {
              Throwable cause = e instanceof FanOutInterrupted ? e.getCause() : e;
              if (stopping) {
                LOG.info(
                    "The fan-out of campaign {} beside the micro-batches stopped with the service;"
                        + " the next start delivers what is left",
                    campaignId);
                return;
              }
              LOG.error(
                  "The fan-out of campaign {} beside the micro-batches failed; the pipeline fails"
                      + " at its next bundle, and the next start delivers what is left",
                  campaignId,
                  cause);
              failed.compareAndSet(null, cause);
            } finally {
              done();
            }
          });
    } catch (RuntimeException e) {
      done();
      throw e;
    }
    return true;
  }

  /** An interruption carried out of a fan-out's hand-over of a slice. */
  private static final class FanOutInterrupted extends RuntimeException {
    private static final long serialVersionUID = 1L;

    FanOutInterrupted(InterruptedException cause) {
      super(cause);
    }
  }

  /**
   * Hands the slice to the delivery's threads, waiting while the JVM has no room for its clients;
   * false if closed, also while it waits.
   */
  private boolean deliver(Slice slice) throws InterruptedException {
    if (!open()) {
      return false;
    }
    int clients = Math.min(clientsHandedOver, Math.max(1, slice.size()));
    try {
      while (!room.tryAcquire(clients, ROOM_CHECK_MILLIS, TimeUnit.MILLISECONDS)) {
        if (closed) {
          done();
          return false;
        }
      }
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
