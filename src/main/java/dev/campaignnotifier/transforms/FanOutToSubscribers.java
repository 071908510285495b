package dev.campaignnotifier.transforms;

import dev.campaignnotifier.model.Campaign;
import dev.campaignnotifier.model.Notification;
import dev.campaignnotifier.model.SubscriberSnapshot;
import java.util.List;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionView;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes one notification per subscriber of the campaign's restaurant, stamped with the moment of
 * fan-out. The end is checked once more here, against the clock at fan-out, so a campaign that
 * ended while it waited (for its start, or for the first subscriber snapshot) notifies nobody.
 */
public final class FanOutToSubscribers
    extends PTransform<PCollection<Campaign>, PCollection<Notification>> {
  private final PCollectionView<SubscriberSnapshot> subscribers;
  private final Clock clock;

  public FanOutToSubscribers(PCollectionView<SubscriberSnapshot> subscribers, Clock clock) {
    this.subscribers = subscribers;
    this.clock = clock;
  }

  @Override
  public PCollection<Notification> expand(PCollection<Campaign> campaigns) {
    return campaigns
        .apply(
            "NotifyEachSubscriber",
            ParDo.of(new FanOutFn(clock)).withSideInput(FanOutFn.SUBSCRIBERS, subscribers))
        .setCoder(Notification.NotificationCoder.of());
  }

  static final class FanOutFn extends DoFn<Campaign, Notification> {
    static final String SUBSCRIBERS = "subscribers";
    private static final Logger LOG = LoggerFactory.getLogger(FanOutToSubscribers.class);

    private final Clock clock;
    private final Counter fannedOut = Metrics.counter("campaigns", "fannedOut");
    private final Counter endedBeforeFanOut = Metrics.counter("campaigns", "endedBeforeFanOut");
    private final Counter notifications = Metrics.counter("notifications", "fannedOut");

    FanOutFn(Clock clock) {
      this.clock = clock;
    }

    @ProcessElement
    public void process(
        @Element Campaign campaign,
        @SideInput(SUBSCRIBERS) SubscriberSnapshot snapshot,
        OutputReceiver<Notification> out) {
      long now = clock.nowEpochSecond();
      if (campaign.hasEndedBy(now)) {
        endedBeforeFanOut.inc();
        LOG.info("Campaign {} ended before fan-out; nothing sent", campaign.advCampaignId());
        return;
      }
      List<String> clients = snapshot.clientsOf(campaign.restaurantId());
      for (String client : clients) {
        out.output(new Notification(campaign, client, now));
      }
      fannedOut.inc();
      notifications.inc(clients.size());
      LOG.info(
          "Fanned out campaign {} of restaurant {} to {} subscribers",
          campaign.advCampaignId(),
          campaign.restaurantId(),
          clients.size());
    }
  }
}
