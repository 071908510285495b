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
 * <p>The snapshot comes from the side input ({@link LoadSubscribers}), or, when the pipeline has
 * none ({@code subscribers} null: the Spark runner, see {@code CampaignNotifier.buildPipeline}),
 * from a {@link WorkerSnapshot} the worker reads itself on the same schedule.
 *
 * <p>A campaign never meets an empty, unloaded snapshot. The Direct and Flink runners hold a
 * campaign back until the side input has its first value; a runner that hands out the view's
 * default ({@link SubscriberSnapshot#notLoaded()}) instead makes the campaign wait here for a
 * {@link WorkerSnapshot} read with the same query.
 */
public final class FanOutToSubscribers
    extends PTransform<PCollection<Campaign>, PCollection<NotificationBatch>> {
  /** Who has been notified of a campaign already: the clients with a feedback row for it. */
  @FunctionalInterface
  public interface Delivered extends Serializable {
    Set<String> clientsOf(String campaignId) throws InterruptedException;
  }

  private final PCollectionView<SubscriberSnapshot> subscribers;
  private final WorkerSnapshot snapshots;
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
        WorkerSnapshot.of(dataSource, refresh),
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
      WorkerSnapshot snapshots,
      Delivered delivered,
      Clock clock,
      int batchSize) {
    this.subscribers = subscribers;
    this.snapshots = snapshots;
    this.delivered = delivered;
    this.clock = clock;
    this.batchSize = batchSize;
  }

  @Override
  public PCollection<NotificationBatch> expand(PCollection<Campaign> campaigns) {
    ParDo.SingleOutput<Campaign, NotificationBatch> fanOut =
        subscribers == null
            ? ParDo.of(new FromWorkerSnapshotFn(clock, snapshots, delivered, batchSize))
            : ParDo.of(new FromSideInputFn(clock, snapshots, delivered, batchSize))
                .withSideInput(FromSideInputFn.SUBSCRIBERS, subscribers);
    return campaigns
        .apply("NotifyEachSubscriber", fanOut)
        .setCoder(NotificationBatch.BatchCoder.of());
  }

  /** The fan-out itself, whichever way the snapshot arrives. */
  abstract static class FanOutFn extends DoFn<Campaign, NotificationBatch> {
    private static final Logger LOG = LoggerFactory.getLogger(FanOutToSubscribers.class);

    private final Clock clock;
    final WorkerSnapshot snapshots;
    private final Delivered delivered;
    private final int batchSize;
    private final Counter fannedOut = Metrics.counter("campaigns", "fannedOut");
    private final Counter endedBeforeFanOut = Metrics.counter("campaigns", "endedBeforeFanOut");
    final Counter beforeFirstRefresh = Metrics.counter("campaigns", "beforeFirstRefresh");
    private final Counter notifications = Metrics.counter("notifications", "fannedOut");
    private final Counter alreadyDelivered = Metrics.counter("notifications", "alreadyDelivered");

    FanOutFn(Clock clock, WorkerSnapshot snapshots, Delivered delivered, int batchSize) {
      this.clock = clock;
      this.snapshots = snapshots;
      this.delivered = delivered;
      this.batchSize = batchSize;
    }

    void fanOut(
        Campaign campaign, SubscriberSnapshot snapshot, OutputReceiver<NotificationBatch> out)
        throws InterruptedException {
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

  /** The snapshot from the side input; its default before the first value means "not loaded". */
  static final class FromSideInputFn extends FanOutFn {
    static final String SUBSCRIBERS = "subscribers";
    private static final Logger LOG = LoggerFactory.getLogger(FanOutToSubscribers.class);

    FromSideInputFn(Clock clock, WorkerSnapshot snapshots, Delivered delivered, int batchSize) {
      super(clock, snapshots, delivered, batchSize);
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
        snapshot = snapshots.get();
      }
      fanOut(campaign, snapshot, out);
    }
  }

  /** The snapshot this worker reads itself. */
  static final class FromWorkerSnapshotFn extends FanOutFn {
    FromWorkerSnapshotFn(
        Clock clock, WorkerSnapshot snapshots, Delivered delivered, int batchSize) {
      super(clock, snapshots, delivered, batchSize);
    }

    @ProcessElement
    public void process(@Element Campaign campaign, OutputReceiver<NotificationBatch> out)
        throws InterruptedException {
      fanOut(campaign, snapshots.get(), out);
    }
  }
}
