package dev.campaignnotifier.model;

import dev.campaignnotifier.Samples;
import dev.campaignnotifier.subscribers.SubscriberSnapshot;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.beam.sdk.testing.CoderProperties;
import org.junit.jupiter.api.Test;

class CodersTest {
  @Test
  void campaignRoundTripsDeterministically() throws Exception {
    Campaign c = Samples.briefCampaign();
    CoderProperties.coderDecodeEncodeEqual(Campaign.CampaignCoder.of(), c);
    CoderProperties.coderDeterministic(Campaign.CampaignCoder.of(), c, Samples.briefCampaign());
  }

  @Test
  void sliceRoundTrips() throws Exception {
    CoderProperties.coderDecodeEncodeEqual(
        Slice.SliceCoder.of(),
        new Slice(Samples.briefCampaign(), 1_700_000_000L, List.of("a", "b", "c")));
  }

  @Test
  void deadLetterKeepsNullApartFromEmpty() throws Exception {
    CoderProperties.coderDecodeEncodeEqual(
        DeadLetter.DeadLetterCoder.of(),
        new DeadLetter(DeadLetterReason.TOMBSTONE, "m", "t", 0, 1, 2, null, null));
    CoderProperties.coderDecodeEncodeEqual(
        DeadLetter.DeadLetterCoder.of(),
        new DeadLetter(
            DeadLetterReason.EMPTY_VALUE,
            "m",
            "t",
            3,
            4,
            5,
            new byte[0],
            "v".getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void snapshotRoundTripsAndEncodesEqualSnapshotsEqually() throws Exception {
    SubscriberSnapshot a =
        SubscriberSnapshot.builder().add("r1", "c2").add("r1", "c1").add("r2", "c3").build(42);
    SubscriberSnapshot b =
        SubscriberSnapshot.builder().add("r2", "c3").add("r1", "c1").add("r1", "c2").build(42);
    CoderProperties.coderDecodeEncodeEqual(SubscriberSnapshot.SnapshotCoder.of(), a);
    CoderProperties.coderDeterministic(SubscriberSnapshot.SnapshotCoder.of(), a, b);
  }
}
