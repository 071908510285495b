package dev.campaignnotifier.transforms;

import dev.campaignnotifier.model.Campaign;
import org.apache.beam.sdk.coders.BooleanCoder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.state.StateSpec;
import org.apache.beam.sdk.state.StateSpecs;
import org.apache.beam.sdk.state.TimeDomain;
import org.apache.beam.sdk.state.Timer;
import org.apache.beam.sdk.state.TimerSpec;
import org.apache.beam.sdk.state.TimerSpecs;
import org.apache.beam.sdk.state.ValueState;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.joda.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lets each campaign through once, at the right moment: at once if it is active, at its start if
 * that is still to come (held in state with a processing-time timer), never if it has ended. A
 * campaign id seen before is a repeat and is dropped, so a re-sent or redelivered campaign does not
 * notify anyone twice; that memory is released one second after the campaign's end, which bounds
 * the state by the number of campaigns live at once.
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
        .apply(
            "KeyByCampaignId",
            WithKeys.of(Campaign::advCampaignId).withKeyType(TypeDescriptors.strings()))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), Campaign.CampaignCoder.of()))
        .apply("HoldUntilStart", ParDo.of(new HoldUntilStartFn(clock)))
        .setCoder(Campaign.CampaignCoder.of());
  }

  static final class HoldUntilStartFn extends DoFn<KV<String, Campaign>, Campaign> {
    private static final Logger LOG = LoggerFactory.getLogger(ScheduleCampaigns.class);

    @StateId("campaign")
    private final StateSpec<ValueState<Campaign>> campaignSpec =
        StateSpecs.value(Campaign.CampaignCoder.of());

    @StateId("released")
    private final StateSpec<ValueState<Boolean>> releasedSpec = StateSpecs.value(BooleanCoder.of());

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
        @Element KV<String, Campaign> element,
        @StateId("campaign") ValueState<Campaign> seen,
        @StateId("released") ValueState<Boolean> released,
        @TimerId("wake") Timer wake,
        OutputReceiver<Campaign> out) {
      Campaign campaign = element.getValue();
      if (seen.read() != null) {
        repeats.inc();
        LOG.info(
            "Campaign {} was already received; the repeat is ignored", campaign.advCampaignId());
        return;
      }
      long now = clock.nowMillis();
      if (campaign.hasEndedBy(Math.floorDiv(now, 1000L))) {
        expired.inc();
        LOG.info(
            "Campaign {} of restaurant {} ended at {}, before it arrived; dropped",
            campaign.advCampaignId(),
            campaign.restaurantId(),
            campaign.endEpochSecond());
        return;
      }
      seen.write(campaign);
      if (campaign.startEpochSecond() * 1000L <= now) {
        active.inc();
        release(campaign, now, released, wake, out);
      } else {
        held.inc();
        LOG.info(
            "Campaign {} of restaurant {} starts at {}; held until then",
            campaign.advCampaignId(),
            campaign.restaurantId(),
            campaign.startEpochSecond());
        wakeAt(wake, campaign.startEpochSecond(), now);
      }
    }

    @OnTimer("wake")
    public void onWake(
        @StateId("campaign") ValueState<Campaign> seen,
        @StateId("released") ValueState<Boolean> released,
        @TimerId("wake") Timer wake,
        OutputReceiver<Campaign> out) {
      Campaign campaign = seen.read();
      if (campaign == null) {
        return;
      }
      if (Boolean.TRUE.equals(released.read())) {
        // The campaign has ended: nothing can repeat it any more, so forget it.
        seen.clear();
        released.clear();
        return;
      }
      long now = clock.nowMillis();
      if (now < campaign.startEpochSecond() * 1000L) {
        wakeAt(wake, campaign.startEpochSecond(), now);
        return;
      }
      if (campaign.hasEndedBy(Math.floorDiv(now, 1000L))) {
        expiredWhileHeld.inc();
        LOG.info("Campaign {} ended while it was held; nothing sent", campaign.advCampaignId());
        seen.clear();
        return;
      }
      releasedAtStart.inc();
      release(campaign, now, released, wake, out);
    }

    private static void release(
        Campaign campaign,
        long now,
        ValueState<Boolean> released,
        Timer wake,
        OutputReceiver<Campaign> out) {
      out.output(campaign);
      released.write(true);
      wakeAt(wake, campaign.endEpochSecond() + 1, now);
    }

    private static void wakeAt(Timer wake, long epochSecond, long nowMillis) {
      wake.offset(Duration.millis(Math.max(0, epochSecond * 1000L - nowMillis))).setRelative();
    }
  }
}
