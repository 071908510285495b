package dev.campaignnotifier.transforms;

import dev.campaignnotifier.io.FeedbackTable;
import dev.campaignnotifier.io.Retry;
import dev.campaignnotifier.model.Campaign;
import dev.campaignnotifier.model.NotificationBatch;
import dev.campaignnotifier.model.SubscriberSnapshot;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import javax.sql.DataSource;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionView;
import org.joda.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes one notification per subscriber of the campaign's restaurant, stamped with the moment of
 * fan-out, in slices of {@code batchSize} ({@link NotificationBatch}). The end is checked once more
 * here, against the clock at fan-out, so a campaign that ended while it waited (for its start, or
 * for the first subscriber snapshot) notifies nobody.
 *
 * <p>A campaign never meets an empty, unloaded snapshot. The Direct and Flink runners hold a
 * campaign back until the side input has its first value. The Spark runner does not: it hands out
 * the view's default ({@link SubscriberSnapshot#notLoaded()}) until the first refresh lands, and
 * side inputs of stateful steps are never refreshed there, so parking the campaign in state would
 * not help. Instead the campaign waits here for a snapshot read directly from the same table with
 * the same query (see {@link BootstrapSnapshot}); every runner runs this same code.
 */
public final class FanOutToSubscribers
    extends PTransform<PCollection<Campaign>, PCollection<NotificationBatch>> {
  /** Who has been notified of a campaign already: the clients with a feedback row for it. */
  @FunctionalInterface
  public interface Delivered extends Serializable {
    Set<String> clientsOf(String campaignId) throws InterruptedException;
  }

  private final PCollectionView<SubscriberSnapshot> subscribers;
  private final BootstrapSnapshot bootstrap;
  private final Delivered delivered;
  private final Clock clock;
  private final int batchSize;

  public FanOutToSubscribers(
      PCollectionView<SubscriberSnapshot> subscribers,
      SerializableFunction<Void, DataSource> dataSource,
      Duration refresh,
      Clock clock,
      int batchSize) {
    this(
        subscribers,
        BootstrapSnapshot.of(dataSource, refresh),
        campaignId ->
            Retry.sql(
                "read the clients already notified of campaign " + campaignId,
                LoggerFactory.getLogger(FanOutToSubscribers.class),
                Metrics.counter("campaigns", "postgresRetries")::inc,
                () -> FeedbackTable.deliveredClients(dataSource.apply(null), campaignId)),
        clock,
        batchSize);
  }

  FanOutToSubscribers(
      PCollectionView<SubscriberSnapshot> subscribers,
      BootstrapSnapshot bootstrap,
      Delivered delivered,
      Clock clock,
      int batchSize) {
    this.subscribers = subscribers;
    this.bootstrap = bootstrap;
    this.delivered = delivered;
    this.clock = clock;
    this.batchSize = batchSize;
  }

  @Override
  public PCollection<NotificationBatch> expand(PCollection<Campaign> campaigns) {
    return campaigns
        .apply(
            "NotifyEachSubscriber",
            ParDo.of(new FanOutFn(clock, bootstrap, delivered, batchSize))
                .withSideInput(FanOutFn.SUBSCRIBERS, subscribers))
        .setCoder(NotificationBatch.BatchCoder.of());
  }

  static final class FanOutFn extends DoFn<Campaign, NotificationBatch> {
    static final String SUBSCRIBERS = "subscribers";
    private static final Logger LOG = LoggerFactory.getLogger(FanOutToSubscribers.class);

    private final Clock clock;
    private final BootstrapSnapshot bootstrap;
    private final Delivered delivered;
    private final int batchSize;
    private final Counter fannedOut = Metrics.counter("campaigns", "fannedOut");
    private final Counter endedBeforeFanOut = Metrics.counter("campaigns", "endedBeforeFanOut");
    private final Counter beforeFirstRefresh = Metrics.counter("campaigns", "beforeFirstRefresh");
    private final Counter notifications = Metrics.counter("notifications", "fannedOut");
    private final Counter alreadyDelivered = Metrics.counter("notifications", "alreadyDelivered");

    FanOutFn(Clock clock, BootstrapSnapshot bootstrap, Delivered delivered, int batchSize) {
      this.clock = clock;
      this.bootstrap = bootstrap;
      this.delivered = delivered;
      this.batchSize = batchSize;
    }

    @ProcessElement
    public void process(
        @Element Campaign campaign,
        @SideInput(SUBSCRIBERS) SubscriberSnapshot fromSideInput,
        OutputReceiver<NotificationBatch> out)
        throws InterruptedException {
      SubscriberSnapshot snapshot = fromSideInput;
      if (!snapshot.isLoaded()) {
        beforeFirstRefresh.inc();
        LOG.info(
            "Campaign {} arrived before the first subscriber refresh; waiting for a snapshot",
            campaign.advCampaignId());
        snapshot = bootstrap.get();
      }
      long now = clock.nowEpochSecond();
      if (campaign.hasEndedBy(now)) {
        endedBeforeFanOut.inc();
        LOG.info("Campaign {} ended before fan-out; nothing sent", campaign.advCampaignId());
        return;
      }
      List<String> clients = snapshot.clientsOf(campaign.restaurantId());
      // Normally empty. After a restart a campaign may be read again (see ReplayPlan); the clients
      // it reached before are skipped, so a replay completes a fan-out without repeating it.
      Set<String> done = delivered.clientsOf(campaign.advCampaignId());
      int sent = 0;
      List<String> slice = new ArrayList<>(Math.min(batchSize, clients.size()));
      for (String client : clients) {
        if (!done.contains(client)) {
          slice.add(client);
          sent++;
          if (slice.size() == batchSize) {
            out.output(new NotificationBatch(campaign, now, slice));
            slice = new ArrayList<>(batchSize);
          }
        }
      }
      if (!slice.isEmpty()) {
        out.output(new NotificationBatch(campaign, now, slice));
      }
      fannedOut.inc();
      notifications.inc(sent);
      alreadyDelivered.inc(clients.size() - sent);
      if (done.isEmpty()) {
        LOG.info(
            "Fanned out campaign {} of restaurant {} to {} subscribers",
            campaign.advCampaignId(),
            campaign.restaurantId(),
            sent);
      } else {
        LOG.info(
            "Fanned out campaign {} of restaurant {} to {} subscribers; {} had it already",
            campaign.advCampaignId(),
            campaign.restaurantId(),
            sent,
            clients.size() - sent);
      }
    }
  }
}
