package dev.campaignnotifier.model;

import static dev.campaignnotifier.model.Golden.CAMPAIGN;
import static dev.campaignnotifier.model.Golden.CAMPAIGN_HEX;
import static dev.campaignnotifier.model.Golden.golden;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.campaignnotifier.subscribers.SubscriberSnapshot;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.coders.CoderException;
import org.apache.beam.sdk.util.CoderUtils;
import org.junit.jupiter.api.Test;

/**
 * The model's coders whose values a runner keeps (in state, in Flink's checkpoints and savepoints,
 * in Spark's checkpoint directory), held to the bytes this build writes and reads: a change to a
 * coder that would leave a new build unable to read an old checkpoint fails here ({@link Golden};
 * each stage's own state has a golden test in its package).
 */
class CodersGoldenTest {
  @Test
  void aCampaign() throws Exception {
    golden(Campaign.CampaignCoder.of(), CAMPAIGN, CAMPAIGN_HEX);
  }

  /**
   * What builds before the format had a version wrote (until 2026-12-06; these bytes are that
   * coder's, at commit 6204ce9): still read.
   */
  @Test
  void aCampaignOfTheFirstFormat() throws Exception {
    String firstFormat =
        "03722d3103632d3107353025206f6666064976616e6f760b6976616e6f7640722e7275"
            + "80e2cfaa0690fecfaa0698dacfaa06";
    assertEquals(
        CAMPAIGN,
        CoderUtils.decodeFromByteArray(
            Campaign.CampaignCoder.of(), HexFormat.of().parseHex(firstFormat)));
  }

  /**
   * The first format with a restaurant id of 200 bytes, whose length takes two bytes: written as
   * that coder wrote it, field by field with Beam's string and var-long coders.
   */
  @Test
  void aCampaignOfTheFirstFormatWithALongRestaurantId() throws Exception {
    Campaign c = new Campaign("r".repeat(200), "c-1", "x", "o", "oc", 1L, 2L, 3L);
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    for (String field : List.of(c.restaurantId(), c.advCampaignId(), "x", "o", "oc")) {
      org.apache.beam.sdk.coders.StringUtf8Coder.of().encode(field, out);
    }
    for (long time : new long[] {1L, 2L, 3L}) {
      org.apache.beam.sdk.coders.VarLongCoder.of().encode(time, out);
    }
    assertEquals(c, CoderUtils.decodeFromByteArray(Campaign.CampaignCoder.of(), out.toByteArray()));
  }

  /**
   * Flink keeps each state's coder, Java serialized, beside the state: a coder class whose
   * serialVersionUID changed cannot be read back from an earlier build's checkpoint or savepoint.
   * These are the values the classes had (the campaign's: before its format had a version).
   */
  @Test
  void everyCoderKeptInStateKeepsItsSerialVersionUid() {
    Map<Class<?>, Long> pinned =
        Map.of(
            Campaign.CampaignCoder.class, 2977821691801934384L,
            Slice.SliceCoder.class, -3318427873210591992L,
            SubscriberSnapshot.SnapshotCoder.class, 9017890246060009202L,
            DeadLetter.DeadLetterCoder.class, 8305988043861644769L,
            Arrival.ArrivalCoder.class, 2839814037302383497L);
    pinned.forEach(Golden::pinned);
  }

  @Test
  void aCampaignOfANewerFormatIsRefusedSayingWhatToDo() {
    byte[] newer = HexFormat.of().parseHex("0002");
    CoderException e =
        assertThrows(
            CoderException.class,
            () -> CoderUtils.decodeFromByteArray(Campaign.CampaignCoder.of(), newer));
    assertTrue(e.getMessage().contains("without FLINK_RESTORE"), e.getMessage());
  }

  @Test
  void aSlice() throws Exception {
    golden(
        Slice.SliceCoder.of(),
        new Slice(CAMPAIGN, 1_700_000_100L, List.of("a", "b"), "f-1", 2, 5),
        "000103722d3103632d3107353025206f6666064976616e6f760b6976616e6f7640722e727580e2cfaa0690fecfaa0698dacfaa06e4e2cfaa0600000002016101620103662d310205");
  }

  @Test
  void anArrivalWithItsLetter() throws Exception {
    DeadLetter letter =
        new DeadLetter(
            DeadLetterReason.START_AFTER_END, "m", "campaigns", 1, 2, 3, null, new byte[] {7});
    golden(
        Arrival.ArrivalCoder.of(),
        new Arrival(CAMPAIGN, letter),
        "000103722d3103632d3107353025206f6666064976616e6f760b6976616e6f7640722e727580e2cfaa0690fecfaa0698dacfaa06010f53544152545f41465445525f454e44016d0963616d706169676e7301020300010107");
    golden(
        Arrival.ArrivalCoder.of(),
        Arrival.of(CAMPAIGN),
        "000103722d3103632d3107353025206f6666064976616e6f760b6976616e6f7640722e727580e2cfaa0690fecfaa0698dacfaa0600");
  }

  @Test
  void aSubscriberSnapshot() throws Exception {
    golden(
        SubscriberSnapshot.SnapshotCoder.of(),
        SubscriberSnapshot.builder().add("r-1", "client-1").add("r-1", "client-2").build(42),
        "2a020103722d310208636c69656e742d3108636c69656e742d32");
  }
}
