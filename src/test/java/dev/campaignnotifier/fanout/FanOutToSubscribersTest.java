package dev.campaignnotifier.fanout;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.campaignnotifier.Samples;
import dev.campaignnotifier.campaigns.CampaignVersions;
import dev.campaignnotifier.delivery.DeliverNotifications;
import dev.campaignnotifier.delivery.ScriptedDelivered;
import dev.campaignnotifier.model.Campaign;
import dev.campaignnotifier.model.NotificationJson;
import dev.campaignnotifier.model.Slice;
import dev.campaignnotifier.runner.RunnerProfile;
import dev.campaignnotifier.subscribers.SubscriberReader;
import dev.campaignnotifier.subscribers.SubscriberSnapshot;
import dev.campaignnotifier.subscribers.SubscriberSource;
import java.io.Serializable;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestPipelineExtension;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.FlatMapElements;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.View;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionView;
import org.apache.beam.sdk.values.TypeDescriptor;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(TestPipelineExtension.class)
class FanOutToSubscribersTest {
  private static final long NOW = 1_700_000_000L;

  /** 0: each campaign's slices in one call; {@link PacedFanOutTest} runs every test in turns. */
  int slicesPerTurn() {
    return 0;
  }

  static SubscriberSnapshot sampleSnapshot() {
    SubscriberSnapshot.Builder b = SubscriberSnapshot.builder();
    Samples.RESTAURANT_CLIENTS.forEach(c -> b.add(Samples.RESTAURANT, c));
    b.add(Samples.RESTAURANT, Samples.RESTAURANT_CLIENTS.get(0)); // a repeated row
    b.add(Samples.OTHER_RESTAURANT, Samples.OTHER_CLIENT);
    return b.build(1);
  }

  PCollection<String> fanOut(TestPipeline p, Campaign... campaigns) {
    return fanOut(p, sampleSnapshot(), campaigns);
  }

  PCollection<String> fanOut(TestPipeline p, SubscriberSnapshot snapshot, Campaign... campaigns) {
    PCollectionView<SubscriberSnapshot> view =
        p.apply("Snapshot", Create.of(snapshot).withCoder(SubscriberSnapshot.SnapshotCoder.of()))
            .apply(View.asSingleton());
    return fanOut(p, SubscriberSource.fromSnapshot(view, new SampleLookup()), campaigns);
  }

  PCollection<String> fanOut(TestPipeline p, SubscriberSource source, Campaign... campaigns) {
    return notificationsOf(
        p.apply("Campaigns", Create.of(List.of(campaigns)).withCoder(Campaign.CampaignCoder.of()))
            .apply(
                new FanOutToSubscribers(
                    source,
                    ScriptedDelivered.of(
                        campaignId ->
                            campaignId.equals("replayed")
                                ? Set.of(
                                    Samples.RESTAURANT_CLIENTS.get(0),
                                    Samples.RESTAURANT_CLIENTS.get(1))
                                : Set.of()),
                    CampaignVersions.NONE,
                    () -> NOW * 1000L,
                    4,
                    slicesPerTurn(),
                    RunnerProfile.DIRECT,
                    null)));
  }

  /** Stands in for the lookup query: the sample's subscribers, read from a fresh snapshot. */
  static final class SampleLookup implements SubscriberReader, Serializable {
    @Override
    public long forEachClient(String restaurantId, Consumer<String> client) {
      return sampleSnapshot().forEachClient(restaurantId, client);
    }
  }

  /** The notifications of {@code clients}, stamped with the fan-out's moment, as published. */
  private static List<String> notified(Campaign c, List<String> clients) {
    return clients.stream().map(client -> message(c, client)).collect(Collectors.toList());
  }

  /** The message {@code client} is sent for {@code c}, stamped with the fan-out's moment. */
  private static String message(Campaign c, String client) {
    return NotificationJson.forSlice(c, NOW).forClient(client);
  }

  /** One message per client of each slice, as the delivery renders it. */
  private static PCollection<String> notificationsOf(PCollection<Slice> slices) {
    return slices
        .apply(
            FlatMapElements.into(TypeDescriptors.strings())
                .via(
                    (Slice s) -> {
                      NotificationJson.Template json =
                          NotificationJson.forSlice(s.campaign(), s.triggerEpochSecond());
                      return s.clients().stream().map(json::forClient).toList();
                    }))
        .setCoder(StringUtf8Coder.of());
  }

