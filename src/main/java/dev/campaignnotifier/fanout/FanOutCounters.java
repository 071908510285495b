package dev.campaignnotifier.fanout;

import dev.campaignnotifier.delivery.DeliveryLedger;
import dev.campaignnotifier.model.Campaign;
import java.io.Serializable;
import java.util.concurrent.atomic.AtomicLongArray;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a fan-out decides before it starts and counts when it ends, in one go or in turns: the
 * docs/operations.md's metrics of the fan-out step.
 */
final class FanOutCounters implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(FanOutToSubscribers.class);

  private final Counter endedBeforeFanOut = Metrics.counter("campaigns", "endedBeforeFanOut");
  private final Counter alreadyFinished = Metrics.counter("campaigns", "alreadyFinished");
  private final Counter fannedOut = Metrics.counter("campaigns", "fannedOut");
  private final Counter notifications = Metrics.counter("notifications", "fannedOut");
  private final Counter alreadyDelivered = Metrics.counter("notifications", "alreadyDelivered");
  private final Counter stopped = Metrics.counter("campaigns", "fanOutsStopped");

  /**
   * What fan-outs beside the bundles counted ({@link #beside}), on threads where Beam's metrics
   * count nothing: fan-outs, notifications, already delivered, stopped; added to the step's metrics
   * on the runner's thread ({@link #addBeside}).
   */
  private static final AtomicLongArray BESIDE = new AtomicLongArray(4);

  private final boolean beside;

  FanOutCounters() {
    this(false);
  }

  private FanOutCounters(boolean beside) {
    this.beside = beside;
  }

  /** The same counts, kept until {@link #addBeside}: for a fan-out beside the bundles. */
  FanOutCounters beside() {
    return new FanOutCounters(true);
  }

  /** Adds what the fan-outs beside the bundles counted since the last call to the metrics. */
  void addBeside() {
    fannedOut.inc(BESIDE.getAndSet(0, 0));
    notifications.inc(BESIDE.getAndSet(1, 0));
    alreadyDelivered.inc(BESIDE.getAndSet(2, 0));
    stopped.inc(BESIDE.getAndSet(3, 0));
  }

  /**
   * Whether the campaign is to be fanned out, given what an earlier fan-out delivered of it ({@code
   * before}, {@link AskDelivered}); false (counted and logged) when it has ended by {@code now}, or
   * when an earlier fan-out delivered it in full: after a restart a campaign may be read again (see
   * ReplayPlan), and one the ledger says is finished is skipped without reading who has it; in one
   * cut short, the fan-out skips the clients it reached, so the replay completes it without
   * repeating it.
   */
  boolean toFanOut(Campaign campaign, long now, DeliveryLedger.Before before) {
    if (campaign.hasEndedBy(now)) {
      endedBeforeFanOut.inc();
      LOG.info("Campaign {} ended before fan-out; nothing sent", campaign.advCampaignId());
      return false;
    }
    if (before == DeliveryLedger.Before.IN_FULL) {
      alreadyFinished.inc();
      LOG.info("Campaign {} was delivered in full before; nothing sent", campaign.advCampaignId());
      return false;
    }
    return true;
  }

  /** A fan-out done: {@code sent} notifications made of {@code clients} subscribers read. */
  void fannedOut(long sent, long clients) {
    if (beside) {
      BESIDE.addAndGet(0, 1);
      BESIDE.addAndGet(1, sent);
      BESIDE.addAndGet(2, clients - sent);
      return;
    }
    fannedOut.inc();
    notifications.inc(sent);
    alreadyDelivered.inc(clients - sent);
  }

  /** A fan-out stopped before its end: its campaign changed so that nothing more may be sent. */
  void stopped() {
    if (beside) {
      BESIDE.addAndGet(3, 1);
      return;
    }
    stopped.inc();
  }
}
