package dev.campaignnotifier.ops;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs how far the delivery of a big campaign has got, every {@link #PERIOD_SECONDS} s while it is
 * delivered ("Campaign X: 400,000 of 1,000,000 delivered, 52,000/s, about 12 s left") and once when
 * it is done. The count comes from the delivery ledger, which every worker writes in the same
 * transaction as a slice's feedback rows, so the line is true on every runner however the slices
 * were spread; it costs one indexed query per big campaign per period.
 *
 * <p>The fan-out that made the campaign's slices follows it ({@link #follow}) once it has made more
 * than {@link #BIG} notifications: one reporter per JVM, on a daemon thread.
 */
public final class CampaignProgress {
  /** Campaigns with more notifications than this are followed. */
  public static final long BIG = 100_000;

  static final long PERIOD_SECONDS = 5;

  /** A campaign with nothing delivered for this long is no longer followed (its worker failed). */
  static final long GIVE_UP_NANOS = TimeUnit.MINUTES.toNanos(10);

  private static final Logger LOG = LoggerFactory.getLogger(CampaignProgress.class);
  private static volatile CampaignProgress shared;

  /**
   * How many slices of one fan-out the ledger holds, whether its last one is among them, and the
   * milliseconds from the first of them recorded to the last.
   */
  public record Recorded(long slices, boolean lastOne, long spanMillis) {}

  /** Reads the delivery ledger. */
  @FunctionalInterface
  public interface Ledger {
    Recorded recorded(String campaignId, String fanOutId) throws Exception;
  }

  /** One fan-out being followed; the fan-out tells it how much it has made. */
  public static final class Followed {
    private final String campaignId;
    private final String fanOutId;
    private final int sliceSize;
    private final Ledger ledger;
    private volatile long fannedOut;
    private volatile long total = -1;
    private volatile long slices;
    private long lastDelivered;
    private long lastNanos;
    private long lastChangeNanos;

    private Followed(
        String campaignId, String fanOutId, int sliceSize, Ledger ledger, long nowNanos) {
      this.campaignId = campaignId;
      this.fanOutId = fanOutId;
      this.sliceSize = sliceSize;
      this.ledger = ledger;
      this.lastNanos = nowNanos;
      this.lastChangeNanos = nowNanos;
    }

    /** The fan-out has made this many notifications so far. */
    public void fannedOut(long notifications) {
      fannedOut = notifications;
    }

    /** The fan-out is complete: {@code total} notifications in {@code slices} slices. */
    public void finished(long total, long slices) {
      this.fannedOut = total;
      this.slices = slices;
      this.total = total;
    }

    private long delivered(Recorded recorded) {
      long known = total;
      if (recorded.lastOne() && known >= 0) {
        long lastSlice = known - (slices - 1) * sliceSize;
        return (recorded.slices() - 1) * sliceSize + lastSlice;
      }
      return known >= 0
          ? Math.min(known, recorded.slices() * sliceSize)
          : recorded.slices() * sliceSize;
    }

    /** The line for now, or null if the ledger cannot be read; updates the rate's baseline. */
    private String report(long nowNanos) {
      Recorded recorded;
      try {
        recorded = ledger.recorded(campaignId, fanOutId);
      } catch (Exception e) {
        LOG.debug("Progress of campaign {} unknown: {}", campaignId, e.toString());
        return null;
      }
      long delivered = delivered(recorded);
      long known = total;
      double seconds = Math.max(1e-3, (nowNanos - lastNanos) / 1e9);
      long perSecond = Math.round((delivered - lastDelivered) / seconds);
      if (delivered != lastDelivered) {
        lastChangeNanos = nowNanos;
      }
      lastDelivered = delivered;
      lastNanos = nowNanos;
      if (known >= 0 && recorded.lastOne() && recorded.slices() >= slices) {
        // The ledger's own times: the reporter only looks every few seconds.
        double all = Math.max(1e-3, recorded.spanMillis() / 1e3);
        return String.format(
            Locale.ROOT,
            "Campaign %s: all %,d delivered in %.1f s (first to last slice recorded), %,d/s",
            campaignId,
            known,
            all,
            Math.round(known / all));
      }
      if (known < 0) {
        return String.format(
            Locale.ROOT,
            "Campaign %s: %,d delivered, %,d fanned out so far, %,d/s",
            campaignId,
            delivered,
            fannedOut,
            perSecond);
      }
      if (perSecond <= 0) {
        return String.format(
            Locale.ROOT,
            "Campaign %s: %,d of %,d delivered, none in the last %.0f s",
            campaignId,
            delivered,
            known,
            seconds);
      }
      return String.format(
          Locale.ROOT,
          "Campaign %s: %,d of %,d delivered, %,d/s, about %,d s left",
          campaignId,
          delivered,
          known,
          perSecond,
          (long) Math.ceil((known - delivered) / (double) perSecond));
    }

    private boolean done() {
      return total >= 0 && lastDelivered >= total;
    }
  }

  private final Map<String, Followed> followed = new ConcurrentHashMap<>();
  private final LongSupplier nanos;

  CampaignProgress(LongSupplier nanos) {
    this.nanos = nanos;
  }

  /** Starts following a fan-out on this JVM's reporter. */
  public static Followed follow(String campaignId, String fanOutId, int sliceSize, Ledger ledger) {
    return shared().add(campaignId, fanOutId, sliceSize, ledger);
  }

  private static CampaignProgress shared() {
    if (shared == null) {
      synchronized (CampaignProgress.class) {
        if (shared == null) {
          CampaignProgress progress = new CampaignProgress(System::nanoTime);
          ScheduledExecutorService timer =
              Executors.newSingleThreadScheduledExecutor(
                  task -> {
                    Thread thread = new Thread(task, "campaign-progress");
                    thread.setDaemon(true);
                    return thread;
                  });
          timer.scheduleWithFixedDelay(
              () -> progress.report().forEach(LOG::info),
              PERIOD_SECONDS,
              PERIOD_SECONDS,
              TimeUnit.SECONDS);
          shared = progress;
        }
      }
    }
    return shared;
  }

  Followed add(String campaignId, String fanOutId, int sliceSize, Ledger ledger) {
    Followed f = new Followed(campaignId, fanOutId, sliceSize, ledger, nanos.getAsLong());
    followed.put(fanOutId, f);
    return f;
  }

  /** One line per followed campaign; those done, or stalled for ten minutes, are let go. */
  List<String> report() {
    long now = nanos.getAsLong();
    List<String> lines = new ArrayList<>();
    for (Followed f : followed.values()) {
      String line = f.report(now);
      if (line != null) {
        lines.add(line);
      }
      if (f.done()) {
        followed.remove(f.fanOutId);
      } else if (now - f.lastChangeNanos > GIVE_UP_NANOS) {
        followed.remove(f.fanOutId);
        lines.add(
            String.format(
                Locale.ROOT,
                "Campaign %s: nothing delivered for %d min; no longer following its progress",
                f.campaignId,
                TimeUnit.NANOSECONDS.toMinutes(GIVE_UP_NANOS)));
      }
    }
    return lines;
  }
}