  @Test
  void lookupModeNotifiesEachClientTheReaderHandsOver(TestPipeline p) {
    Campaign c = Samples.campaign("c1", Samples.RESTAURANT, NOW - 10, NOW + 10);
    PAssert.that(fanOut(p, SubscriberSource.fromLookup(new SampleLookup()), c))
        .containsInAnyOrder(notified(c, Samples.RESTAURANT_CLIENTS));
    p.run().waitUntilFinish();
  }

  @Test
  void lookupModeReplaySkipsTheClientsAlreadyNotified(TestPipeline p) {
    Campaign c = Samples.campaign("replayed", Samples.RESTAURANT, NOW - 10, NOW + 10);
    PAssert.that(fanOut(p, SubscriberSource.fromLookup(new SampleLookup()), c))
        .containsInAnyOrder(notified(c, Samples.RESTAURANT_CLIENTS.subList(2, 9)));
    p.run().waitUntilFinish();
  }

  @Test
  void slicesHoldAtMostTheBatchSize(TestPipeline p) {
    Campaign c = Samples.campaign("c1", Samples.RESTAURANT, NOW - 10, NOW + 10);
    PCollection<String> sizes =
        p.apply("Campaigns", Create.of(List.of(c)).withCoder(Campaign.CampaignCoder.of()))
            .apply(
                new FanOutToSubscribers(
                    SubscriberSource.fromLookup(new SampleLookup()),
                    ScriptedDelivered.of(campaignId -> Set.of()),
                    CampaignVersions.NONE,
                    () -> NOW * 1000L,
                    4,
                    slicesPerTurn(),
                    RunnerProfile.DIRECT,
                    null))
            .apply(
                MapElements.into(TypeDescriptor.of(String.class))
                    .via(b -> b.size() + " clients, slice " + b.number() + " of " + b.ofSlices()));
    // Numbered from 1 for the delivery ledger; only the last says how many there are.
    PAssert.that(sizes)
        .containsInAnyOrder(
            "4 clients, slice 1 of 0", "4 clients, slice 2 of 0", "1 clients, slice 3 of 3");
    p.run().waitUntilFinish();
  }

  /** Campaign ids a test's ledger was told had nobody left (the pipeline runs in this JVM). */
  private static final Set<String> NOTHING_LEFT = ConcurrentHashMap.newKeySet();

  /**
   * A ledger that knows "finished" as delivered in full, and "everyone" as reached client by
   * client.
   */
  static final class SampleLedger extends ScriptedDelivered {
    @Override
    public Set<String> clientsOf(String campaignId) {
      return campaignId.equals("everyone") ? Set.copyOf(Samples.RESTAURANT_CLIENTS) : Set.of();
    }

    @Override
    public boolean finished(String campaignId) {
      return campaignId.equals("finished");
    }

    @Override
    public void nothingLeft(String campaignId, String fanOutId) {
      NOTHING_LEFT.add(campaignId);
    }
  }

  @Test
  void aCampaignTheLedgerSaysWasDeliveredInFullIsNotFannedOutAgain(TestPipeline p) {
    Campaign finished = Samples.campaign("finished", Samples.RESTAURANT, NOW - 10, NOW + 10);
    Campaign everyone = Samples.campaign("everyone", Samples.RESTAURANT, NOW - 10, NOW + 10);
    Campaign fresh = Samples.campaign("fresh", Samples.RESTAURANT, NOW - 10, NOW + 10);
    PCollection<Slice> slices =
        p.apply(
                "Campaigns",
                Create.of(List.of(finished, everyone, fresh))
                    .withCoder(Campaign.CampaignCoder.of()))
            .apply(
                new FanOutToSubscribers(
                    SubscriberSource.fromLookup(new SampleLookup()),
                    new SampleLedger(),
                    CampaignVersions.NONE,
                    () -> NOW * 1000L,
                    100,
                    slicesPerTurn(),
                    RunnerProfile.DIRECT,
                    null));
    PAssert.that(notificationsOf(slices))
        .containsInAnyOrder(notified(fresh, Samples.RESTAURANT_CLIENTS));
    p.run().waitUntilFinish();
    // A fan-out that found everyone reached says so, so the next restart skips it at once.
    assertEquals(Set.of("everyone"), NOTHING_LEFT);
  }

