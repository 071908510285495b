package dev.campaignnotifier.late;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.campaignnotifier.Samples;
import dev.campaignnotifier.campaigns.CampaignShards;
import dev.campaignnotifier.delivery.ScriptedDelivered;
import dev.campaignnotifier.late.NotifyLateSubscribers.Event;
import dev.campaignnotifier.model.Campaign;
import dev.campaignnotifier.model.Clock;
import dev.campaignnotifier.model.ScriptedClock;
import dev.campaignnotifier.model.Slice;
import dev.campaignnotifier.runner.DirectCalls;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.MapCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.state.MapState;
import org.apache.beam.sdk.state.ValueState;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestPipelineExtension;
import org.apache.beam.sdk.testing.TestStream;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.reflect.DoFnSignature;
import org.apache.beam.sdk.transforms.reflect.DoFnSignatures;
import org.apache.beam.sdk.util.CoderUtils;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptor;
import org.joda.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Late subscribers, driven by TestStream's processing time (when the check timer fires) and a
 * scripted clock (what "now" reads: once per element and once per timer firing, in that order). The
 * feedback table and the ledger are scripted: every campaign's fan-out is recorded, and "early" had
 * the fan-out's notification.
 */
@ExtendWith(TestPipelineExtension.class)
class NotifyLateSubscribersTest {
  private static final long T0 = 1_700_000_000L;
  private static final String R = Samples.RESTAURANT;
  private static final Duration RECENT = Duration.standardMinutes(2);

  /** The fan-out is recorded for every campaign, and reached "early". */
  static final class FannedOut extends ScriptedDelivered {
    @Override
    public Set<String> clientsOf(String campaignId) {
      return Set.of("early");
    }

    @Override
    public boolean finished(String campaignId) {
      return true;
    }

    @Override
    public Set<String> deliveredAmong(String campaignId, Collection<String> clients) {
      Set<String> among = new HashSet<>(clients);
      among.retainAll(Set.of("early"));
      return among;
    }
  }

  private static KV<Integer, KV<String, Event>> released(Campaign c) {
    return KV.of(
        CampaignShards.shardOf(c.restaurantId()), KV.of(c.restaurantId(), Event.released(c)));
  }

  private static KV<Integer, KV<String, Event>> subscribed(String... clients) {
    return subscribedTo(R, clients);
  }

  private static KV<Integer, KV<String, Event>> subscribedTo(String restaurant, String... clients) {
    return KV.of(
        CampaignShards.shardOf(restaurant), KV.of(restaurant, Event.subscribed(List.of(clients))));
  }

  private static TestStream.Builder<KV<Integer, KV<String, Event>>> stream() {
    return TestStream.create(
        KvCoder.of(
            VarIntCoder.of(),
            KvCoder.of(StringUtf8Coder.of(), NotifyLateSubscribers.EventCoder.of())));
  }

  /** Campaign id, trigger time and clients of each slice. */
  private static PCollection<String> described(
      TestPipeline p, TestStream<KV<Integer, KV<String, Event>>> events, Clock clock) {
    return p.apply(events)
        .apply(
            ParDo.of(
                new NotifyLateSubscribers.LateFn(new FannedOut(), clock, RECENT.getMillis(), 2)))
        .setCoder(Slice.SliceCoder.of())
        .apply(
            MapElements.into(TypeDescriptor.of(String.class))
                .via(
                    (Slice b) ->
                        b.campaign().advCampaignId()
                            + "@"
                            + (b.triggerEpochSecond() - T0)
                            + " "
                            + b.clients()
                            + " ledger "
                            + b.fanOutId()));
  }

  @Test
  void aSubscriptionDuringTheCampaignIsNotifiedOnceAndOneAfterItsEndIsNot(TestPipeline p) {
    Campaign c = Samples.campaign("c", R, T0 - 10, T0 + 100);
    TestStream<KV<Integer, KV<String, Event>>> events =
        stream()
            .addElements(released(c)) // now T0: active, nobody late yet
            .addElements(subscribed("late")) // T0+5: waits for the check
            .advanceProcessingTime(Duration.standardSeconds(2)) // check at T0+7: notified
            .addElements(subscribed("late")) // T0+10: removed and added again
            .advanceProcessingTime(Duration.standardSeconds(2)) // check at T0+12: already has it
            .advanceProcessingTime(Duration.standardSeconds(100)) // T0+102: the campaign ended
            .addElements(subscribed("after")) // T0+103: after the end
            .advanceProcessingTime(Duration.standardSeconds(300)) // T0+300: all forgotten
            .advanceWatermarkToInfinity();
    Clock clock =
        ScriptedClock.of(T0, T0 + 5, T0 + 7, T0 + 10, T0 + 12, T0 + 102, T0 + 103, T0 + 300);
    PAssert.that(described(p, events, clock)).containsInAnyOrder("c@7 [late] ledger null");
    p.run().waitUntilFinish();
  }

