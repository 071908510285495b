package dev.campaignnotifier.fanout;

import static dev.campaignnotifier.model.Golden.CAMPAIGN;
import static dev.campaignnotifier.model.Golden.golden;
import static dev.campaignnotifier.model.Golden.pinned;

import dev.campaignnotifier.delivery.DeliveryLedger;
import org.junit.jupiter.api.Test;

/**
 * What the fan-out keeps of a campaign and of a fan-out in turns, held to its bytes ({@link
 * dev.campaignnotifier.model.Golden}).
 */
class FanOutGoldenTest {
  @Test
  void itsCodersKeepTheirSerialVersionUids() {
    pinned(AskDelivered.AskedCoder.class, -3153613981087336340L);
    pinned(FanOutTurns.CursorCoder.class, 1L);
  }

  @Test
  void aCampaignAskedAbout() throws Exception {
    golden(
        AskDelivered.AskedCoder.of(),
        new AskDelivered.Asked(CAMPAIGN, DeliveryLedger.Before.SOME),
        "000103722d3103632d3107353025206f6666064976616e6f760b6976616e6f7640722e727580e2cfaa0690fecfaa0698dacfaa0601");
  }

  /** With its restaurant's clients: the answer's high bit says they follow. */
  @Test
  void aCampaignAskedAboutWithItsClients() throws Exception {
    golden(
        AskDelivered.AskedCoder.of(),
        new AskDelivered.Asked(CAMPAIGN, DeliveryLedger.Before.SOME, java.util.List.of("c1", "c2")),
        "000103722d3103632d3107353025206f6666064976616e6f760b6976616e6f7640722e727580e2cfaa0690fecfaa0698dacfaa06"
            + "8100000002026331026332");
  }

  @Test
  void aFanOutsCursor() throws Exception {
    golden(
        FanOutTurns.CursorCoder.of(),
        new FanOutTurns.Cursor("f-1", 1_700_000_000L, "client-9", 3, 30, 30, true, false),
        "010103662d3180e2cfaa060108636c69656e742d39031e1e01");
  }
}
