package dev.campaignnotifier.transforms;

import dev.campaignnotifier.model.Campaign;
import dev.campaignnotifier.model.NotificationBatch;
import dev.campaignnotifier.ops.CampaignProgress;
import dev.campaignnotifier.ops.LiveState;
import dev.campaignnotifier.subscribers.SubscriberSource;
import dev.campaignnotifier.transforms.FanOutToSubscribers.Delivered;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.splittabledofn.RestrictionTracker;
import org.apache.beam.sdk.transforms.splittabledofn.SplitResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fan-out made a few slices per turn ({@code --fanOutSlicesPerTurn}): a splittable DoFn that
 * reads the next {@code slicesPerTurn} slices' worth of clients after a cursor, outputs them, and
 * hands the rest back to the runner ({@link ProcessContinuation#resume()}), which checkpoints the
 * cursor and calls again. Between two turns the runner takes other campaigns, so a small campaign
 * published during a million-subscriber fan-out is not stuck behind all of it: on Flink a fan-out
 * made in one call blocks its subtask (backpressure) until the whole campaign is delivered.
 *
 * <p>Same output as {@link FanOutToSubscribers.FanOutFn}: slices numbered from 1, the last one
 * saying how many the fan-out made, one fan-out id, one trigger time. The cursor is a client id
 * (both subscriber modes hand clients over in client-id order), so a turn after a snapshot refresh
 * goes on where the last one stopped.
 */
final class PacedFanOutFn extends DoFn<Campaign, NotificationBatch> {
  private static final Logger LOG = LoggerFactory.getLogger(FanOutToSubscribers.class);

  private final SubscriberSource subscribers;
  private final Clock clock;
  private final Delivered delivered;
  private final int sliceSize;
  private final int slicesPerTurn;
  private final FanOutCounters counters = new FanOutCounters();

  /** Big fan-outs followed in the log, by fan-out id, on this worker. */
  private static final Map<String, CampaignProgress.Followed> FOLLOWED = new ConcurrentHashMap<>();

  PacedFanOutFn(
      SubscriberSource subscribers,
      Clock clock,
      Delivered delivered,
      int sliceSize,
      int slicesPerTurn) {
    this.subscribers = subscribers;
    this.clock = clock;
    this.delivered = delivered;
    this.sliceSize = sliceSize;
    this.slicesPerTurn = slicesPerTurn;
  }

  /**
   * Where a fan-out has got to: not begun; or begun at {@code trigger} as {@code fanOutId}, its
   * clients handed over up to {@code after}, {@code slices} slices and {@code sent} notifications
   * made of {@code clients} read, {@code checkDelivered} when some had the campaign before; or
   * done.
   */
  record Cursor(
      String fanOutId,
      long trigger,
      String after,
      int slices,
      long sent,
      long clients,
      boolean checkDelivered,
      boolean done)
      implements Serializable {
    static final Cursor START = new Cursor(null, 0, null, 0, 0, 0, false, false);

    boolean begun() {
      return fanOutId != null;
    }

    Cursor finished() {
      return new Cursor(fanOutId, trigger, after, slices, sent, clients, checkDelivered, true);
    }
  }

  @GetInitialRestriction
  public Cursor initialRestriction() {
    return Cursor.START;
  }

  @NewTracker
  public CursorTracker newTracker(@Restriction Cursor cursor) {
    return new CursorTracker(cursor);
  }

  @GetRestrictionCoder
  public Coder<Cursor> restrictionCoder() {
    return SerializableCoder.of(Cursor.class);
  }

  @ProcessElement
  public ProcessContinuation process(
      ProcessContext context, RestrictionTracker<Cursor, Cursor> tracker)
      throws InterruptedException {
    Campaign campaign = context.element();
    String id = campaign.advCampaignId();
    Cursor at = tracker.currentRestriction();
    if (at.done()) {
      return ProcessContinuation.stop();
    }
    if (!at.begun()) {
      long now = clock.nowEpochSecond();
      if (!counters.toFanOut(campaign, now, delivered)) {
        tracker.tryClaim(at.finished());
        return ProcessContinuation.stop();
      }
      boolean someHadIt = delivered.anyDelivered(id);
      at = new Cursor(UUID.randomUUID().toString(), now, null, 0, 0, 0, someHadIt, false);
    }

    int turn = sliceSize * slicesPerTurn;
    List<String> read = new ArrayList<>(turn + 1);
    subscribers
        .readerFor(context)
        .forEachClientAfter(campaign.restaurantId(), at.after(), turn + 1, read::add);
    boolean last = read.size() <= turn;
    List<String> chunk = last ? read : read.subList(0, turn);
    List<String> toSend = chunk;
    if (at.checkDelivered() && !chunk.isEmpty()) {
      Set<String> had = delivered.deliveredAmong(id, chunk);
      toSend = chunk.stream().filter(c -> !had.contains(c)).toList();
    }
    List<List<String>> slices = new ArrayList<>();
    for (int from = 0; from < toSend.size(); from += sliceSize) {
      slices.add(toSend.subList(from, Math.min(toSend.size(), from + sliceSize)));
    }
    if (last && slices.isEmpty() && at.slices() > 0) {
      slices.add(List.of()); // the last slice says how many there were, even when nobody is left
    }
    String after = chunk.isEmpty() ? at.after() : chunk.get(chunk.size() - 1);
    Cursor next =
        new Cursor(
            at.fanOutId(),
            at.trigger(),
            after,
            at.slices() + slices.size(),
            at.sent() + toSend.size(),
            at.clients() + chunk.size(),
            at.checkDelivered(),
            last);
    if (!tracker.tryClaim(next)) {
      return ProcessContinuation.stop();
    }
    for (int i = 0; i < slices.size(); i++) {
      int number = at.slices() + i + 1;
      boolean lastSlice = last && i == slices.size() - 1;
      LiveState.fannedOut(next.fanOutId(), campaign.endEpochSecond(), slices.get(i).size());
      context.output(
          new NotificationBatch(
              campaign,
              next.trigger(),
              new ArrayList<>(slices.get(i)),
              next.fanOutId(),
              number,
              lastSlice ? next.slices() : 0));
    }
    follow(campaign, next, last);
    if (!last) {
      return ProcessContinuation.resume();
    }
    if (next.sent() == 0) {
      delivered.nothingLeft(id, next.fanOutId());
    }
    counters.fannedOut(next.sent(), next.clients());
    LOG.info(
        "Fanned out campaign {} of restaurant {} to {} subscribers{} ({} slices, {} per turn)",
        id,
        campaign.restaurantId(),
        next.sent(),
        next.clients() == next.sent()
            ? ""
            : "; " + (next.clients() - next.sent()) + " had it already",
        next.slices(),
        slicesPerTurn);
    return ProcessContinuation.stop();
  }

  /** A big campaign's delivery is followed in the log from the ledger, as in one-call fan-outs. */
  private void follow(Campaign campaign, Cursor next, boolean last) {
    CampaignProgress.Followed progress = FOLLOWED.get(next.fanOutId());
    if (progress == null && next.sent() > CampaignProgress.BIG && delivered.ledger() != null) {
      progress =
          CampaignProgress.follow(
              campaign.advCampaignId(), next.fanOutId(), sliceSize, delivered.ledger());
      FOLLOWED.put(next.fanOutId(), progress);
    }
    if (progress != null) {
      progress.fannedOut(next.sent());
      if (last) {
        progress.finished(next.sent(), next.slices());
        FOLLOWED.remove(next.fanOutId());
      }
    }
  }

  /**
   * Tracks one fan-out's cursor. A claim moves it on; a checkpoint (the runner's {@code
   * trySplit(0)}, after {@link ProcessContinuation#resume()} or when a turn runs long) keeps what
   * was claimed as done and hands the rest, from the last claimed cursor, to a later call.
   */
  static final class CursorTracker extends RestrictionTracker<Cursor, Cursor> {
    private Cursor restriction;
    private Cursor claimed;

    CursorTracker(Cursor restriction) {
      this.restriction = restriction;
    }

    @Override
    public synchronized boolean tryClaim(Cursor next) {
      if (restriction.done()) {
        return false;
      }
      claimed = next;
      if (next.done()) {
        restriction = next;
      }
      return true;
    }

    @Override
    public synchronized Cursor currentRestriction() {
      return restriction;
    }

    @Override
    public synchronized SplitResult<Cursor> trySplit(double fractionOfRemainder) {
      if (fractionOfRemainder != 0 || claimed == null || claimed.done()) {
        return null;
      }
      Cursor residual = claimed;
      restriction = claimed.finished();
      return SplitResult.of(restriction, residual);
    }

    @Override
    public synchronized void checkDone() {
      if (!restriction.done()) {
        throw new IllegalStateException("fan-out stopped before its end: " + restriction);
      }
    }

    @Override
    public IsBounded isBounded() {
      return IsBounded.BOUNDED;
    }
  }
}
