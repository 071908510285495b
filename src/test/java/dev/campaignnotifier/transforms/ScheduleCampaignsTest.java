package dev.campaignnotifier.transforms;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.campaignnotifier.Samples;
import dev.campaignnotifier.model.Campaign;
import java.util.List;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricQueryResults;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.state.MapState;
import org.apache.beam.sdk.state.ValueState;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestPipelineExtension;
import org.apache.beam.sdk.testing.TestStream;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.joda.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The time rules, driven by TestStream's processing time (when timers fire) and a scripted clock
 * (what "now" reads at each decision), so no test waits for real time. The DirectRunner fires a
 * processing-time timer once its clock is past the target, hence the extra millisecond.
 */
@ExtendWith(TestPipelineExtension.class)
class ScheduleCampaignsTest {
  private static final long T0 = 1_700_000_000L;

  private static TestStream.Builder<Campaign> stream() {
    return TestStream.create(Campaign.CampaignCoder.of());
  }

  @Test
  void activeCampaignPassesAtOnce(TestPipeline p) {
    Campaign active = Samples.campaign("a", Samples.RESTAURANT, T0 - 5, T0 + 5);
    PCollection<Campaign> out =
        p.apply(stream().addElements(active).advanceWatermarkToInfinity())
            .apply(new ScheduleCampaigns(ScriptedClock.of(T0)));
    PAssert.that(out).containsInAnyOrder(active);
    p.run().waitUntilFinish();
  }

  @Test
  void endedCampaignIsDropped(TestPipeline p) {
    Campaign ended = Samples.campaign("e", Samples.RESTAURANT, T0 - 50, T0 - 1);
    PCollection<Campaign> out =
        p.apply(stream().addElements(ended).advanceWatermarkToInfinity())
            .apply(new ScheduleCampaigns(ScriptedClock.of(T0)));
    PAssert.that(out).empty();
    p.run().waitUntilFinish();
  }

  @Test
  void futureCampaignIsNotReleasedBeforeItsStart(TestPipeline p) {
    Campaign future = Samples.campaign("f", Samples.RESTAURANT, T0 + 10, T0 + 100);
    PCollection<Campaign> out =
        p.apply(
                stream()
                    .addElements(future)
                    .advanceProcessingTime(Duration.standardSeconds(9))
                    .advanceWatermarkToInfinity())
            .apply(new ScheduleCampaigns(ScriptedClock.of(T0, T0 + 9)));
    PAssert.that(out).empty();
    p.run().waitUntilFinish();
  }

  @Test
  void campaignPublishedBeforeStartIsReleasedAtStart(TestPipeline p) {
    Campaign future = Samples.campaign("f", Samples.RESTAURANT, T0 + 10, T0 + 100);
    PCollection<Campaign> out =
        p.apply(
                stream()
                    .addElements(future)
                    .advanceProcessingTime(Duration.millis(10_001))
                    .advanceWatermarkToInfinity())
            .apply(new ScheduleCampaigns(ScriptedClock.of(T0, T0 + 10)));
    PAssert.that(out).containsInAnyOrder(future);
    p.run().waitUntilFinish();
  }

  @Test
  void heldCampaignWhoseEndPassedBeforeItWokeSendsNothing(TestPipeline p) {
    Campaign brief = Samples.campaign("b", Samples.RESTAURANT, T0 + 10, T0 + 11);
    PCollection<Campaign> out =
        p.apply(
                stream()
                    .addElements(brief)
                    .advanceProcessingTime(Duration.millis(10_001))
                    .advanceWatermarkToInfinity())
            // The process was stalled: by the time the timer ran, the wall clock was past the end.
            .apply(new ScheduleCampaigns(ScriptedClock.of(T0, T0 + 12)));
    PAssert.that(out).empty();
    PipelineResult result = p.run();
    result.waitUntilFinish();
    // Nothing out could also mean the timer never fired: it did, and found the campaign over.
    assertEquals(1L, expiredWhileHeld(result));
  }

  private static long expiredWhileHeld(PipelineResult result) {
    MetricQueryResults metrics =
        result
            .metrics()
            .queryMetrics(
                MetricsFilter.builder()
                    .addNameFilter(MetricNameFilter.named("campaigns", "expiredWhileHeld"))
                    .build());
    long total = 0;
    for (MetricResult<Long> counter : metrics.getCounters()) {
      total += counter.getAttempted();
    }
    return total;
  }

