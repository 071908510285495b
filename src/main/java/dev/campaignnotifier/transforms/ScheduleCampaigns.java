package dev.campaignnotifier.transforms;

import dev.campaignnotifier.model.Campaign;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.state.MapState;
import org.apache.beam.sdk.state.StateSpec;
import org.apache.beam.sdk.state.StateSpecs;
import org.apache.beam.sdk.state.TimeDomain;
import org.apache.beam.sdk.state.Timer;
import org.apache.beam.sdk.state.TimerSpec;
import org.apache.beam.sdk.state.TimerSpecs;
import org.apache.beam.sdk.state.ValueState;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.joda.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lets each campaign through once, at the right moment: at once if it is active, at its start if
 * that is still to come (held in state with a processing-time timer), never if it has ended. A
 * campaign id seen before is a repeat and is dropped, so a re-sent or redelivered campaign does not
 * notify anyone twice; that memory is released one second after the campaign's end, which bounds
 * the state by the number of campaigns live at once.
 *
 * <p>The state is kept under the shards of {@link CampaignShards}, each holding its campaigns in a
 * map and one timer for the earliest start or end among them, not under one key per campaign: keyed
 * by campaign id, a service running for months on Spark would check millions of long-gone campaigns
 * twice a second.
 */
public final class ScheduleCampaigns
    extends PTransform<PCollection<Campaign>, PCollection<Campaign>> {
  private final Clock clock;

  public ScheduleCampaigns(Clock clock) {
    this.clock = clock;
  }

  @Override
  public PCollection<Campaign> expand(PCollection<Campaign> campaigns) {
    return campaigns
        .apply("KeyByShard", new CampaignShards())
        .apply("HoldUntilStart", ParDo.of(new HoldUntilStartFn(clock)))
        .setCoder(Campaign.CampaignCoder.of());
  }

  /**
   * Per shard: the campaigns held until their start, the campaigns released (by id, with the epoch
   * second after which a repeat can no longer come: one second after the end), and one timer set
   * for the earliest moment either map has something to do.
   */
  static final class HoldUntilStartFn extends SparkSafeTimersFn<KV<Integer, Campaign>, Campaign> {
    private static final Logger LOG = LoggerFactory.getLogger(ScheduleCampaigns.class);

    @StateId("held")
    private final StateSpec<MapState<String, Campaign>> heldSpec =
        StateSpecs.map(StringUtf8Coder.of(), Campaign.CampaignCoder.of());

    @StateId("released")
    private final StateSpec<MapState<String, Long>> releasedSpec =
        StateSpecs.map(StringUtf8Coder.of(), VarLongCoder.of());

    @StateId("wakeAt")
    private final StateSpec<ValueState<Long>> wakeAtSpec = StateSpecs.value(VarLongCoder.of());

    @TimerId("wake")
    private final TimerSpec wakeSpec = TimerSpecs.timer(TimeDomain.PROCESSING_TIME);

    private final Clock clock;
    private final Counter active = Metrics.counter("campaigns", "releasedAtOnce");
    private final Counter held = Metrics.counter("campaigns", "held");
    private final Counter releasedAtStart = Metrics.counter("campaigns", "releasedAtStart");
    private final Counter expired = Metrics.counter("campaigns", "expired");
    private final Counter expiredWhileHeld = Metrics.counter("campaigns", "expiredWhileHeld");
    private final Counter repeats = Metrics.counter("campaigns", "duplicates");

    HoldUntilStartFn(Clock clock) {
      this.clock = clock;
    }

    @ProcessElement
    public void process(
        @Element KV<Integer, Campaign> element,
        @StateId("held") MapState<String, Campaign> heldState,
        @StateId("released") MapState<String, Long> releasedState,
        @StateId("wakeAt") ValueState<Long> wakeAt,
        @TimerId("wake") Timer wake,
        OutputReceiver<Campaign> out) {
      Campaign campaign = element.getValue();
      String id = campaign.advCampaignId();
      if (heldState.get(id).read() != null || releasedState.get(id).read() != null) {
        repeats.inc();
        LOG.info("Campaign {} was already received; the repeat is ignored", id);
        return;
      }
      long now = clock.nowMillis();
      if (campaign.hasEndedBy(Math.floorDiv(now, 1000L))) {
        expired.inc();
        LOG.info(
            "Campaign {} of restaurant {} ended at {}, before it arrived; dropped",
            id,
            campaign.restaurantId(),
            campaign.endEpochSecond());
        return;
      }
      long due;
      if (campaign.startEpochSecond() * 1000L <= now) {
        active.inc();
        due = release(campaign, releasedState, out);
      } else {
        held.inc();
        LOG.info(
            "Campaign {} of restaurant {} starts at {}; held until then",
            id,
            campaign.restaurantId(),
            campaign.startEpochSecond());
        heldState.put(id, campaign);
        due = campaign.startEpochSecond();
      }
      Long set = wakeAt.read();
      if (set == null || due * 1000L < set) {
        wakeAt(wake, wakeAt, due, now);
      }
    }

    @OnTimer("wake")
    public void onWake(
        @StateId("held") MapState<String, Campaign> heldState,
        @StateId("released") MapState<String, Long> releasedState,
        @StateId("wakeAt") ValueState<Long> wakeAt,
        @TimerId("wake") Timer wake,
        OutputReceiver<Campaign> out) {
      if (firedAfterBundle()) {
        // A campaign released now would be lost (SparkSafeTimersFn): wake in the next micro-batch.
        wake.offset(Duration.millis(1)).setRelative();
        return;
      }
      long now = clock.nowMillis();
      long second = Math.floorDiv(now, 1000L);
      long next = Long.MAX_VALUE;
      // The ended ones first: a campaign released below is not to be forgotten in the same wake.
      for (Map.Entry<String, Long> e : entries(releasedState)) {
        if (e.getValue() * 1000L <= now) {
          // The campaign has ended: nothing can repeat it any more, so forget it.
          releasedState.remove(e.getKey());
        } else {
          next = Math.min(next, e.getValue());
        }
      }
      for (Map.Entry<String, Campaign> e : entries(heldState)) {
        Campaign campaign = e.getValue();
        if (now < campaign.startEpochSecond() * 1000L) {
          next = Math.min(next, campaign.startEpochSecond());
          continue;
        }
        heldState.remove(e.getKey());
        if (campaign.hasEndedBy(second)) {
          expiredWhileHeld.inc();
          LOG.info("Campaign {} ended while it was held; nothing sent", e.getKey());
          continue;
        }
        releasedAtStart.inc();
        next = Math.min(next, release(campaign, releasedState, out));
      }
      if (next == Long.MAX_VALUE) {
        wakeAt.clear();
      } else {
        wakeAt(wake, wakeAt, next, now);
      }
    }

    /** A copy of the map's entries, so that the map can be changed while they are gone through. */
    private static <V> List<Map.Entry<String, V>> entries(MapState<String, V> state) {
      List<Map.Entry<String, V>> copy = new ArrayList<>();
      Iterable<Map.Entry<String, V>> entries = state.entries().read();
      if (entries != null) {
        entries.forEach(e -> copy.add(Map.entry(e.getKey(), e.getValue())));
      }
      return copy;
    }

    /** Outputs the campaign and remembers it until its end; returns when to forget it. */
    private static long release(
        Campaign campaign, MapState<String, Long> releasedState, OutputReceiver<Campaign> out) {
      out.output(campaign);
      long forgetAt = campaign.endEpochSecond() + 1;
      releasedState.put(campaign.advCampaignId(), forgetAt);
      return forgetAt;
    }

    private static void wakeAt(Timer wake, ValueState<Long> wakeAt, long epochSecond, long now) {
      wake.offset(Duration.millis(Math.max(0, epochSecond * 1000L - now))).setRelative();
      wakeAt.write(epochSecond * 1000L);
    }
  }
}
