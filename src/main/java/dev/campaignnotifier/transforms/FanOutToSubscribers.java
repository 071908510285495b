package dev.campaignnotifier.transforms;

import dev.campaignnotifier.io.CampaignVersions;
import dev.campaignnotifier.io.DeliveryLedger;
import dev.campaignnotifier.io.FeedbackTable;
import dev.campaignnotifier.io.Retry;
import dev.campaignnotifier.model.Campaign;
import dev.campaignnotifier.model.NotificationBatch;
import dev.campaignnotifier.ops.CampaignProgress;
import dev.campaignnotifier.options.RunnerProfile;
import dev.campaignnotifier.subscribers.SubscriberReader;
import dev.campaignnotifier.subscribers.SubscriberSource;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.sql.DataSource;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.beam.sdk.values.PCollection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes one notification per subscriber of the campaign's restaurant, stamped with the moment of
 * fan-out, in slices of {@code batchSize} ({@link NotificationBatch}). The end is checked once more
 * here, against the clock at fan-out, so a campaign that ended while it waited (for its start, or
 * for the first subscriber snapshot) notifies nobody.
 *
 * <p>The subscribers come from a {@link SubscriberSource}: the snapshot side input or a lookup
 * query, whichever {@code --subscribers} chose; this step reads them client by client and never
 * holds more than one slice of its own.
 */