  /** The ledger's questions, and the campaigns they asked about, in this JVM. */
  private static final List<Integer> QUESTIONS = new java.util.concurrent.CopyOnWriteArrayList<>();

  /** {@link SampleLedger}, counting its questions. */
  static final class CountingLedger extends ScriptedDelivered {
    private final SampleLedger ledger = new SampleLedger();

    @Override
    public Set<String> clientsOf(String campaignId) {
      return ledger.clientsOf(campaignId);
    }

    @Override
    public java.util.Map<String, dev.campaignnotifier.delivery.DeliveryLedger.Before> beforeAmong(
        java.util.Collection<String> campaignIds) throws InterruptedException {
      QUESTIONS.add(campaignIds.size());
      return ledger.beforeAmong(campaignIds);
    }
  }

  /** Slices of 100 made of {@code rush}, arriving together (one bundle on the DirectRunner). */
  PCollection<Slice> fanOutTogether(
      TestPipeline p,
      List<Campaign> rush,
      SubscriberSource source,
      dev.campaignnotifier.delivery.Delivered delivered) {
    return fanOutTogether(p, rush, source, delivered, 100, null);
  }

  /** As above, in slices of {@code sliceSize}, big campaigns handed to {@code beside}. */
  PCollection<Slice> fanOutTogether(
      TestPipeline p,
      List<Campaign> rush,
      SubscriberSource source,
      dev.campaignnotifier.delivery.Delivered delivered,
      int sliceSize,
      DeliverNotifications.Beside beside) {
    return p.apply(
            org.apache.beam.sdk.testing.TestStream.create(Campaign.CampaignCoder.of())
                .addElements(rush.get(0), rush.subList(1, rush.size()).toArray(Campaign[]::new))
                .advanceWatermarkToInfinity())
        .apply(
            new FanOutToSubscribers(
                source,
                delivered,
                CampaignVersions.NONE,
                () -> NOW * 1000L,
                sliceSize,
                slicesPerTurn(),
                RunnerProfile.DIRECT,
                beside));
  }

  /**
   * A rush: 50 campaigns arriving together (one bundle) are one question to the ledger, not one
   * each (checked: 50 questions of one campaign when asked per campaign); ended ones are not asked.
   */
  @Test
  void aBundleOfCampaignsIsOneQuestionToTheLedger(TestPipeline p) {
    List<Campaign> rush = new java.util.ArrayList<>();
    List<String> expected = new java.util.ArrayList<>();
    for (int i = 0; i < 50; i++) {
      Campaign c = Samples.campaign("rush-" + i, Samples.RESTAURANT, NOW - 10, NOW + 10);
      rush.add(c);
      expected.addAll(notified(c, Samples.RESTAURANT_CLIENTS));
    }
    rush.add(Samples.campaign("ended", Samples.RESTAURANT, NOW - 10, NOW - 1));
    QUESTIONS.clear();
    PCollection<Slice> slices =
        fanOutTogether(
            p, rush, SubscriberSource.fromLookup(new SampleLookup()), new CountingLedger());
    PAssert.that(notificationsOf(slices)).containsInAnyOrder(expected);
    p.run().waitUntilFinish();
    assertEquals(List.of(50), QUESTIONS, "campaigns per question");
  }

  /** The subscriber questions of {@link CountingLookup} in this JVM: "first:N" or a restaurant. */
  private static final List<String> LOOKUPS = new java.util.concurrent.CopyOnWriteArrayList<>();

  /** A restaurant of {@link CountingLookup} followed by more than one answer holds. */
  private static final String BIG = "big-restaurant";

  private static final List<String> BIG_CLIENTS =
      java.util.stream.IntStream.range(0, 1_234).mapToObj(i -> String.format("b%05d", i)).toList();

  /** A restaurant of {@link CountingLookup} of more than one answer, fewer than 1,000. */
  private static final String MEDIUM = "medium-restaurant";

  private static final List<String> MEDIUM_CLIENTS =
      java.util.stream.IntStream.range(0, 700).mapToObj(i -> String.format("m%05d", i)).toList();

