package dev.campaignnotifier.transforms;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.campaignnotifier.io.DeliveryLedger;
import dev.campaignnotifier.model.Arrival;
import dev.campaignnotifier.model.Campaign;
import dev.campaignnotifier.model.DeadLetter;
import dev.campaignnotifier.model.DeadLetterReason;
import dev.campaignnotifier.model.NotificationBatch;
import dev.campaignnotifier.subscribers.SubscriberSnapshot;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderException;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.util.CoderUtils;
import org.junit.jupiter.api.Test;

/**
 * Every coder whose values a runner keeps (in state, in Flink's checkpoints and savepoints, in
 * Spark's checkpoint directory), held to the bytes this build writes and reads: a change to a coder
 * that would leave a new build unable to read an old checkpoint fails here. When a format must
 * change, give it a new version that reads the old one too ({@link Campaign.CampaignCoder}), and
 * add the new bytes beside the old, never instead of them (docs/operations.md, Upgrading).
 */
class CodersGoldenTest {
  private static final Campaign CAMPAIGN =
      new Campaign(
          "r-1",
          "c-1",
          "50% off",
          "Ivanov",
          "ivanov@r.ru",
          1_700_000_000L,
          1_700_003_600L,
          1_699_999_000L);

  /** {@link #CAMPAIGN} as this build writes it: {@code 00}, the version {@code 01}, the fields. */
  private static final String CAMPAIGN_HEX =
      "000103722d3103632d3107353025206f6666064976616e6f760b6976616e6f7640722e727580e2cfaa0690fecfaa0698dacfaa06";

  private static <T> void golden(Coder<T> coder, T value, String hex) throws Exception {
    byte[] bytes = CoderUtils.encodeToByteArray(coder, value);
    assertEquals(hex, HexFormat.of().formatHex(bytes), "the bytes this build writes");
    assertEquals(value, CoderUtils.decodeFromByteArray(coder, HexFormat.of().parseHex(hex)));
  }

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
            ScheduleCampaigns.Released.ReleasedCoder.class, -7945574765490142406L,
            NotifyLateSubscribers.RestaurantCoder.class, 3181873824816022097L,
            NotifyLateSubscribers.EventCoder.class, -4360303664184719249L,
            AskDelivered.AskedCoder.class, -3153613981087336340L,
            NotificationBatch.BatchCoder.class, -3318427873210591992L,
            SubscriberSnapshot.SnapshotCoder.class, 9017890246060009202L,
            DeadLetter.DeadLetterCoder.class, 8305988043861644769L,
            Arrival.ArrivalCoder.class, 2839814037302383497L);
    pinned.forEach(
        (coder, uid) ->
            assertEquals(
                uid,
                java.io.ObjectStreamClass.lookup(coder).getSerialVersionUID(),
                coder.getName()));
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
  void whatTheScheduleKeepsOfAReleasedCampaign() throws Exception {
    golden(
        ScheduleCampaigns.Released.ReleasedCoder.of(),
        ScheduleCampaigns.Released.of(CAMPAIGN),
        "80e2cfaa0690fecfaa0698dacfaa06f78b938383f9c4c9ee01");
  }

  @Test
  void whatTheLateStepKeepsOfARestaurant() throws Exception {
    golden(
        NotifyLateSubscribers.RestaurantCoder.of(),
        new NotifyLateSubscribers.Restaurant(
            List.of(CAMPAIGN),
            Map.of("client-1", 1_700_000_001_000L),
            Map.of("c-1", List.of("client-1")),
            Map.of("c-1", List.of("client-2"))),
        "00000001000103722d3103632d3107353025206f6666064976616e6f760b6976616e6f7640722e727580e2cfaa0690fecfaa0698dacfaa060000000108636c69656e742d31e8d795ffbc310000000103632d310000000108636c69656e742d310000000103632d310000000108636c69656e742d32");
  }

  @Test
  void aLateStepsEvent() throws Exception {
    golden(
        NotifyLateSubscribers.EventCoder.of(),
        NotifyLateSubscribers.Event.released(CAMPAIGN),
        "01000103722d3103632d3107353025206f6666064976616e6f760b6976616e6f7640722e727580e2cfaa0690fecfaa0698dacfaa06");
    golden(
        NotifyLateSubscribers.EventCoder.of(),
        NotifyLateSubscribers.Event.subscribed(List.of("client-1")),
        "000000000108636c69656e742d31");
  }

  @Test
  void aFanOutsCursor() throws Exception {
    golden(
        SerializableCoder.of(FanOutTurns.Cursor.class),
        new FanOutTurns.Cursor("f-1", 1_700_000_000L, "client-9", 3, 30, 30, true, false),
        "aced0005737200326465762e63616d706169676e6e6f7469666965722e7472616e73666f726d732e46616e4f75745475726e7324437572736f7200000000000000000200085a000e636865636b44656c6976657265644a0007636c69656e74735a0004646f6e654a000473656e74490006736c696365734a0007747269676765724c000561667465727400124c6a6176612f6c616e672f537472696e673b4c000866616e4f7574496471007e0001787001000000000000001e00000000000000001e00000003000000006553f100740008636c69656e742d39740003662d31");
  }

  @Test
  void aCampaignAskedAbout() throws Exception {
    golden(
        AskDelivered.AskedCoder.of(),
        new AskDelivered.Asked(CAMPAIGN, DeliveryLedger.Before.SOME),
        "000103722d3103632d3107353025206f6666064976616e6f760b6976616e6f7640722e727580e2cfaa0690fecfaa0698dacfaa0601");
  }

  @Test
  void aSlice() throws Exception {
    golden(
        NotificationBatch.BatchCoder.of(),
        new NotificationBatch(CAMPAIGN, 1_700_000_100L, List.of("a", "b"), "f-1", 2, 5),
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