  @Test
  void aSubscriptionBeforeTheStartIsTheFanOutsNotALateOne(TestPipeline p) {
    Campaign c = Samples.campaign("c", R, T0 + 5, T0 + 100);
    TestStream<KV<Integer, KV<String, Event>>> events =
        stream()
            .addElements(subscribed("early")) // T0: before the start, kept as recent
            .advanceProcessingTime(Duration.standardSeconds(5))
            .addElements(released(c)) // T0+5: released at its start; "early" checked
            .addElements(subscribed("late")) // T0+6
            .advanceProcessingTime(Duration.standardSeconds(2)) // check at T0+8
            .advanceWatermarkToInfinity();
    Clock clock = ScriptedClock.of(T0, T0 + 5, T0 + 6, T0 + 8);
    PAssert.that(described(p, events, clock)).containsInAnyOrder("c@8 [late] ledger null");
    p.run().waitUntilFinish();
  }

  @Test
  void aSubscriptionSeenJustBeforeItsCampaignArrivesIsStillChecked(TestPipeline p) {
    Campaign c = Samples.campaign("c", R, T0 - 60, T0 + 100);
    TestStream<KV<Integer, KV<String, Event>>> events =
        stream()
            .addElements(subscribed("raced")) // T0: the watcher saw it before the campaign
            .addElements(released(c)) // T0+1
            .advanceProcessingTime(Duration.standardSeconds(2)) // check at T0+3
            .advanceWatermarkToInfinity();
    Clock clock = ScriptedClock.of(T0, T0 + 1, T0 + 3);
    PAssert.that(described(p, events, clock)).containsInAnyOrder("c@3 [raced] ledger null");
    p.run().waitUntilFinish();
  }

  @Test
  void manyAtOnceAreSlicedLikeAFanOut(TestPipeline p) {
    Campaign c = Samples.campaign("c", R, T0 - 10, T0 + 100);
    TestStream<KV<Integer, KV<String, Event>>> events =
        stream()
            .addElements(released(c)) // T0
            .addElements(subscribed("a", "b", "early", "c")) // T0+1: a bulk of favourites
            .advanceProcessingTime(Duration.standardSeconds(2)) // check at T0+3
            .advanceWatermarkToInfinity();
    Clock clock = ScriptedClock.of(T0, T0 + 1, T0 + 3);
    PAssert.that(described(p, events, clock))
        .containsInAnyOrder("c@3 [a, b] ledger null", "c@3 [c] ledger null");
    p.run().waitUntilFinish();
  }

  /** Another restaurant under R's shard: one key, one timer, for both. */
  private static String sameShardAs(String restaurant) {
    for (int i = 0; ; i++) {
      String other = "other-" + i;
      if (CampaignShards.shardOf(other) == CampaignShards.shardOf(restaurant)) {
        return other;
      }
    }
  }

