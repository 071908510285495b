package dev.campaignnotifier.fanout;

import dev.campaignnotifier.campaigns.CampaignVersions;
import dev.campaignnotifier.delivery.Delivered;
import dev.campaignnotifier.fanout.FanOutTurns.Cursor;
import dev.campaignnotifier.model.Campaign;
import dev.campaignnotifier.model.Clock;
import dev.campaignnotifier.model.Slice;
import dev.campaignnotifier.subscribers.SubscriberSource;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.splittabledofn.RestrictionTracker;
import org.apache.beam.sdk.transforms.splittabledofn.SplitResult;

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
final class PacedFanOutFn extends DoFn<AskDelivered.Asked, Slice> {
  private final SubscriberSource subscribers;
  private final FanOutTurns turns;

  PacedFanOutFn(
      SubscriberSource subscribers,
      Clock clock,
      Delivered delivered,
      CampaignVersions versions,
      int sliceSize,
      int slicesPerTurn) {
    this.subscribers = subscribers;
    this.turns = new FanOutTurns(clock, delivered, versions, sliceSize, slicesPerTurn);
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
    return FanOutTurns.CursorCoder.of();
  }

  @ProcessElement
  public ProcessContinuation process(
      ProcessContext context, RestrictionTracker<Cursor, Cursor> tracker)
      throws InterruptedException {
    Campaign campaign = context.element().campaign();
    Cursor at = tracker.currentRestriction();
    if (at.done()) {
      return ProcessContinuation.stop();
    }
    if (!at.begun()) {
      at = turns.begin(campaign, context.element().before());
      if (at.done()) {
        tracker.tryClaim(at);
        return ProcessContinuation.stop();
      }
    }
    FanOutTurns.Turn turn = turns.take(campaign, at, subscribers.readerFor(context));
    if (!tracker.tryClaim(turn.next())) {
      return ProcessContinuation.stop();
    }
    turns.output(campaign, turn, context::output);
    return turn.next().done() ? ProcessContinuation.stop() : ProcessContinuation.resume();
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