public final class FanOutToSubscribers
    extends PTransform<PCollection<Campaign>, PCollection<NotificationBatch>> {
  /**
   * What has been delivered of a campaign already: whether a fan-out of it was recorded in full
   * (the delivery ledger), and which clients have a feedback row for it.
   */
  @FunctionalInterface
  public interface Delivered extends Serializable {
    Set<String> clientsOf(String campaignId) throws InterruptedException;

    /**
     * What was delivered before of each of the campaigns: asked once for a bundle of campaigns
     * before their fan-outs begin ({@link AskDelivered}).
     */
    default Map<String, DeliveryLedger.Before> beforeAmong(Collection<String> campaignIds)
        throws InterruptedException {
      Map<String, DeliveryLedger.Before> before = new HashMap<>();
      for (String id : campaignIds) {
        before.put(
            id,
            finished(id)
                ? DeliveryLedger.Before.IN_FULL
                : anyDelivered(id) ? DeliveryLedger.Before.SOME : DeliveryLedger.Before.NOTHING);
      }
      return before;
    }

    /** True if a fan-out of the campaign was delivered and recorded in full. */
    default boolean finished(String campaignId) throws InterruptedException {
      return false;
    }

    /** True if anyone has had the campaign (a feedback row). */
    default boolean anyDelivered(String campaignId) throws InterruptedException {
      return !clientsOf(campaignId).isEmpty();
    }

    /** Notes that a fan-out found nobody left to notify. */
    default void nothingLeft(String campaignId, String fanOutId) throws InterruptedException {}

    /** Those of {@code clients} that have had the campaign (a feedback row). */
    default Set<String> deliveredAmong(String campaignId, Collection<String> clients)
        throws InterruptedException {
      Set<String> among = new HashSet<>(clientsOf(campaignId));
      among.retainAll(clients);
      return among;
    }

    /** Where the progress of a big fan-out is read from; none by default. */
    default CampaignProgress.Ledger ledger() {
      return null;
    }

    /**
     * The delivery ledger and the feedback table, read with {@link Retry} while PostgreSQL is
     * unreachable.
     */
    static Delivered fromFeedbackTable(SerializableFunction<Void, DataSource> dataSource) {
      return fromFeedbackTable(dataSource, Set.of());
    }

    /**
     * As {@link #fromFeedbackTable(SerializableFunction)}, taking {@code deliveredInFull} (the
     * replay plan's answer at start) as finished without asking the ledger again.
     */
    static Delivered fromFeedbackTable(
        SerializableFunction<Void, DataSource> dataSource, Set<String> deliveredInFull) {
      Set<String> known = new HashSet<>(deliveredInFull);
      return new Delivered() {
        private static final long serialVersionUID = 1L;

        @Override
        public Set<String> clientsOf(String campaignId) throws InterruptedException {
          return Retry.sql(
              "read the clients already notified of campaign " + campaignId,
              LOG,
              Metrics.counter("campaigns", "postgresRetries")::inc,
              () -> FeedbackTable.deliveredClients(dataSource.apply(null), campaignId));
        }

        @Override
        public boolean finished(String campaignId) throws InterruptedException {
          if (known.contains(campaignId)) {
            return true;
          }
          return Retry.sql(
              "read the delivery ledger of campaign " + campaignId,
              LOG,
              Metrics.counter("campaigns", "postgresRetries")::inc,
              () -> DeliveryLedger.finished(dataSource.apply(null), campaignId));
        }

        @Override
        public Map<String, DeliveryLedger.Before> beforeAmong(Collection<String> campaignIds)
            throws InterruptedException {
          Map<String, DeliveryLedger.Before> before = new HashMap<>();
          List<String> toAsk = new ArrayList<>();
          for (String id : campaignIds) {
            if (known.contains(id)) {
              before.put(id, DeliveryLedger.Before.IN_FULL);
            } else {
              toAsk.add(id);
            }
          }
          if (!toAsk.isEmpty()) {
            before.putAll(
                Retry.sql(
                    "read what was delivered of " + toAsk.size() + " campaign(s)",
                    LOG,
                    Metrics.counter("campaigns", "postgresRetries")::inc,
                    () -> DeliveryLedger.beforeAmong(dataSource.apply(null), toAsk)));
          }
          return before;
        }

        @Override
        public boolean anyDelivered(String campaignId) throws InterruptedException {
          return Retry.sql(
              "read whether anyone has had campaign " + campaignId,
              LOG,
              Metrics.counter("campaigns", "postgresRetries")::inc,
              () -> FeedbackTable.anyDelivered(dataSource.apply(null), campaignId));
        }

        @Override
        public Set<String> deliveredAmong(String campaignId, Collection<String> clients)
            throws InterruptedException {
          return Retry.sql(
              "read which of " + clients.size() + " clients have campaign " + campaignId,
              LOG,
              Metrics.counter("campaigns", "postgresRetries")::inc,
              () -> FeedbackTable.deliveredAmong(dataSource.apply(null), campaignId, clients));
        }

        @Override
        public CampaignProgress.Ledger ledger() {
          return (campaignId, fanOutId) ->
              DeliveryLedger.recorded(dataSource.apply(null), campaignId, fanOutId);
        }

        @Override
        public void nothingLeft(String campaignId, String fanOutId) throws InterruptedException {
          Retry.sql(
              "write the delivery ledger of campaign " + campaignId,
              LOG,
              Metrics.counter("campaigns", "postgresRetries")::inc,
              () -> {
                DeliveryLedger.recordEmptyFanOut(dataSource.apply(null), campaignId, fanOutId);
                return null;
              });
        }
      };
    }
  }

  private static final Logger LOG = LoggerFactory.getLogger(FanOutToSubscribers.class);

  private final SubscriberSource subscribers;
  private final Delivered delivered;
  private final Clock clock;
  private final int batchSize;
  private final int slicesPerTurn;
  private final boolean turnsOnTimer;
  private final CampaignVersions versions;

  public FanOutToSubscribers(
      SubscriberSource subscribers, Delivered delivered, Clock clock, int batchSize) {
    this(subscribers, delivered, clock, batchSize, 0, false);
  }

  /** Turns, if any, as a splittable DoFn's resumes. */
  public FanOutToSubscribers(
      SubscriberSource subscribers,
      Delivered delivered,
      Clock clock,
      int batchSize,
      int slicesPerTurn) {
    this(subscribers, delivered, clock, batchSize, slicesPerTurn, false);
  }

  /**
   * @param slicesPerTurn 0: each campaign's slices in one call ({@link FanOutFn}); more: that many
   *     per turn, other campaigns taken between turns
   * @param turnsOnTimer the turns after the first on a processing-time timer ({@link
   *     TurnsOnTimerFn}: once per micro-batch on Spark; lookup mode only), instead of a splittable
   *     DoFn's resumes ({@link PacedFanOutFn})
   */
  public FanOutToSubscribers(
      SubscriberSource subscribers,
      Delivered delivered,
      Clock clock,
      int batchSize,
      int slicesPerTurn,
      boolean turnsOnTimer) {
    this(
        subscribers,
        delivered,
        CampaignVersions.NONE,
        clock,
        batchSize,
        slicesPerTurn,
        turnsOnTimer);
  }

  /**
   * @param versions the newest version of campaigns published again, asked before each turn: a
   *     fan-out of a campaign ended early stops, and one of a campaign whose text changed goes on
   *     with the new text
   */
  public FanOutToSubscribers(
      SubscriberSource subscribers,
      Delivered delivered,
      CampaignVersions versions,
      Clock clock,
      int batchSize,
      int slicesPerTurn,
      boolean turnsOnTimer) {
    this.versions = versions;
    this.subscribers = subscribers;
    this.delivered = delivered;
    this.clock = clock;
    this.batchSize = batchSize;
    this.slicesPerTurn = slicesPerTurn;
    this.turnsOnTimer = turnsOnTimer;
  }

  @Override
  public PCollection<NotificationBatch> expand(PCollection<Campaign> campaigns) {
    PCollection<AskDelivered.Asked> asked =
        campaigns
            .apply(
                "AskWhatWasDelivered",
                ParDo.of(
                    new AskDelivered(
                        delivered,
                        clock,
                        RunnerProfile.of(campaigns.getPipeline().getOptions())
                            .bundlesEndWithInput())))
            .setCoder(AskDelivered.AskedCoder.of());
    if (slicesPerTurn > 0 && turnsOnTimer) {
      return asked
          .apply(
              "KeyByShard",
              new CampaignShards<>(
                  (AskDelivered.Asked a) -> a.campaign().advCampaignId(),
                  AskDelivered.AskedCoder.of()))
          .apply(
              "NotifyEachSubscriber",
              ParDo.of(
                  new TurnsOnTimerFn(
                      subscribers, clock, delivered, versions, batchSize, slicesPerTurn)))
          .setCoder(NotificationBatch.BatchCoder.of());
    }
    DoFn<AskDelivered.Asked, NotificationBatch> fn =
        slicesPerTurn > 0
            ? new PacedFanOutFn(subscribers, clock, delivered, versions, batchSize, slicesPerTurn)
            : new FanOutFn(subscribers, clock, delivered, versions, batchSize);
    return asked
        .apply("NotifyEachSubscriber", ParDo.of(fn).withSideInputs(subscribers.sideInputs()))
        .setCoder(NotificationBatch.BatchCoder.of());
  }

  /**
   * A campaign's fan-out in one call: the clients read in one pass ({@link
   * SubscriberReader#forEachClient}, one query in lookup mode) and cut into turns as they come
   * ({@link FanOutTurns#cut}, {@link #SLICES_PER_READ} slices each), so the same slicer, numbering
   * and ledger marks as a fan-out in turns, never more than one turn of clients held.
   */
  static final class FanOutFn extends DoFn<AskDelivered.Asked, NotificationBatch> {
    /** Slices' worth of clients cut at a time. */
    static final int SLICES_PER_READ = 16;

    private final SubscriberSource subscribers;
    private final FanOutTurns turns;

    FanOutFn(
        SubscriberSource subscribers,
        Clock clock,
        Delivered delivered,
        CampaignVersions versions,
        int batchSize) {
      this.subscribers = subscribers;
      this.turns = new FanOutTurns(clock, delivered, versions, batchSize, SLICES_PER_READ);
    }

    @ProcessElement
    public void process(ProcessContext context) throws InterruptedException {
      Campaign campaign = context.element().campaign();
      FanOutTurns.Cursor begun = turns.begin(campaign, context.element().before());
      if (begun.done()) {
        return;
      }
      int turn = turns.clientsPerTurn();
      List<String> chunk = new ArrayList<>(turn + 1);
      FanOutTurns.Cursor[] at = {begun};
      try {
        subscribers
            .readerFor(context)
            .forEachClient(
                campaign.restaurantId(),
                client -> {
                  chunk.add(client);
                  if (chunk.size() > turn) {
                    // One more than a turn: the turn is not the last.
                    List<String> full = new ArrayList<>(chunk.subList(0, turn));
                    chunk.subList(0, turn).clear();
                    at[0] = outputTurn(campaign, at[0], full, false, context);
                  }
                });
      } catch (Interrupted e) {
        throw e.cause;
      }
      outputTurn(campaign, at[0], chunk, true, context);
    }

    private FanOutTurns.Cursor outputTurn(
        Campaign campaign,
        FanOutTurns.Cursor at,
        List<String> clients,
        boolean last,
        ProcessContext context) {
      try {
        FanOutTurns.Turn turn = turns.cut(campaign, at, clients, last);
        turns.output(campaign, turn, context::output);
        return turn.next();
      } catch (InterruptedException e) {
        throw new Interrupted(e);
      }
    }

    /** An interruption carried out of the reader's callback. */
    private static final class Interrupted extends RuntimeException {
      private static final long serialVersionUID = 1L;
      final InterruptedException cause;

      Interrupted(InterruptedException cause) {
        super(cause);
        this.cause = cause;
      }
    }
  }
}
