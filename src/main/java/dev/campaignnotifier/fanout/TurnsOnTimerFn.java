package dev.campaignnotifier.fanout;

import dev.campaignnotifier.campaigns.CampaignShards;
import dev.campaignnotifier.campaigns.CampaignVersions;
import dev.campaignnotifier.delivery.Delivered;
import dev.campaignnotifier.fanout.FanOutTurns.Cursor;
import dev.campaignnotifier.model.Campaign;
import dev.campaignnotifier.model.Clock;
import dev.campaignnotifier.model.Slice;
import dev.campaignnotifier.runner.SparkSafeMaps;
import dev.campaignnotifier.runner.SparkSafeTimersFn;
import dev.campaignnotifier.subscribers.SubscriberReader;
import dev.campaignnotifier.subscribers.SubscriberSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.state.MapState;
import org.apache.beam.sdk.state.StateSpec;
import org.apache.beam.sdk.state.StateSpecs;
import org.apache.beam.sdk.state.TimeDomain;
import org.apache.beam.sdk.state.Timer;
import org.apache.beam.sdk.state.TimerSpec;
import org.apache.beam.sdk.state.TimerSpecs;
import org.apache.beam.sdk.values.KV;
import org.joda.time.Duration;

/**
 * The fan-out in turns for the SparkRunner, where a splittable DoFn's resume is not offered: the
 * first turn when the campaign arrives, each further turn when a processing-time timer fires, which
 * on Spark is once per micro-batch. A micro-batch then delivers at most {@code slicesPerTurn}
 * slices of each big campaign, and a small campaign published meanwhile waits for one such
 * micro-batch, not for the whole big delivery.
 *
 * <p>The campaigns being fanned out and their cursors are kept in state under a shard of the
 * campaign id ({@link CampaignShards#shardOf}; few keys, see there why). A timer cannot read a side
 * input, so this runs in lookup mode only ({@link SubscriberSource#readerWithoutSideInput}).
 */
final class TurnsOnTimerFn extends SparkSafeTimersFn<KV<Integer, AskDelivered.Asked>, Slice> {
  /** The next turn: as soon as the runner fires timers again (on Spark, the next micro-batch). */
  private static final Duration AGAIN = Duration.millis(1);

  @StateId("campaigns")
  private final StateSpec<MapState<String, Campaign>> campaignsSpec =
      StateSpecs.map(StringUtf8Coder.of(), Campaign.CampaignCoder.of());

  @StateId("cursors")
  private final StateSpec<MapState<String, Cursor>> cursorsSpec =
      StateSpecs.map(StringUtf8Coder.of(), FanOutTurns.CursorCoder.of());

  @TimerId("turn")
  private final TimerSpec turnSpec = TimerSpecs.timer(TimeDomain.PROCESSING_TIME);

  private final SubscriberReader reader;
  private final FanOutTurns turns;

  TurnsOnTimerFn(
      SubscriberSource subscribers,
      Clock clock,
      Delivered delivered,
      CampaignVersions versions,
      int sliceSize,
      int slicesPerTurn) {
    this.reader = subscribers.readerWithoutSideInput();
    if (reader == null) {
      throw new IllegalArgumentException("a fan-out in turns on a timer needs lookup mode");
    }
    this.turns = new FanOutTurns(clock, delivered, versions, sliceSize, slicesPerTurn);
  }

  @ProcessElement
  public void process(
      @Element KV<Integer, AskDelivered.Asked> element,
      @StateId("campaigns") MapState<String, Campaign> campaigns,
      @StateId("cursors") MapState<String, Cursor> cursors,
      @TimerId("turn") Timer turn,
      OutputReceiver<Slice> out)
      throws InterruptedException {
    Campaign campaign = element.getValue().campaign();
    Cursor at = turns.begin(campaign, element.getValue().before());
    if (at.done()) {
      return;
    }
    Cursor next = take(campaign, at, out);
    if (!next.done()) {
      campaigns.put(campaign.advCampaignId(), campaign);
      cursors.put(campaign.advCampaignId(), next);
      turn.offset(AGAIN).setRelative();
    }
  }

  @OnTimer("turn")
  public void onTurn(
      @StateId("campaigns") MapState<String, Campaign> campaigns,
      @StateId("cursors") MapState<String, Cursor> cursors,
      @TimerId("turn") Timer turn,
      OutputReceiver<Slice> out)
      throws InterruptedException {
    if (firedAfterBundle()) {
      // What this turn output would be lost (SparkSafeTimersFn): take it in the next micro-batch.
      turn.offset(AGAIN).setRelative();
      return;
    }
    List<Map.Entry<String, Cursor>> open = new ArrayList<>();
    Iterable<Map.Entry<String, Cursor>> entries = cursors.entries().read();
    if (entries != null) {
      entries.forEach(e -> open.add(Map.entry(e.getKey(), e.getValue())));
    }
    boolean more = false;
    for (Map.Entry<String, Cursor> e : open) {
      Campaign campaign = campaigns.get(e.getKey()).read();
      Cursor next = campaign == null ? e.getValue().finished() : take(campaign, e.getValue(), out);
      if (next.done()) {
        SparkSafeMaps.remove(campaigns, e.getKey());
        SparkSafeMaps.remove(cursors, e.getKey());
      } else {
        cursors.put(e.getKey(), next);
        more = true;
      }
    }
    if (more) {
      turn.offset(AGAIN).setRelative();
    }
  }

  private Cursor take(Campaign campaign, Cursor at, OutputReceiver<Slice> out)
      throws InterruptedException {
    FanOutTurns.Turn turn = turns.take(campaign, at, reader);
    turns.output(campaign, turn, out::output);
    return turn.next();
  }
}