  /** {@link SampleLookup} and {@link #BIG}, counting its questions. */
  static final class CountingLookup implements SubscriberReader, Serializable {
    @Override
    public long forEachClient(String restaurantId, Consumer<String> client) {
      LOOKUPS.add(restaurantId);
      if (restaurantId.equals(BIG)) {
        BIG_CLIENTS.forEach(client);
        return BIG_CLIENTS.size();
      }
      if (restaurantId.equals(MEDIUM)) {
        MEDIUM_CLIENTS.forEach(client);
        return MEDIUM_CLIENTS.size();
      }
      return new SampleLookup().forEachClient(restaurantId, client);
    }

    @Override
    public java.util.Map<String, List<String>> firstClientsOf(
        java.util.Collection<String> restaurantIds, int limit) throws InterruptedException {
      LOOKUPS.add("first:" + restaurantIds.size());
      java.util.Map<String, List<String>> first = new java.util.HashMap<>();
      for (String id : restaurantIds) {
        List<String> clients = new java.util.ArrayList<>();
        if (id.equals(BIG)) {
          clients.addAll(BIG_CLIENTS.subList(0, limit));
        } else if (id.equals(MEDIUM)) {
          clients.addAll(MEDIUM_CLIENTS.subList(0, limit));
        } else {
          new SampleLookup().forEachClientAfter(id, null, limit, clients::add);
        }
        first.put(id, clients);
      }
      return first;
    }
  }

  /**
   * A rush in lookup mode: the subscribers of 60 campaigns of three restaurants arriving together
   * (one bundle) are one question, not one per campaign (checked: 61 questions of one restaurant
   * when asked per campaign); only the restaurant followed by more than one answer holds is read
   * again, whole; an ended campaign is not asked about.
   */
  @Test
  void aBundleOfCampaignsInLookupModeIsOneQuestionForTheirSubscribers(TestPipeline p) {
    org.junit.jupiter.api.Assumptions.assumeTrue(
        slicesPerTurn() == 0, "a fan-out in turns asks campaign by campaign");
    List<Campaign> rush = new java.util.ArrayList<>();
    List<String> expected = new java.util.ArrayList<>();
    for (int i = 0; i < 60; i++) {
      String restaurant = i % 2 == 0 ? Samples.RESTAURANT : Samples.OTHER_RESTAURANT;
      Campaign c = Samples.campaign("rush-" + i, restaurant, NOW - 10, NOW + 10);
      rush.add(c);
      expected.addAll(
          notified(
              c,
              restaurant.equals(Samples.RESTAURANT)
                  ? Samples.RESTAURANT_CLIENTS
                  : List.of(Samples.OTHER_CLIENT)));
    }
    Campaign big = Samples.campaign("big", BIG, NOW - 10, NOW + 10);
    rush.add(big);
    expected.addAll(notified(big, BIG_CLIENTS));
    rush.add(Samples.campaign("ended", "ended-restaurant", NOW - 10, NOW - 1));
    LOOKUPS.clear();
    PCollection<Slice> slices =
        fanOutTogether(
            p,
            rush,
            SubscriberSource.fromLookup(new CountingLookup()),
            ScriptedDelivered.of(campaignId -> Set.of()));
    PAssert.that(notificationsOf(slices)).containsInAnyOrder(expected);
    p.run().waitUntilFinish();
    assertEquals(List.of("first:3", BIG), LOOKUPS, "questions for subscribers");
  }

  /** The slices {@link RecordingBeside} was handed in this JVM. */
  private static final List<Slice> BESIDE = new java.util.concurrent.CopyOnWriteArrayList<>();