  /**
   * Two restaurants of one shard: each one's late subscriber gets that restaurant's campaign only,
   * and the one whose campaign ended earlier stops while the other goes on.
   */
  @Test
  void restaurantsThatShareAShardAreKeptApart(TestPipeline p) {
    String other = sameShardAs(R);
    Campaign c = Samples.campaign("c", R, T0 - 10, T0 + 100);
    Campaign d = Samples.campaign("d", other, T0 - 10, T0 + 20);
    TestStream<KV<Integer, KV<String, Event>>> events =
        stream()
            .addElements(released(c)) // T0
            .addElements(released(d)) // T0+1
            .addElements(subscribedTo(R, "x")) // T0+2
            .addElements(subscribedTo(other, "y")) // T0+3
            .advanceProcessingTime(Duration.standardSeconds(2)) // check at T0+5: x of c, y of d
            .advanceProcessingTime(Duration.standardSeconds(30)) // T0+35: d has ended
            .addElements(subscribedTo(other, "z")) // T0+36: after d's end
            .addElements(subscribedTo(R, "w")) // T0+37: during c
            .advanceProcessingTime(Duration.standardSeconds(2)) // check at T0+39: w of c
            .advanceWatermarkToInfinity();
    Clock clock =
        ScriptedClock.of(T0, T0 + 1, T0 + 2, T0 + 3, T0 + 5, T0 + 21, T0 + 36, T0 + 37, T0 + 39);
    PAssert.that(described(p, events, clock))
        .containsInAnyOrder("c@5 [x] ledger null", "d@5 [y] ledger null", "c@39 [w] ledger null");
    p.run().waitUntilFinish();
  }

  @Test
  void aRestaurantsStateRoundTripsThroughItsCoder() throws Exception {
    NotifyLateSubscribers.Restaurant held =
        new NotifyLateSubscribers.Restaurant(
            List.of(Samples.campaign("c", R, T0, T0 + 1)),
            java.util.Map.of("x", 5L),
            java.util.Map.of("c", List.of("x")),
            java.util.Map.of("c", List.of("y")));
    byte[] bytes = CoderUtils.encodeToByteArray(NotifyLateSubscribers.RestaurantCoder.of(), held);
    assertEquals(
        held, CoderUtils.decodeFromByteArray(NotifyLateSubscribers.RestaurantCoder.of(), bytes));
  }

  @Test
  void eventsRoundTripThroughTheirCoder() throws Exception {
    for (Event e :
        List.of(
            Event.subscribed(List.of("x", "y")),
            Event.released(Samples.campaign("c", R, T0, T0 + 1)))) {
      byte[] bytes = CoderUtils.encodeToByteArray(NotifyLateSubscribers.EventCoder.of(), e);
      assertEquals(e, CoderUtils.decodeFromByteArray(NotifyLateSubscribers.EventCoder.of(), bytes));
    }
  }

  @Test
  void aCheckFiredAfterItsBundleOnlySetsItselfAgainAndTheNextOneNotifies() throws Exception {
    // Beam 2.70's Spark runner fires timers that fell due as a key's bundle ended once more, after
    // it has collected the bundle's output, and drops what they output (SparkSafeTimersFn). The
    // check marks a client notified as it outputs it: in that firing it would be lost for good.
    long[] now = {(T0 + 20) * 1000};
    NotifyLateSubscribers.LateFn fn =
        new NotifyLateSubscribers.LateFn(new FannedOut(), () -> now[0], RECENT.getMillis(), 2);
    DirectCalls calls = new DirectCalls();
    MapState<String, NotifyLateSubscribers.Restaurant> restaurants =
        calls.map("restaurants", StringUtf8Coder.of(), NotifyLateSubscribers.RestaurantCoder.of());
    ValueState<Map<String, Long>> due =
        calls.value("due", MapCoder.of(StringUtf8Coder.of(), VarLongCoder.of()));
    DirectCalls.CountingTimer timer = new DirectCalls.CountingTimer();
    DirectCalls.Collected<Slice> out = new DirectCalls.Collected<>();

    fn.startBundle();
    fn.process(released(Samples.campaign("lunch", R, T0, T0 + 600)), restaurants, due, timer);
    fn.process(subscribed("late"), restaurants, due, timer);
    fn.finishBundle();
    int setBefore = timer.sets;
    now[0] += 5_000;
    fn.onCheck(restaurants, due, timer, out);
    assertEquals(0, out.all.size(), "nothing output where the runner drops it");
    assertEquals(setBefore + 1, timer.sets, "set again for the next micro-batch");

    fn.startBundle();
    fn.onCheck(restaurants, due, timer, out);
    assertEquals(1, out.all.size());
    assertEquals(List.of("late"), out.all.get(0).clients());
    fn.onCheck(restaurants, due, timer, out);
    assertEquals(1, out.all.size(), "once");
  }

  // A campaign published again (ScheduleCampaigns.CHANGED): the newest version counts.