  @Test
  void repeatedCampaignPassesOnce(TestPipeline p) {
    Campaign active = Samples.campaign("a", Samples.RESTAURANT, T0 - 5, T0 + 500);
    PCollection<Campaign> out =
        p.apply(
                stream()
                    .addElements(active)
                    .advanceProcessingTime(Duration.standardSeconds(1))
                    .addElements(active)
                    .advanceWatermarkToInfinity())
            .apply(new ScheduleCampaigns(ScriptedClock.of(T0, T0 + 1)));
    PAssert.that(out).containsInAnyOrder(active);
    p.run().waitUntilFinish();
  }

  @Test
  void campaignIdIsForgottenAfterItsEnd(TestPipeline p) {
    // Same id, a new campaign after the first one ended: state was released, so it passes again.
    Campaign first = Samples.campaign("x", Samples.RESTAURANT, T0 - 5, T0 + 5);
    Campaign second = Samples.campaign("x", Samples.RESTAURANT, T0 + 6, T0 + 50);
    PCollection<Campaign> out =
        p.apply(
                stream()
                    .addElements(first)
                    .advanceProcessingTime(Duration.millis(6_001))
                    .addElements(second)
                    .advanceWatermarkToInfinity())
            .apply(new ScheduleCampaigns(ScriptedClock.of(T0, T0 + 6)));
    PAssert.that(out).containsInAnyOrder(first, second);
    p.run().waitUntilFinish();
  }

  @Test
  void campaignsSharingAShardAreEachReleasedAtTheirOwnStart(TestPipeline p) {
    // The later one is published first, so the shard's one timer must be moved earlier.
    String laterId = "later";
    String earlierId = sameShardAs(laterId);
    Campaign later = Samples.campaign(laterId, Samples.RESTAURANT, T0 + 20, T0 + 100);
    Campaign earlier = Samples.campaign(earlierId, Samples.RESTAURANT, T0 + 10, T0 + 100);
    PCollection<Campaign> out =
        p.apply(
                stream()
                    .addElements(later)
                    .addElements(earlier)
                    .advanceProcessingTime(Duration.millis(10_001))
                    .advanceWatermarkToInfinity())
            .apply(new ScheduleCampaigns(ScriptedClock.of(T0, T0, T0 + 10)));
    PAssert.that(out).containsInAnyOrder(earlier);
    p.run().waitUntilFinish();
  }

  private static String sameShardAs(String id) {
    for (int i = 0; ; i++) {
      String other = "c" + i;
      if (CampaignShards.shardOf(other) == CampaignShards.shardOf(id)) {
        return other;
      }
    }
  }

  @Test
  void aWakeFiredAfterItsBundleFinishedReleasesNothingAndComesBack() {
    // Beam 2.70's Spark runner fires timers that fell due as a bundle finished once more, after it
    // has collected the bundle's output, and drops what they output.
    ScheduleCampaigns.HoldUntilStartFn fn =
        new ScheduleCampaigns.HoldUntilStartFn(ScriptedClock.of(T0, T0 + 10));
    DirectCalls calls = new DirectCalls();
    MapState<String, Campaign> held =
        calls.map("held", StringUtf8Coder.of(), Campaign.CampaignCoder.of());
    MapState<String, Long> released =
        calls.map("released", StringUtf8Coder.of(), VarLongCoder.of());
    ValueState<Long> wakeAt = calls.value("wakeAt", VarLongCoder.of());
    DirectCalls.CountingTimer wake = new DirectCalls.CountingTimer();
    DirectCalls.Collected<Campaign> out = new DirectCalls.Collected<>();
    Campaign future = Samples.campaign("f", Samples.RESTAURANT, T0 + 10, T0 + 100);

    fn.startBundle();
    fn.process(KV.of(0, future), held, released, wakeAt, wake, out);
    fn.finishBundle();
    fn.onWake(held, released, wakeAt, wake, out);
    assertEquals(List.of(), out.all, "nothing released by the late firing");
    assertEquals(2, wake.sets, "set for the start, and again by the late firing");

    fn.startBundle();
    fn.onWake(held, released, wakeAt, wake, out);
    assertEquals(List.of(future), out.all);
  }
}
