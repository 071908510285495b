package dev.campaignnotifier.campaigns;

import static dev.campaignnotifier.model.Golden.CAMPAIGN;
import static dev.campaignnotifier.model.Golden.golden;
import static dev.campaignnotifier.model.Golden.pinned;

import org.junit.jupiter.api.Test;

/**
 * What the schedule keeps of a campaign, held to its bytes ({@link
 * dev.campaignnotifier.model.Golden}).
 */
class ScheduleCampaignsGoldenTest {
  @Test
  void itsCodersKeepTheirSerialVersionUids() {
    pinned(ScheduleCampaigns.Released.ReleasedCoder.class, -7945574765490142406L);
  }

  @Test
  void whatTheScheduleKeepsOfAReleasedCampaign() throws Exception {
    golden(
        ScheduleCampaigns.Released.ReleasedCoder.of(),
        ScheduleCampaigns.Released.of(CAMPAIGN),
        "80e2cfaa0690fecfaa0698dacfaa06f78b938383f9c4c9ee01");
  }
}
