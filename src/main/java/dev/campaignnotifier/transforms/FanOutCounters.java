package dev.campaignnotifier.transforms;

import java.io.Serializable;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;

/** What a fan-out counts, in one go or in turns: the README's metrics of the fan-out step. */
final class FanOutCounters implements Serializable {
  private static final long serialVersionUID = 1L;

  final Counter endedBeforeFanOut = Metrics.counter("campaigns", "endedBeforeFanOut");
  final Counter alreadyFinished = Metrics.counter("campaigns", "alreadyFinished");
  private final Counter fannedOut = Metrics.counter("campaigns", "fannedOut");
  private final Counter notifications = Metrics.counter("notifications", "fannedOut");
  private final Counter alreadyDelivered = Metrics.counter("notifications", "alreadyDelivered");

  /** A fan-out done: {@code sent} notifications made of {@code clients} subscribers read. */
  void fannedOut(long sent, long clients) {
    fannedOut.inc();
    notifications.inc(sent);
    alreadyDelivered.inc(clients - sent);
  }
}
