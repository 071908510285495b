package dev.campaignnotifier.campaigns;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.campaignnotifier.Samples;
import dev.campaignnotifier.model.Arrival;
import dev.campaignnotifier.model.Campaign;
import dev.campaignnotifier.model.Clock;
import dev.campaignnotifier.model.DeadLetter;
import dev.campaignnotifier.model.DeadLetterReason;
import dev.campaignnotifier.model.ScriptedClock;
import dev.campaignnotifier.runner.DirectCalls;
import dev.campaignnotifier.runner.RunnerProfile;
import java.util.ArrayList;
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
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.util.CoderUtils;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptor;
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

  /** Campaigns as the parser hands them over: each alone, with no dead letter. */
  private static PTransform<PCollection<Campaign>, PCollection<Arrival>> arrive() {
    return new PTransform<>() {
      @Override
      public PCollection<Arrival> expand(PCollection<Campaign> campaigns) {
        return campaigns
            .apply(MapElements.into(TypeDescriptor.of(Arrival.class)).via(Arrival::of))
            .setCoder(Arrival.ArrivalCoder.of());
      }
    };
  }

  @Test
  void activeCampaignPassesAtOnce(TestPipeline p) {
    Campaign active = Samples.campaign("a", Samples.RESTAURANT, T0 - 5, T0 + 5);
    PCollection<Campaign> out =
        p.apply(stream().addElements(active).advanceWatermarkToInfinity())
            .apply(arrive())
            .apply(
                new ScheduleCampaigns(
                    ScriptedClock.of(T0), CampaignVersions.NONE, RunnerProfile.DIRECT.shards()))
            .get(ScheduleCampaigns.RELEASED);
    PAssert.that(out).containsInAnyOrder(active);
    p.run().waitUntilFinish();
  }

  @Test
  void endedCampaignIsDropped(TestPipeline p) {
    Campaign ended = Samples.campaign("e", Samples.RESTAURANT, T0 - 50, T0 - 1);
    PCollection<Campaign> out =
        p.apply(stream().addElements(ended).advanceWatermarkToInfinity())
            .apply(arrive())
            .apply(
                new ScheduleCampaigns(
                    ScriptedClock.of(T0), CampaignVersions.NONE, RunnerProfile.DIRECT.shards()))
            .get(ScheduleCampaigns.RELEASED);
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
            .apply(arrive())
            .apply(
                new ScheduleCampaigns(
                    ScriptedClock.of(T0, T0 + 9),
                    CampaignVersions.NONE,
                    RunnerProfile.DIRECT.shards()))
            .get(ScheduleCampaigns.RELEASED);
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
            .apply(arrive())
            .apply(
                new ScheduleCampaigns(
                    ScriptedClock.of(T0, T0 + 10),
                    CampaignVersions.NONE,
                    RunnerProfile.DIRECT.shards()))
            .get(ScheduleCampaigns.RELEASED);
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
            .apply(arrive())
            .apply(
                new ScheduleCampaigns(
                    ScriptedClock.of(T0, T0 + 12),
                    CampaignVersions.NONE,
                    RunnerProfile.DIRECT.shards()))
            .get(ScheduleCampaigns.RELEASED);
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
            .apply(arrive())
            .apply(
                new ScheduleCampaigns(
                    ScriptedClock.of(T0, T0 + 1),
                    CampaignVersions.NONE,
                    RunnerProfile.DIRECT.shards()))
            .get(ScheduleCampaigns.RELEASED);
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
            .apply(arrive())
            .apply(
                new ScheduleCampaigns(
                    ScriptedClock.of(T0, T0 + 6),
                    CampaignVersions.NONE,
                    RunnerProfile.DIRECT.shards()))
            .get(ScheduleCampaigns.RELEASED);
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
            .apply(arrive())
            .apply(
                new ScheduleCampaigns(
                    ScriptedClock.of(T0, T0, T0 + 10),
                    CampaignVersions.NONE,
                    RunnerProfile.DIRECT.shards()))
            .get(ScheduleCampaigns.RELEASED);
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
  void aWakeFiredAfterItsBundleFinishedReleasesNothingAndComesBack() throws Exception {
    // Beam 2.70's Spark runner fires timers that fell due as a bundle finished once more, after it
    // has collected the bundle's output, and drops what they output.
    Calls calls = new Calls(ScriptedClock.of(T0, T0 + 10));
    Campaign future = Samples.campaign("f", Samples.RESTAURANT, T0 + 10, T0 + 100);

    calls.fn.startBundle();
    calls.process(future);
    calls.fn.finishBundle();
    calls.wake();
    assertEquals(List.of(), calls.released(), "nothing released by the late firing");
    assertEquals(2, calls.wake.sets, "set for the start, and again by the late firing");

    calls.fn.startBundle();
    calls.wake();
    assertEquals(List.of(future), calls.released());
  }

  // A campaign published again: the newest version counts for everything not yet sent.

  @Test
  void aHeldCampaignPublishedAgainTakesItsNewStartEndAndText() throws Exception {
    long[] now = {T0};
    Calls calls = new Calls(() -> now[0] * 1000L);
    Campaign first = Samples.campaign("h", Samples.RESTAURANT, T0 + 10, T0 + 100);
    Campaign moved =
        Samples.version(first, T0 + 20, T0 + 200, first.createdEpochSecond() + 1, "moved to one");
    calls.process(first);
    calls.process(moved);
    now[0] = T0 + 10;
    calls.wake();
    assertEquals(List.of(), calls.released(), "not at the old start");
    now[0] = T0 + 20;
    calls.wake();
    assertEquals(List.of(moved), calls.released());
    assertEquals(List.of(), calls.changed(), "nothing was active to change");
    assertEquals(List.of(moved), calls.versions.recorded);
  }

  @Test
  void aHeldCampaignWhoseNewEndIsNotAfterItsStartIsCancelledAndNothingIsSent() throws Exception {
    long[] now = {T0};
    Calls calls = new Calls(() -> now[0] * 1000L);
    Campaign first = Samples.campaign("c", Samples.RESTAURANT, T0 + 10, T0 + 100);
    Campaign off =
        Samples.version(first, T0 + 10, T0 + 10, first.createdEpochSecond() + 1, "called off");
    calls.process(first);
    calls.process(off);
    calls.process(first); // the old version read again (a replay): a stale repeat
    for (long t = T0 + 10; t <= T0 + 101; t++) {
      now[0] = t;
      calls.wake();
    }
    assertEquals(List.of(), calls.released());
    assertEquals(List.of(off), calls.versions.recorded);
  }

  /**
   * A restaurant's app cancels a campaign still to start by ending it now: the new version's end is
   * before its start. Of a held campaign it is a cancellation, not bad input: nothing is sent, no
   * dead letter. The same message with no version known is the bad campaign it would be alone.
   */
  @Test
  void aHeldCampaignEndedNowIsCancelledAndAWithdrawalOfNothingIsADeadLetter() throws Exception {
    long[] now = {T0};
    Calls calls = new Calls(() -> now[0] * 1000L);
    Campaign first = Samples.campaign("held", Samples.RESTAURANT, T0 + 40, T0 + 3600);
    Campaign endedNow =
        Samples.version(first, T0 + 40, T0 - 10, first.createdEpochSecond() + 8, "ended now");
    DeadLetter letter = letter(1);
    calls.process(first);
    calls.process(new Arrival(endedNow, letter));
    // A first version whose end is before its start.
    Campaign nobody = new Campaign("r", "nobody", "x", "o", "c", T0 + 40, T0 - 10, T0);
    calls.process(new Arrival(nobody, letter(2)));
    calls.process(new Arrival(nobody, null)); // read again by a replay: no second letter
    for (long t = T0 + 40; t <= T0 + 45; t++) {
      now[0] = t;
      calls.wake();
    }
    // The app sends its cancellation again, and the first version is read again: still nothing.
    calls.process(new Arrival(endedNow, letter(1)));
    calls.process(first);
    now[0] = T0 + 46;
    calls.wake();
    assertEquals(List.of(), calls.released(), "nothing at the old start");
    assertEquals(List.of(endedNow), calls.versions.recorded);
    assertEquals(List.of(letter(2)), calls.deadLetters());
  }

  /** An active campaign ended now by a version whose end is before its start: a cancellation. */
  @Test
  void anActiveCampaignEndedBeforeItsStartIsCancelled() throws Exception {
    long[] now = {T0};
    Calls calls = new Calls(() -> now[0] * 1000L);
    Campaign active = Samples.campaign("active", Samples.RESTAURANT, T0 - 2, T0 + 3600);
    Campaign endedNow =
        Samples.version(active, T0 - 2, T0 - 10, active.createdEpochSecond() + 8, "ended now");
    calls.process(active);
    calls.process(new Arrival(endedNow, letter(1)));
    calls.process(active); // the old version again: a stale repeat, not released again
    assertEquals(List.of(active), calls.released());
    assertEquals(List.of(endedNow), calls.changed(), "the late step and the delivery hear of it");
    assertEquals(List.of(endedNow), calls.versions.recorded);
    assertEquals(List.of(), calls.deadLetters());
  }

  private static DeadLetter letter(long offset) {
    return new DeadLetter(
        DeadLetterReason.START_AFTER_END, "end first", "campaigns", 0, offset, 0L, null, null);
  }

  @Test
  void aHeldCampaignWhoseNewEndHasPassedIsCancelled() throws Exception {
    long[] now = {T0};
    Calls calls = new Calls(() -> now[0] * 1000L);
    Campaign first = Samples.campaign("p", Samples.RESTAURANT, T0 + 10, T0 + 100);
    calls.process(first);
    calls.process(Samples.version(first, T0 - 10, T0 - 1, first.createdEpochSecond() + 1, "gone"));
    now[0] = T0 + 10;
    calls.wake();
    assertEquals(List.of(), calls.released());
  }

  @Test
  void anOlderVersionIsAStaleRepeatAndAnIdenticalOneARepeat() throws Exception {
    Calls calls = new Calls(() -> T0 * 1000L);
    Campaign newer = Samples.campaign("s", Samples.RESTAURANT, T0 - 10, T0 + 100);
    Campaign older =
        Samples.version(newer, T0 - 10, T0 + 50, newer.createdEpochSecond() - 1, "old");
    calls.process(newer);
    calls.process(older);
    calls.process(newer);
    assertEquals(List.of(newer), calls.released());
    assertEquals(List.of(), calls.changed());
    assertEquals(List.of(), calls.versions.recorded);
  }

  @Test
  void anActiveCampaignEndedEarlyIsRecordedForTheDeliveryAndForgottenASecondAfterItsNewEnd()
      throws Exception {
    long[] now = {T0};
    Calls calls = new Calls(() -> now[0] * 1000L);
    Campaign lunch = Samples.campaign("a", Samples.RESTAURANT, T0 - 10, T0 + 3600);
    Campaign soldOut =
        Samples.version(lunch, T0 - 10, T0 + 5, lunch.createdEpochSecond() + 1, "sold out");
    calls.process(lunch);
    calls.process(soldOut);
    assertEquals(List.of(lunch), calls.released(), "not fanned out again");
    assertEquals(List.of(soldOut), calls.changed(), "to the late step");
    assertEquals(List.of(soldOut), calls.versions.recorded, "for the fan-out and the delivery");
    now[0] = T0 + 6;
    calls.wake();
    // Forgotten: the same id is a campaign of its own again, as after any end.
    Campaign again =
        Samples.version(lunch, T0 + 6, T0 + 60, lunch.createdEpochSecond() + 2, "tomorrow");
    calls.process(again);
    assertEquals(List.of(lunch, again), calls.released());
  }

  @Test
  void anActiveCampaignWithANewTextOrALaterEndIsChangedNotFannedOutAgain() throws Exception {
    Calls calls = new Calls(() -> T0 * 1000L);
    Campaign lunch = Samples.campaign("t", Samples.RESTAURANT, T0 - 10, T0 + 100);
    Campaign typo =
        Samples.version(lunch, T0 - 10, T0 + 100, lunch.createdEpochSecond() + 1, "fixed");
    Campaign longer =
        Samples.version(typo, T0 - 10, T0 + 900, lunch.createdEpochSecond() + 2, "fixed");
    calls.process(lunch);
    calls.process(typo);
    calls.process(longer);
    calls.process(typo); // stale
    assertEquals(List.of(lunch), calls.released());
    assertEquals(List.of(typo, longer), calls.changed());
    assertEquals(List.of(typo, longer), calls.versions.recorded);
  }

  @Test
  void aVersionOfTheSameSecondWithOtherTextIsAnUpdateAndTheSameAgainARepeat() throws Exception {
    Calls calls = new Calls(() -> T0 * 1000L);
    Campaign lunch = Samples.campaign("same", Samples.RESTAURANT, T0 - 10, T0 + 100);
    Campaign typo =
        Samples.version(lunch, T0 - 10, T0 + 100, lunch.createdEpochSecond(), "fixed typo");
    calls.process(lunch);
    calls.process(typo);
    calls.process(typo);
    assertEquals(List.of(typo), calls.changed(), "read later in the same second: newer");
    assertEquals(
        ScheduleCampaigns.Released.of(typo),
        CoderUtils.clone(
            ScheduleCampaigns.Released.ReleasedCoder.of(), ScheduleCampaigns.Released.of(typo)));
  }

  @Test
  void anActiveCampaignWhoseStartMovesLaterIsHeldAgainAndReleasedAtTheNewStart() throws Exception {
    long[] now = {T0};
    Calls calls = new Calls(() -> now[0] * 1000L);
    Campaign lunch = Samples.campaign("m", Samples.RESTAURANT, T0 - 10, T0 + 3600);
    Campaign later =
        Samples.version(lunch, T0 + 60, T0 + 3600, lunch.createdEpochSecond() + 1, "at one");
    calls.process(lunch);
    calls.process(later);
    assertEquals(List.of(later), calls.changed(), "the late step waits for the new start");
    now[0] = T0 + 59;
    calls.wake();
    assertEquals(List.of(lunch), calls.released());
    now[0] = T0 + 60;
    calls.wake();
    assertEquals(List.of(lunch, later), calls.released(), "its fan-out skips who had it");
  }

  @Test
  void anUpdateAfterTheEndOrACancellationIsIgnored() throws Exception {
    long[] now = {T0};
    Calls calls = new Calls(() -> now[0] * 1000L);
    Campaign lunch = Samples.campaign("e", Samples.RESTAURANT, T0 - 10, T0 + 100);
    Campaign ended = Samples.version(lunch, T0 - 10, T0, lunch.createdEpochSecond() + 1, "over");
    Campaign revived =
        Samples.version(lunch, T0 - 10, T0 + 500, lunch.createdEpochSecond() + 2, "back");
    calls.process(lunch);
    calls.process(ended);
    calls.process(revived);
    assertEquals(List.of(lunch), calls.released());
    assertEquals(List.of(ended), calls.changed());
    assertEquals(List.of(ended), calls.versions.recorded);
  }

  @Test
  void repeatedUpdatesOfAHeldCampaignKeepTheNewest(TestPipeline p) {
    Campaign first = Samples.campaign("r", Samples.RESTAURANT, T0 + 10, T0 + 100);
    Campaign second =
        Samples.version(first, T0 + 5, T0 + 100, first.createdEpochSecond() + 1, "two");
    Campaign third =
        Samples.version(first, T0 + 8, T0 + 100, first.createdEpochSecond() + 2, "three");
    PCollection<Campaign> out =
        p.apply(
                stream()
                    .addElements(first)
                    .addElements(third)
                    .addElements(second) // older than the third: a stale repeat
                    .advanceProcessingTime(Duration.millis(8_001))
                    .advanceWatermarkToInfinity())
            .apply(arrive())
            .apply(
                new ScheduleCampaigns(
                    ScriptedClock.of(T0, T0, T0, T0 + 8),
                    CampaignVersions.NONE,
                    RunnerProfile.DIRECT.shards()))
            .get(ScheduleCampaigns.RELEASED);
    PAssert.that(out).containsInAnyOrder(third);
    p.run().waitUntilFinish();
  }

  /** The step's DoFn with its state, timer and outputs, called directly. */
  private static final class Calls {
    final RecordedVersions versions = new RecordedVersions();
    final ScheduleCampaigns.HoldUntilStartFn fn;
    final DirectCalls state = new DirectCalls();
    final MapState<String, Campaign> held;
    final MapState<String, ScheduleCampaigns.Released> released;
    final ValueState<Long> wakeAt;
    final DirectCalls.CountingTimer wake = new DirectCalls.CountingTimer();
    final DirectCalls.CollectedByTag out = new DirectCalls.CollectedByTag();

    Calls(Clock clock) {
      fn = new ScheduleCampaigns.HoldUntilStartFn(clock, versions);
      held = state.map("held", StringUtf8Coder.of(), Campaign.CampaignCoder.of());
      released =
          state.map(
              "releasedVersions",
              StringUtf8Coder.of(),
              ScheduleCampaigns.Released.ReleasedCoder.of());
      wakeAt = state.value("wakeAt", VarLongCoder.of());
    }

    void process(Campaign campaign) throws InterruptedException {
      process(Arrival.of(campaign));
    }

    void process(Arrival arrival) throws InterruptedException {
      fn.process(KV.of(0, arrival), held, released, wakeAt, wake, out);
    }

    List<DeadLetter> deadLetters() {
      return out.get(ScheduleCampaigns.DEAD_LETTERS).all;
    }

    void wake() {
      fn.onWake(held, released, wakeAt, wake, out);
    }

    List<Campaign> released() {
      return out.get(ScheduleCampaigns.RELEASED).all;
    }

    List<Campaign> changed() {
      return out.get(ScheduleCampaigns.CHANGED).all;
    }
  }

  /** The versions recorded, in order; asked, it knows none. */
  private static final class RecordedVersions implements CampaignVersions {
    final List<Campaign> recorded = new ArrayList<>();

    @Override
    public Campaign newest(Campaign campaign) {
      return campaign;
    }

    @Override
    public void record(Campaign newest, long keepUntilEpochSecond) {
      recorded.add(newest);
    }
  }

  /** The runners see the bundle methods {@code SparkSafeTimersFn} gives the schedule's DoFn. */
  @Test
  void runnersSeeTheInheritedBundleMethods() {
    org.apache.beam.sdk.transforms.reflect.DoFnSignature signature =
        org.apache.beam.sdk.transforms.reflect.DoFnSignatures.getSignature(
            ScheduleCampaigns.HoldUntilStartFn.class);
    org.junit.jupiter.api.Assertions.assertNotNull(signature.startBundle(), "@StartBundle");
    org.junit.jupiter.api.Assertions.assertNotNull(signature.finishBundle(), "@FinishBundle");
  }
}