  /** LateFn called directly on one shard's state, at the time {@code now} says. */
  private static final class LateCalls {
    final long[] now = {T0 * 1000};
    final NotifyLateSubscribers.LateFn fn =
        new NotifyLateSubscribers.LateFn(new FannedOut(), () -> now[0], RECENT.getMillis(), 2);
    final DirectCalls calls = new DirectCalls();
    final MapState<String, NotifyLateSubscribers.Restaurant> restaurants =
        calls.map("restaurants", StringUtf8Coder.of(), NotifyLateSubscribers.RestaurantCoder.of());
    final ValueState<Map<String, Long>> due =
        calls.value("due", MapCoder.of(StringUtf8Coder.of(), VarLongCoder.of()));
    final DirectCalls.CountingTimer timer = new DirectCalls.CountingTimer();
    final DirectCalls.Collected<Slice> out = new DirectCalls.Collected<>();

    LateCalls() {
      fn.startBundle();
    }

    void at(long epochSecond) throws InterruptedException {
      now[0] = epochSecond * 1000;
      fn.onCheck(restaurants, due, timer, out);
    }

    void event(KV<Integer, KV<String, Event>> event) {
      fn.process(event, restaurants, due, timer);
    }

    List<String> notified() {
      List<String> told = new ArrayList<>();
      out.all.forEach(b -> b.clients().forEach(c -> told.add(b.campaign().content() + ":" + c)));
      return told;
    }
  }

  @Test
  void afterAnEndMovedEarlierALateSubscriberGetsNothingAndMovedLaterGetsIt() throws Exception {
    Campaign lunch = Samples.campaign("lunch", R, T0 - 10, T0 + 100);
    Campaign soldOut =
        Samples.version(
            lunch, lunch.startEpochSecond(), T0 + 20, lunch.createdEpochSecond() + 1, "sold out");
    Campaign dinner = Samples.campaign("dinner", R, T0 - 10, T0 + 100);
    Campaign extended =
        Samples.version(
            dinner,
            dinner.startEpochSecond(),
            T0 + 500,
            dinner.createdEpochSecond() + 1,
            "extended");
    LateCalls late = new LateCalls();
    late.event(released(lunch));
    late.event(released(dinner));
    late.event(released(soldOut));
    late.event(released(extended));
    late.event(released(lunch)); // the older version again: no change
    late.at(T0 + 30); // lunch ended at T0+20
    late.event(subscribed("a"));
    late.at(T0 + 31);
    late.at(T0 + 200); // after dinner's first end, before its new one
    late.event(subscribed("b"));
    late.at(T0 + 201);
    assertEquals(List.of("extended:a", "extended:b"), late.notified());
  }

  @Test
  void aLateSubscriberAfterANewTextGetsTheNewText() throws Exception {
    Campaign lunch = Samples.campaign("lunch", R, T0 - 10, T0 + 100);
    LateCalls late = new LateCalls();
    late.event(released(lunch));
    late.event(subscribed("a"));
    late.at(T0 + 1);
    late.event(
        released(
            Samples.version(
                lunch,
                lunch.startEpochSecond(),
                T0 + 100,
                lunch.createdEpochSecond() + 1,
                "fixed typo")));
    late.event(subscribed("a", "b"));
    late.at(T0 + 2);
    assertEquals(List.of(lunch.content() + ":a", "fixed typo:b"), late.notified());
  }

  @Test
  void aLateSubscriberWaitsForAStartMovedLater() throws Exception {
    Campaign lunch = Samples.campaign("lunch", R, T0 - 10, T0 + 3600);
    Campaign later =
        Samples.version(lunch, T0 + 60, T0 + 3600, lunch.createdEpochSecond() + 1, "at one");
    LateCalls late = new LateCalls();
    late.event(released(lunch));
    late.event(released(later));
    late.event(subscribed("a"));
    late.at(T0 + 30);
    assertEquals(List.of(), late.notified(), "not before the new start");
    late.event(released(later)); // released again at its new start: the same version
    late.at(T0 + 60);
    assertEquals(List.of("at one:a"), late.notified());
  }

  @Test
  void runnersSeeTheInheritedBundleMethods() {
    DoFnSignature signature = DoFnSignatures.getSignature(NotifyLateSubscribers.LateFn.class);
    assertNotNull(signature.startBundle());
    assertNotNull(signature.finishBundle());
  }
}
