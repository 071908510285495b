package dev.campaignnotifier.fanout;

import dev.campaignnotifier.campaigns.CampaignShards;
import dev.campaignnotifier.campaigns.CampaignVersions;
import dev.campaignnotifier.delivery.DeliverNotifications;
import dev.campaignnotifier.delivery.Delivered;
import dev.campaignnotifier.model.Campaign;
import dev.campaignnotifier.model.Clock;
import dev.campaignnotifier.model.Slice;
import dev.campaignnotifier.runner.RunnerProfile;
import dev.campaignnotifier.subscribers.SubscriberReader;
import dev.campaignnotifier.subscribers.SubscriberSource;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes one notification per subscriber of the campaign's restaurant, stamped with the moment of
 * fan-out, in slices of {@code sliceSize} ({@link Slice}). The end is checked once more here,
 * against the clock at fan-out, so a campaign that ended while it waited (for its start, or for the
 * first subscriber snapshot) notifies nobody.
 *
 * <p>The subscribers come from a {@link SubscriberSource}: the snapshot side input or a lookup
 * query, whichever {@code --subscribers} chose; this step reads them client by client and never
 * holds more than one slice of its own.
 */
public final class FanOutToSubscribers
    extends PTransform<PCollection<Campaign>, PCollection<Slice>> {
  private static final Logger LOG = LoggerFactory.getLogger(FanOutToSubscribers.class);

  private final SubscriberSource subscribers;
  private final Delivered delivered;
  private final Clock clock;
  private final int sliceSize;
  private final int slicesPerTurn;
  private final CampaignVersions versions;
  private final RunnerProfile runner;
  private final DeliverNotifications.Beside beside;

  /**
   * @param delivered what an earlier run delivered, asked before a fan-out begins
   * @param versions the newest version of campaigns published again, asked before each turn: a
   *     fan-out of a campaign ended early stops, and one of a campaign whose text changed goes on
   *     with the new text ({@link CampaignVersions#NONE}: none)
   * @param sliceSize most clients per slice ({@code --deliverySliceSize})
   * @param slicesPerTurn 0: each campaign's slices in one call ({@link FanOutFn}); more: that many
   *     per turn, other campaigns taken between turns
   * @param runner how the runner takes turns: on a processing-time timer ({@link
   *     RunnerProfile#turnsOnTimer}: {@link TurnsOnTimerFn}, once per micro-batch on Spark; lookup
   *     mode only) or as a splittable DoFn's resumes ({@link PacedFanOutFn}); and whether a bundle
   *     of campaigns is asked about together ({@link RunnerProfile#bundlesEndWithInput})
   * @param beside where a big campaign is fanned out and delivered beside the bundles ({@link
   *     DeliverNotifications#beside}: a Spark local master, lookup mode, in one go); null: in them
   */
  public FanOutToSubscribers(
      SubscriberSource subscribers,
      Delivered delivered,
      CampaignVersions versions,
      Clock clock,
      int sliceSize,
      int slicesPerTurn,
      RunnerProfile runner,
      DeliverNotifications.Beside beside) {
    this.beside = beside;
    this.versions = versions;
    this.subscribers = subscribers;
    this.delivered = delivered;
    this.clock = clock;
    this.sliceSize = sliceSize;
    this.slicesPerTurn = slicesPerTurn;
    this.runner = runner;
  }

  @Override
  public PCollection<Slice> expand(PCollection<Campaign> campaigns) {
    boolean asksSubscribers =
        slicesPerTurn == 0
            && runner.bundlesEndWithInput()
            && subscribers.readerWithoutSideInput() != null;
    PCollection<AskDelivered.Asked> asked =
        campaigns
            .apply(
                "AskWhatWasDelivered",
                ParDo.of(
                    new AskDelivered(
                        delivered,
                        clock,
                        runner.bundlesEndWithInput(),
                        asksSubscribers ? subscribers.readerWithoutSideInput() : null,
                        Math.min(FanOutFn.FIRST_CLIENTS, sliceSize * FanOutFn.SLICES_PER_READ))))
            .setCoder(AskDelivered.AskedCoder.of());
    if (slicesPerTurn > 0 && runner.turnsOnTimer()) {
      return asked
          .apply(
              "KeyByShard",
              new CampaignShards<>(
                  (AskDelivered.Asked a) -> a.campaign().advCampaignId(),
                  AskDelivered.AskedCoder.of(),
                  runner.shards()))
          .apply(
              "NotifyEachSubscriber",
              ParDo.of(
                  new TurnsOnTimerFn(
                      subscribers, clock, delivered, versions, sliceSize, slicesPerTurn)))
          .setCoder(Slice.SliceCoder.of());
    }
    // Beside the bundles only where they were asked about with their subscribers: a campaign
    // without them attached is then a big one.
    boolean bigBeside = beside != null && asksSubscribers;
    DoFn<AskDelivered.Asked, Slice> fn =
        slicesPerTurn > 0
            ? new PacedFanOutFn(subscribers, clock, delivered, versions, sliceSize, slicesPerTurn)
            : new FanOutFn(
                subscribers, clock, delivered, versions, sliceSize, bigBeside ? beside : null);
    return asked
        .apply("NotifyEachSubscriber", ParDo.of(fn).withSideInputs(subscribers.sideInputs()))
        .setCoder(Slice.SliceCoder.of());
  }

  /**
   * A campaign's fan-out in one call: the clients read in one pass ({@link
   * SubscriberReader#forEachClient}, one query in lookup mode) and cut into turns as they come
   * ({@link FanOutTurns#cut}, {@link #SLICES_PER_READ} slices each), so the same slicer, numbering
   * and ledger marks as a fan-out in turns, never more than one turn of clients held.
   *
   * <p>In lookup mode, where a bundle ends with its input (a Spark micro-batch's partition), the
   * campaigns are held until it ends and the first subscribers of all their restaurants read in one
   * query ({@link #FIRST_CLIENTS}): a rush of 10,000 small campaigns was 10,000 round trips. There,
   * given a delivery beside the bundles ({@link DeliverNotifications#beside}), a bigger campaign is
   * handed over whole: the same fan-out on a thread of its own, each slice delivered as it is cut,
   * and the bundle ends at once; in the bundle, the micro-batch held the small campaigns published
   * meanwhile until a campaign of a million subscribers was read and its slices shuffled, and its
   * first notification waited for the same.
   */
  static final class FanOutFn extends DoFn<AskDelivered.Asked, Slice> {
    /** Slices' worth of clients cut at a time. */
    static final int SLICES_PER_READ = 16;

    /**
     * Clients read of each restaurant of a bundle in its one question ({@link AskDelivered}): a
     * campaign of at most this many subscribers is fanned out from the answer; a bigger one reads
     * its subscribers again, alone, from the first.
     */
    static final int FIRST_CLIENTS = 500;

    private final SubscriberSource subscribers;
    private final FanOutTurns turns;
    private final DeliverNotifications.Beside beside;

    FanOutFn(
        SubscriberSource subscribers,
        Clock clock,
        Delivered delivered,
        CampaignVersions versions,
        int sliceSize,
        DeliverNotifications.Beside beside) {
      this.subscribers = subscribers;
      this.turns = new FanOutTurns(clock, delivered, versions, sliceSize, SLICES_PER_READ);
      this.beside = beside;
    }

    @ProcessElement
    public void process(ProcessContext context) throws InterruptedException {
      AskDelivered.Asked asked = context.element();
      Campaign campaign = asked.campaign();
      FanOutTurns.Cursor begun = turns.begin(campaign, asked.before());
      if (begun.done()) {
        return;
      }
      if (asked.clients() != null) {
        // Every subscriber, read with the bundle's ({@link AskDelivered}): at most one turn.
        outputAll(campaign, begun, asked.clients(), context::output);
        return;
      }
      SubscriberReader reader = subscribers.readerFor(context);
      if (beside != null) {
        // One slice's worth and one more: a campaign of one slice is fanned out and delivered in
        // the bundle, as a small one; only a bigger one goes beside, read again from the first.
        List<String> first = new ArrayList<>();
        reader.forEachClientAfter(campaign.restaurantId(), null, turns.sliceSize() + 1, first::add);
        if (first.size() <= turns.sliceSize()) {
          outputAll(campaign, begun, first, context::output);
          return;
        }
        FanOutTurns besideTurns = turns.beside();
        beside.fanOut(
            campaign.advCampaignId(), out -> fanOut(besideTurns, campaign, begun, reader, out));
        return;
      }
      fanOut(turns, campaign, begun, reader, context::output);
    }

    /** What the fan-outs beside the bundles counted, added to the metrics on this thread. */
    @FinishBundle
    public void finishBundle() {
      if (beside != null) {
        turns.addCountsBeside();
      }
    }

    /**
     * Reads the campaign's subscribers in one pass and outputs them a turn at a time. Beside the
     * bundles too: the read then stays open while the hand-over waits for room, one pooled
     * connection; a query per turn instead made a campaign of 1,000,000 after a rush 42 s instead
     * of 17 s (docs/performance.md).
     */
    private static void fanOut(
        FanOutTurns turns,
        Campaign campaign,
        FanOutTurns.Cursor begun,
        SubscriberReader reader,
        Consumer<Slice> out)
        throws InterruptedException {
      int turn = turns.clientsPerTurn();
      List<String> chunk = new ArrayList<>(turn + 1);
      FanOutTurns.Cursor[] at = {begun};
      try {
        reader.forEachClient(
            campaign.restaurantId(),
            client -> {
              chunk.add(client);
              if (chunk.size() > turn) {
                // One more than a turn: the turn is not the last.
                List<String> full = new ArrayList<>(chunk.subList(0, turn));
                chunk.subList(0, turn).clear();
                at[0] = outputTurn(turns, campaign, at[0], full, false, out);
              }
            });
      } catch (Interrupted e) {
        throw e.cause;
      }
      outputTurn(turns, campaign, at[0], chunk, true, out);
    }

    /** Outputs the campaign's every subscriber, {@code clients}: one turn at most. */
    private void outputAll(
        Campaign campaign, FanOutTurns.Cursor begun, List<String> clients, Consumer<Slice> out)
        throws InterruptedException {
      try {
        outputTurn(turns, campaign, begun, clients, true, out);
      } catch (Interrupted e) {
        throw e.cause;
      }
    }

    private static FanOutTurns.Cursor outputTurn(
        FanOutTurns turns,
        Campaign campaign,
        FanOutTurns.Cursor at,
        List<String> clients,
        boolean last,
        Consumer<Slice> out) {
      try {
        FanOutTurns.Turn turn = turns.cut(campaign, at, clients, last);
        turns.output(campaign, turn, out);
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
