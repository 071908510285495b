package dev.campaignnotifier.campaigns;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.campaignnotifier.Samples;
import dev.campaignnotifier.local.SampleCampaign;
import dev.campaignnotifier.model.Arrival;
import dev.campaignnotifier.model.DeadLetter;
import dev.campaignnotifier.model.DeadLetterReason;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.beam.sdk.coders.ByteArrayCoder;
import org.apache.beam.sdk.coders.NullableCoder;
import org.apache.beam.sdk.io.kafka.KafkaRecord;
import org.apache.beam.sdk.io.kafka.KafkaRecordCoder;
import org.apache.beam.sdk.io.kafka.KafkaTimestampType;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestPipelineExtension;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(TestPipelineExtension.class)
class ParseCampaignsTest {
  private static final byte[] KEY = "key".getBytes(StandardCharsets.UTF_8);

  static KafkaRecord<byte[], byte[]> record(long offset, byte[] key, byte[] value) {
    return new KafkaRecord<>(
        "campaigns",
        0,
        offset,
        1_700_000_000_000L,
        KafkaTimestampType.CREATE_TIME,
        null,
        key,
        value);
  }

  static Create.Values<KafkaRecord<byte[], byte[]>> records(
      KafkaRecord<byte[], byte[]>... records) {
    return Create.of(java.util.Arrays.asList(records))
        .withCoder(
            KafkaRecordCoder.of(
                NullableCoder.of(ByteArrayCoder.of()), NullableCoder.of(ByteArrayCoder.of())));
  }

  @Test
  void goodMessageBecomesACampaignAndNoDeadLetter(TestPipeline p) {
    PCollectionTuple out =
        p.apply(records(record(0, KEY, Samples.campaignBytes(1659203516L, 2659207116L))))
            .apply(new ParseCampaigns(65_536, 4_096));
    PAssert.that(out.get(ParseCampaigns.CAMPAIGNS))
        .containsInAnyOrder(Arrival.of(Samples.briefCampaign()));
    PAssert.that(out.get(ParseCampaigns.DEAD_LETTERS)).empty();
    p.run().waitUntilFinish();
  }

  /**
   * A replay re-reads the earlier run's records: a campaign the ledger showed delivered in full is
   * only to be known as active; the same campaign after the earlier run's offset, or another one,
   * goes on to be scheduled.
   */
  @Test
  void aReplayedCampaignDeliveredInFullIsSetAside(TestPipeline p) {
    String id = Samples.briefCampaign().advCampaignId();
    byte[] campaign = Samples.campaignBytes(1659203516L, 2659207116L);
    PCollectionTuple out =
        p.apply(records(record(3, KEY, campaign), record(7, KEY, campaign)))
            .apply(new ParseCampaigns(65_536, 4_096, Map.of(0, 5L), Set.of(id)));
    PAssert.that(out.get(ParseCampaigns.DELIVERED_BEFORE))
        .containsInAnyOrder(Samples.briefCampaign());
    PAssert.that(out.get(ParseCampaigns.CAMPAIGNS))
        .containsInAnyOrder(Arrival.of(Samples.briefCampaign()));
    p.run().waitUntilFinish();
  }

  /**
   * A campaign whose end is before its start is not refused here: it is how a restaurant's app
   * cancels a campaign still to start ("end it now"), so it goes to the schedule with the dead
   * letter it is if no version of it is known there; read again by a replay, without one.
   */
  @Test
  void aCampaignEndingBeforeItsStartGoesToTheScheduleWithItsLetter(TestPipeline p) {
    byte[] endedNow = Samples.campaignBytes(2659207116L, 1659203516L);
    PCollectionTuple out =
        p.apply(records(record(3, KEY, endedNow), record(7, KEY, endedNow)))
            .apply(new ParseCampaigns(65_536, 4_096, Map.of(0, 5L), Set.of()));
    PAssert.that(out.get(ParseCampaigns.DEAD_LETTERS)).empty();
    PAssert.that(out.get(ParseCampaigns.CAMPAIGNS))
        .satisfies(
            arrivals -> {
              List<Long> lettered = new ArrayList<>();
              int count = 0;
              for (Arrival a : arrivals) {
                count++;
                assertEquals(
                    SampleCampaign.campaign(
                        Samples.CAMPAIGN_ID,
                        Samples.RESTAURANT,
                        2659207116L,
                        1659203516L,
                        Samples.CREATED),
                    a.campaign());
                if (a.letter() != null) {
                  assertEquals(DeadLetterReason.START_AFTER_END, a.letter().reason());
                  assertArrayEquals(endedNow, a.letter().value());
                  lettered.add(a.letter().offset());
                }
              }
              assertEquals(2, count);
              assertEquals(List.of(7L), lettered, "offset 3 was read before: no letter again");
              return null;
            });
    p.run().waitUntilFinish();
  }

  @Test
  void badMessagesBecomeDeadLettersWithOriginalBytesAndPosition(TestPipeline p) {
    byte[] notUtf8 = {(byte) 0xFF, (byte) 0xFE};
    byte[] notJson = "hello".getBytes(StandardCharsets.UTF_8);
    PCollectionTuple out =
        p.apply(
                records(
                    record(1, KEY, notUtf8),
                    record(2, null, null),
                    record(3, KEY, Samples.campaignBytes(1659203516L, 2659207116L)),
                    record(4, null, notJson)))
            .apply(new ParseCampaigns(65_536, 4_096));
    PAssert.that(out.get(ParseCampaigns.CAMPAIGNS))
        .containsInAnyOrder(Arrival.of(Samples.briefCampaign()));
    PAssert.that(out.get(ParseCampaigns.DEAD_LETTERS))
        .containsInAnyOrder(
            new DeadLetter(
                DeadLetterReason.NOT_UTF8,
                "the value is not valid UTF-8",
                "campaigns",
                0,
                1,
                1_700_000_000_000L,
                KEY,
                notUtf8),
            new DeadLetter(
                DeadLetterReason.TOMBSTONE,
                "the record has no value (tombstone)",
                "campaigns",
                0,
                2,
                1_700_000_000_000L,
                null,
                null),
            new DeadLetter(
                DeadLetterReason.NOT_JSON,
                "not valid JSON: Unrecognized token 'hello': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')",
                "campaigns",
                0,
                4,
                1_700_000_000_000L,
                null,
                notJson));
    p.run().waitUntilFinish();
  }
}