  /** Stands in for the delivery beside the bundles: runs each fan-out at once, keeps its slices. */
  static final class RecordingBeside implements DeliverNotifications.Beside {
    @Override
    public void fanOut(String campaignId, DeliverNotifications.FanOut fanOut) {
      try {
        fanOut.run(BESIDE::add);
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  /**
   * In lookup mode, given a delivery beside the bundles (Spark's local master), a campaign of more
   * than one slice is handed over whole and fanned out there, each of its clients once in numbered
   * slices; a campaign of one slice is fanned out in the bundle, whether the bundle's question read
   * all its subscribers (9) or not (700, more than the 500 it reads). Every fan-out is counted in
   * the step's metrics (those beside at the bundle's end).
   */
  @Test
  void aCampaignOfMoreThanOneSliceIsFannedOutBesideTheBundle(TestPipeline p) {
    org.junit.jupiter.api.Assumptions.assumeTrue(
        slicesPerTurn() == 0, "beside the bundles only where a fan-out is made in one go");
    Campaign small = Samples.campaign("small", Samples.RESTAURANT, NOW - 10, NOW + 10);
    Campaign medium = Samples.campaign("medium", MEDIUM, NOW - 10, NOW + 10);
    Campaign big = Samples.campaign("big", BIG, NOW - 10, NOW + 10);
    BESIDE.clear();
    PCollection<Slice> slices =
        fanOutTogether(
            p,
            List.of(small, big, medium),
            SubscriberSource.fromLookup(new CountingLookup()),
            ScriptedDelivered.of(campaignId -> Set.of()),
            1_000,
            new RecordingBeside());
    List<String> inBundle = new java.util.ArrayList<>(notified(small, Samples.RESTAURANT_CLIENTS));
    inBundle.addAll(notified(medium, MEDIUM_CLIENTS));
    PAssert.that(notificationsOf(slices)).containsInAnyOrder(inBundle);
    org.apache.beam.sdk.PipelineResult result = p.run();
    result.waitUntilFinish();
    assertEquals(
        notified(big, BIG_CLIENTS).stream().sorted().toList(),
        BESIDE.stream()
            .flatMap(slice -> slice.clients().stream().map(c -> message(slice.campaign(), c)))
            .sorted()
            .toList(),
        "the big campaign's notifications, beside the bundle");
    assertEquals(
        List.of("1 of 0", "2 of 2"),
        BESIDE.stream().map(slice -> slice.number() + " of " + slice.ofSlices()).toList());
    assertEquals(
        3L,
        result
            .metrics()
            .queryMetrics(
                org.apache.beam.sdk.metrics.MetricsFilter.builder()
                    .addNameFilter(
                        org.apache.beam.sdk.metrics.MetricNameFilter.named(
                            "campaigns", "fannedOut"))
                    .build())
            .getCounters()
            .iterator()
            .next()
            .getCommitted(),
        "campaigns fanned out");
  }

  @Test
  void activeCampaignNotifiesEachDistinctSubscriberOnceStampedWithNow(TestPipeline p) {
    Campaign c = Samples.campaign("c1", Samples.RESTAURANT, NOW - 10, NOW + 10);
    PAssert.that(fanOut(p, c)).containsInAnyOrder(notified(c, Samples.RESTAURANT_CLIENTS));
    p.run().waitUntilFinish();
  }

  @Test
  void replayedCampaignSkipsTheClientsAlreadyNotified(TestPipeline p) {
    Campaign c = Samples.campaign("replayed", Samples.RESTAURANT, NOW - 10, NOW + 10);
    PAssert.that(fanOut(p, c))
        .containsInAnyOrder(notified(c, Samples.RESTAURANT_CLIENTS.subList(2, 9)));
    p.run().waitUntilFinish();
  }

  @Test
  void campaignEndingExactlyNowIsStillActive(TestPipeline p) {
    Campaign c = Samples.campaign("c1", Samples.OTHER_RESTAURANT, NOW - 10, NOW);
    PAssert.that(fanOut(p, c)).containsInAnyOrder(message(c, Samples.OTHER_CLIENT));
    p.run().waitUntilFinish();
  }

  @Test
  void campaignMeetingAnUnloadedSnapshotIsLookedUpInsteadOfNotifyingNobody(TestPipeline p) {
    Campaign c = Samples.campaign("early", Samples.OTHER_RESTAURANT, NOW - 10, NOW + 10);
    PAssert.that(fanOut(p, SubscriberSnapshot.notLoaded(), c))
        .containsInAnyOrder(message(c, Samples.OTHER_CLIENT));
    p.run().waitUntilFinish();
  }

  @Test
  void endedCampaignAndRestaurantWithoutSubscribersNotifyNobody(TestPipeline p) {
    PAssert.that(
            fanOut(
                p,
                Samples.campaign("ended", Samples.RESTAURANT, NOW - 100, NOW - 1),
                Samples.campaign("lonely", "no-such-restaurant", NOW - 1, NOW + 1)))
        .empty();
    p.run().waitUntilFinish();
  }
}
