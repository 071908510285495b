package dev.campaignnotifier.fanout;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.campaignnotifier.Samples;
import dev.campaignnotifier.campaigns.CampaignVersions;
import dev.campaignnotifier.delivery.ScriptedDelivered;
import dev.campaignnotifier.model.Campaign;
import dev.campaignnotifier.model.Slice;
import dev.campaignnotifier.runner.RunnerProfile;
import dev.campaignnotifier.subscribers.SubscriberSnapshot;
import dev.campaignnotifier.subscribers.SubscriberSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.View;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionView;
import org.junit.jupiter.api.Test;

/**
 * Every test of {@link FanOutToSubscribersTest} again with the fan-out made one slice per turn
 * ({@link PacedFanOutFn}), which must give the same notifications, numbering and ledger marks, plus
 * a campaign of many turns.
 */
class PacedFanOutTest extends FanOutToSubscribersTest {
  private static final long NOW = 1_700_000_000L;

  @Override
  int slicesPerTurn() {
    return 1;
  }

  @Test
  void aFanOutOfManyTurnsNumbersItsSlicesAsOneFanOut(TestPipeline p) {
    SubscriberSnapshot.Builder b = SubscriberSnapshot.builder();
    List<String> clients = new ArrayList<>();
    for (int i = 0; i < 1_001; i++) {
      clients.add(String.format("client-%05d", i));
      b.add("big", clients.get(i));
    }
    PCollectionView<SubscriberSnapshot> view =
        p.apply("Snapshot", Create.of(b.build(1)).withCoder(SubscriberSnapshot.SnapshotCoder.of()))
            .apply(View.asSingleton());
    Campaign c = Samples.campaign("big-one", "big", NOW - 10, NOW + 10);
    PCollection<Slice> slices =
        p.apply("Campaigns", Create.of(List.of(c)).withCoder(Campaign.CampaignCoder.of()))
            .apply(
                new FanOutToSubscribers(
                    SubscriberSource.fromSnapshot(view, new SampleLookup()),
                    ScriptedDelivered.of(campaignId -> Set.of()),
                    CampaignVersions.NONE,
                    () -> NOW * 1000L,
                    100,
                    3,
                    RunnerProfile.DIRECT,
                    null));
    PAssert.that(slices)
        .satisfies(
            all -> {
              List<Slice> list = new ArrayList<>();
              all.forEach(list::add);
              assertOneFanOutOf11Slices(list, clients);
              return null;
            });
    p.run().waitUntilFinish();
  }

  /**
   * 1,001 clients in slices of 100, made in turns, are one fan-out: one id, one trigger time,
   * slices 1 to 11 with only the last saying 11, every client once.
   */
  static void assertOneFanOutOf11Slices(List<Slice> list, List<String> clients) {
    assertEquals(11, list.size(), "1,001 clients in slices of 100");
    assertEquals(1, list.stream().map(Slice::fanOutId).distinct().count());
    assertEquals(
        List.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11),
        list.stream().map(Slice::number).sorted().toList());
    assertEquals(List.of(11), list.stream().map(Slice::ofSlices).filter(n -> n > 0).toList());
    assertEquals(clients, list.stream().flatMap(s -> s.clients().stream()).sorted().toList());
    assertEquals(1, list.stream().map(Slice::triggerEpochSecond).distinct().count());
  }
}
