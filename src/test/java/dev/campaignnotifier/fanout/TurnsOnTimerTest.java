package dev.campaignnotifier.fanout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.campaignnotifier.Samples;
import dev.campaignnotifier.campaigns.CampaignVersions;
import dev.campaignnotifier.delivery.DeliveryLedger;
import dev.campaignnotifier.delivery.ScriptedDelivered;
import dev.campaignnotifier.model.Campaign;
import dev.campaignnotifier.model.Slice;
import dev.campaignnotifier.runner.DirectCalls;
import dev.campaignnotifier.runner.RunnerProfile;
import dev.campaignnotifier.subscribers.SubscriberReader;
import dev.campaignnotifier.subscribers.SubscriberSource;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.state.MapState;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestPipelineExtension;
import org.apache.beam.sdk.testing.TestStream;
import org.apache.beam.sdk.transforms.reflect.DoFnSignature;
import org.apache.beam.sdk.transforms.reflect.DoFnSignatures;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.joda.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The fan-out in turns on a timer (the SparkRunner's, {@link TurnsOnTimerFn}): the first turn when
 * the campaign arrives, one more each time processing time moves on (TestStream's clock, so no test
 * waits), the same slices, numbering and replay as the other fan-outs.
 */
@ExtendWith(TestPipelineExtension.class)
class TurnsOnTimerTest {
  private static final long NOW = 1_700_000_000L;
  private static final List<String> BIG =
      IntStream.range(0, 1_001).mapToObj(i -> String.format("client-%05d", i)).toList();

  /** Stands in for the lookup query: 1,001 clients of "big", and the sample's restaurants. */
  static final class BigLookup implements SubscriberReader, Serializable {
    @Override
    public long forEachClient(String restaurantId, Consumer<String> client) {
      if (restaurantId.equals("big")) {
        BIG.forEach(client);
        return BIG.size();
      }
      return FanOutToSubscribersTest.sampleSnapshot().forEachClient(restaurantId, client);
    }
  }

  private static PCollection<Slice> fanOut(
      TestPipeline p, TestStream<Campaign> campaigns, int sliceSize) {
    return p.apply(campaigns)
        .apply(
            new FanOutToSubscribers(
                SubscriberSource.fromLookup(new BigLookup()),
                ScriptedDelivered.of(
                    campaignId ->
                        campaignId.equals("replayed")
                            ? Set.of(
                                Samples.RESTAURANT_CLIENTS.get(0),
                                Samples.RESTAURANT_CLIENTS.get(1))
                            : Set.of()),
                CampaignVersions.NONE,
                () -> NOW * 1000L,
                sliceSize,
                3,
                RunnerProfile.SPARK,
                null));
  }

  private static List<Slice> list(Iterable<Slice> all) {
    List<Slice> list = new ArrayList<>();
    all.forEach(list::add);
    return list;
  }

  @Test
  void aBigCampaignTakesOneTurnWhenItArrivesAndOneEachTimeTheTimerFires(TestPipeline p) {
    Campaign big = Samples.campaign("big-one", "big", NOW - 10, NOW + 10);
    TestStream<Campaign> campaigns =
        TestStream.create(Campaign.CampaignCoder.of())
            .addElements(big)
            .advanceProcessingTime(Duration.standardSeconds(1))
            .advanceWatermarkToInfinity();
    // Two turns of 3 slices of 100: at arrival, and at the one timer that could fire.
    PAssert.that(fanOut(p, campaigns, 100))
        .satisfies(
            all -> {
              List<Slice> list = list(all);
              assertEquals(
                  List.of(1, 2, 3, 4, 5, 6), list.stream().map(Slice::number).sorted().toList());
              assertEquals(0, list.stream().filter(s -> s.ofSlices() > 0).count());
              return null;
            });
    p.run().waitUntilFinish();
  }

  @Test
  void aFanOutOfManyTurnsNumbersItsSlicesAsOneFanOut(TestPipeline p) {
    Campaign big = Samples.campaign("big-one", "big", NOW - 10, NOW + 10);
    Campaign small = Samples.campaign("small", Samples.RESTAURANT, NOW - 10, NOW + 10);
    TestStream.Builder<Campaign> campaigns =
        TestStream.create(Campaign.CampaignCoder.of()).addElements(big);
    for (int i = 0; i < 5; i++) {
      campaigns = campaigns.advanceProcessingTime(Duration.standardSeconds(1));
    }
    PAssert.that(fanOut(p, campaigns.addElements(small).advanceWatermarkToInfinity(), 100))
        .satisfies(
            all -> {
              List<Slice> list =
                  list(all).stream()
                      .filter(s -> s.campaign().advCampaignId().equals("big-one"))
                      .toList();
              PacedFanOutTest.assertOneFanOutOf11Slices(list, BIG);
              List<Slice> smalls =
                  list(all).stream()
                      .filter(s -> s.campaign().advCampaignId().equals("small"))
                      .toList();
              assertEquals(1, smalls.size(), "a small campaign in one turn, with no timer");
              assertEquals(1, smalls.get(0).ofSlices());
              return null;
            });
    p.run().waitUntilFinish();
  }

  @Test
  void aReplayInTurnsSkipsTheClientsAlreadyNotified(TestPipeline p) {
    Campaign replayed = Samples.campaign("replayed", Samples.RESTAURANT, NOW - 10, NOW + 10);
    TestStream<Campaign> campaigns =
        TestStream.create(Campaign.CampaignCoder.of())
            .addElements(replayed)
            .advanceProcessingTime(Duration.standardSeconds(1))
            .advanceWatermarkToInfinity();
    // 9 subscribers in slices of 1, 3 per turn: two turns read 6, of whom 2 had it already.
    PAssert.that(fanOut(p, campaigns, 1))
        .satisfies(
            all -> {
              assertEquals(
                  Samples.RESTAURANT_CLIENTS.subList(2, 6),
                  list(all).stream().flatMap(s -> s.clients().stream()).sorted().toList());
              return null;
            });
    p.run().waitUntilFinish();
  }

  /** One newest version, set by the test between turns. */
  private static final class OneVersion implements CampaignVersions {
    Campaign newest;

    @Override
    public Campaign newest(Campaign campaign) {
      return newest != null && newest.supersedes(campaign) ? newest : campaign;
    }

    @Override
    public void record(Campaign newest, long keepUntilEpochSecond) {
      this.newest = newest;
    }
  }

  @Test
  void anUpdateBetweenTurnsGivesTheRestTheNewTextAndAnEndedOneStopsTheFanOut() throws Exception {
    OneVersion versions = new OneVersion();
    FanOutTurns turns =
        new FanOutTurns(() -> NOW * 1000L, ScriptedDelivered.of(c -> Set.of()), versions, 100, 3);
    Campaign big = Samples.campaign("lunch", "big", NOW - 10, NOW + 3600);
    BigLookup reader = new BigLookup();

    FanOutTurns.Turn first =
        turns.take(big, turns.begin(big, DeliveryLedger.Before.NOTHING), reader);
    assertEquals(3, first.slices().size());
    assertEquals(big, first.slices().get(2).campaign());

    Campaign typo =
        Samples.version(
            big,
            big.startEpochSecond(),
            big.endEpochSecond(),
            big.createdEpochSecond() + 1,
            "fixed text");
    versions.record(typo, typo.endEpochSecond());
    FanOutTurns.Turn second = turns.take(big, first.next(), reader);
    assertEquals(3, second.slices().size());
    assertEquals(
        List.of(typo), second.slices().stream().map(b -> b.campaign()).distinct().toList());
    assertEquals(4, second.slices().get(0).number(), "the same fan-out goes on");

    Campaign soldOut =
        Samples.version(
            big, big.startEpochSecond(), NOW - 1, big.createdEpochSecond() + 2, "sold out");
    versions.record(soldOut, big.endEpochSecond());
    FanOutTurns.Turn third = turns.take(big, second.next(), reader);
    assertEquals(List.of(), third.slices());
    assertEquals(true, third.stopped());
    assertEquals(true, third.next().done(), "no further turn");
    List<Slice> out = new ArrayList<>();
    turns.output(big, third, out::add);
    assertEquals(List.of(), out);
  }

  @Test
  void snapshotModeIsRefused() {
    SubscriberSource snapshot =
        SubscriberSource.fromSnapshot(null, new FanOutToSubscribersTest.SampleLookup());
    assertEquals(
        "a fan-out in turns on a timer needs lookup mode",
        assertThrows(
                IllegalArgumentException.class,
                () ->
                    new TurnsOnTimerFn(
                        snapshot,
                        () -> 0L,
                        ScriptedDelivered.of(c -> Set.of()),
                        CampaignVersions.NONE,
                        10,
                        1))
            .getMessage());
  }

  @Test
  void aTimerFiredAfterItsBundleFinishedTakesNoTurnAndComesBack() throws Exception {
    // Beam 2.70's Spark runner fires timers that fell due as a bundle finished once more, after it
    // has collected the bundle's output, and drops what they output.
    TurnsOnTimerFn fn =
        new TurnsOnTimerFn(
            SubscriberSource.fromLookup(new BigLookup()),
            () -> NOW * 1000L,
            ScriptedDelivered.of(c -> Set.of()),
            CampaignVersions.NONE,
            100,
            3);
    DirectCalls calls = new DirectCalls();
    MapState<String, Campaign> campaigns =
        calls.map("campaigns", StringUtf8Coder.of(), Campaign.CampaignCoder.of());
    MapState<String, FanOutTurns.Cursor> cursors =
        calls.map("cursors", StringUtf8Coder.of(), FanOutTurns.CursorCoder.of());
    DirectCalls.CountingTimer timer = new DirectCalls.CountingTimer();
    DirectCalls.Collected<Slice> out = new DirectCalls.Collected<>();
    Campaign big = Samples.campaign("big-one", "big", NOW - 10, NOW + 10);

    fn.startBundle();
    fn.process(
        KV.of(0, new AskDelivered.Asked(big, DeliveryLedger.Before.NOTHING)),
        campaigns,
        cursors,
        timer,
        out);
    fn.finishBundle();
    fn.onTurn(campaigns, cursors, timer, out);
    assertEquals(3, out.all.size(), "the first turn only");
    assertEquals(2, timer.sets, "set after the first turn, and again by the late firing");

    fn.startBundle();
    fn.onTurn(campaigns, cursors, timer, out);
    assertEquals(List.of(1, 2, 3, 4, 5, 6), out.all.stream().map(Slice::number).toList());
  }

  @Test
  void runnersSeeTheInheritedBundleMethods() {
    DoFnSignature signature = DoFnSignatures.getSignature(TurnsOnTimerFn.class);
    assertNotNull(signature.startBundle(), "@StartBundle");
    assertNotNull(signature.finishBundle(), "@FinishBundle");
  }
}
